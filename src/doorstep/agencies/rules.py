"""Which agencies may use Doorstep: local police and fire only, federal agencies never (I10).

A reviewer verifies every agency; this rule refuses, before anyone reviews it, an application
whose name says it is federal, however the name is spelt (``policy_text.words``: "F.B.I.",
full-width or Cyrillic letters, soft hyphens), and one whose name looks like an existing
agency's (``policy_text.name_key``), so the public directory never shows two agencies that
read alike.
"""

from __future__ import annotations

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.requests.rules_policy import AGENCY_LEVELS
from doorstep.text.normalize import words

__all__ = [
    "CONTACT_MAX_LENGTH",
    "FEDERAL_EXPLANATION",
    "NAME_MAX_LENGTH",
    "check_agency_level",
    "check_agency_name",
    "is_federal_agency",
]

#: Longest agency name and contact, in the form, the API and the table alike.
NAME_MAX_LENGTH = 120
CONTACT_MAX_LENGTH = 254

_FEDERAL_WORDS = frozenset(
    """federal fbi ice dea atf cbp dhs hsi usms uscis doj fema usbp usss""".split()
)
_FEDERAL_PHRASES = (
    "homeland security",
    "border patrol",
    "customs and border protection",
    "immigration and customs enforcement",
    "immigration enforcement",
    "drug enforcement administration",
    "alcohol tobacco firearms",
    "bureau of investigation",
    "marshals service",
    "us marshals",
    "u s marshals",
    "secret service",
    "department of justice",
    "united states",
    "u s department",
    "us department",
)

FEDERAL_EXPLANATION = (
    "federal agencies are not eligible: Doorstep serves local police and fire agencies only"
)


def is_federal_agency(name: str) -> bool:
    """Return whether an agency's name says it is a federal agency."""
    tokens = words(name)
    joined = f" {' '.join(tokens)} "
    return any(t in _FEDERAL_WORDS for t in tokens) or any(
        f" {phrase} " in joined for phrase in _FEDERAL_PHRASES
    )


def check_agency_level(level: str) -> str:
    """The level, if it is one; a federal agency is refused (reason ``federal_agency``)."""
    if level not in AGENCY_LEVELS:
        raise InvalidInput("the level is one of " + ", ".join(AGENCY_LEVELS), field="level")
    if level == "federal":
        raise PolicyRefused(FEDERAL_EXPLANATION, field="level", extra={"reason": "federal_agency"})
    return level


def check_agency_name(name: str) -> None:
    """Raise ``PolicyRefused`` (reason ``federal_agency``) for a federal agency's name."""
    if is_federal_agency(name):
        raise PolicyRefused(FEDERAL_EXPLANATION, field="name", extra={"reason": "federal_agency"})
