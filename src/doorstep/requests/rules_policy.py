"""Who may ask residents for footage, and for what: agency levels and offence categories (I10).

Only local agencies (a city's, town's or county's police or fire service) may send requests;
state agencies may hold a verified account but never ask residents, and federal agencies are
not eligible at all. Every request names one offence category from the fixed public list below,
so what agencies ask for can be counted and compared, not only read in free text.
"""

from __future__ import annotations

from doorstep.errors import InvalidInput, PolicyRefused

__all__ = [
    "AGENCY_LEVELS",
    "LEVEL_LABELS",
    "OFFENCE_CATEGORIES",
    "REQUESTING_LEVELS",
    "check_agency_may_request",
    "check_offence_category",
    "offence_label",
]

#: An agency's level, from nearest the resident to furthest: what a reviewer confirms.
AGENCY_LEVELS: tuple[str, ...] = ("local", "state", "federal")
LEVEL_LABELS: dict[str, str] = {
    "local": "Local (city, town or county)",
    "state": "State",
    "federal": "Federal",
}
#: The levels that may send requests to residents.
REQUESTING_LEVELS = frozenset({"local"})

#: Every offence category a request may name, key and label, in the order shown.
OFFENCE_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("burglary", "Burglary or break-in"),
    ("theft", "Theft, including package theft"),
    ("vehicle_crime", "Vehicle theft or break-in"),
    ("vandalism", "Vandalism or arson"),
    ("assault", "Assault or robbery"),
    ("homicide", "Homicide"),
    ("sexual_offence", "Sexual offence"),
    ("traffic_collision", "Traffic collision or hit-and-run"),
    ("missing_person", "Missing person"),
    ("fire", "Fire or fire investigation"),
    ("other_violent", "Other violent offence"),
    ("other_property", "Other property offence"),
)
_LABELS = dict(OFFENCE_CATEGORIES)

LEVEL_EXPLANATION = (
    "only local agencies (a city's, town's or county's police or fire service) may send "
    "requests to residents; state and federal agencies may not"
)


def check_agency_may_request(level: str) -> None:
    """Raise ``PolicyRefused`` (reason ``agency_level``) unless a ``level`` agency may request."""
    if level not in REQUESTING_LEVELS:
        raise PolicyRefused(
            f"{LEVEL_EXPLANATION}; this agency is verified as {level}",
            field="agency",
            extra={"reason": "agency_level"},
        )


def check_offence_category(category: str) -> str:
    """The category's key, or ``InvalidInput`` naming the list when it is not on it."""
    key = category.strip()
    if key not in _LABELS:
        raise InvalidInput(
            "choose the offence category from the public list: " + ", ".join(_LABELS),
            field="offence_category",
        )
    return key


def offence_label(category: str) -> str:
    """How a category reads on a page; a request from before categories reads as such."""
    return _LABELS.get(category, "Not recorded (sent before categories)")
