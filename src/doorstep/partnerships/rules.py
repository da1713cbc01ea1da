"""Partnership programmes (devices, discounts, credits) may never buy footage or sign-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.text.normalize import fold


class ProgrammeKind(StrEnum):
    """What a partner gives residents."""

    DONATED_DEVICES = "donated_devices"
    DISCOUNT_CODES = "discount_codes"
    CREDITS = "credits"


class Condition(StrEnum):
    """A condition a programme may attach to what it gives."""

    RESIDENT_OF_AREA = "resident_of_area"
    INCOME_QUALIFIED = "income_qualified"
    ONE_PER_HOUSEHOLD = "one_per_household"
    SHARE_FOOTAGE = "share_footage"
    JOIN_REQUEST_PROGRAMME = "join_request_programme"
    PAID_PLAN = "paid_plan"


#: Conditions that would trade a device or discount for footage, participation or money.
FORBIDDEN_CONDITIONS = {
    Condition.SHARE_FOOTAGE: "sharing footage",
    Condition.JOIN_REQUEST_PROGRAMME: "joining a request programme",
    Condition.PAID_PLAN: "signing up for a paid plan",
}


@dataclass(frozen=True, slots=True)
class PartnershipTerms:
    """A programme's terms as published in the public directory."""

    partner_id: str
    name: str
    kind: ProgrammeKind
    terms_text: str
    conditions: frozenset[Condition] = frozenset()


_SENTENCE = re.compile(r"[^.!?;\n]+")
_CONDITIONAL = re.compile(
    r"\b(?:must|required?|requires|requirement|condition(?:s|al)?|in\s+(?:exchange|return)"
    r"|only\s+(?:if|when|for)|provided\s+that|unless|agrees?\s+to|obligat\w+|eligib\w+"
    r"|in\s+order\s+to|have\s+to|has\s+to|will\s+need\s+to|needs?\s+to|subject\s+to)\b",
    re.IGNORECASE,
)
_PERMISSIVE = re.compile(
    r"\b(?:not|never|no\s+longer)\s+(?:be\s+)?(?:required|a\s+condition|obliged|obligated|conditional)"
    r"|\bno\s+(?:obligation|requirement|condition)s?\b|\bregardless\s+of\b|\bis\s+optional\b"
    r"|\bare\s+optional\b|\bfree\s+to\s+(?:decline|refuse|say\s+no)\b|\bdoes\s+not\s+depend\b",
    re.IGNORECASE,
)
_TOPICS = {
    Condition.SHARE_FOOTAGE: re.compile(
        r"\b(?:shar\w*|provid\w*|upload\w*|giv\w*|send\w*|hand\w*\s+over)\b.{0,40}"
        r"\b(?:footage|videos?|recordings?|clips?|camera\s+access)\b",
        re.IGNORECASE,
    ),
    Condition.JOIN_REQUEST_PROGRAMME: re.compile(
        r"\b(?:join\w*|enrol\w*|enroll\w*|opt\w*\s+in(?:to)?|sign\w*\s+up|register\w*|participat\w*)"
        r"\b.{0,40}\b(?:requests?|rfas?|programmes?|programs?|registr(?:y|ies)|camera\s+maps?)\b",
        re.IGNORECASE,
    ),
    Condition.PAID_PLAN: re.compile(
        r"\b(?:paid\s+plans?|subscri\w+|premium|monthly\s+(?:plan|fee)|annual\s+(?:plan|fee)"
        r"|protect\s+plan)\b",
        re.IGNORECASE,
    ),
}


def conditions_in_text(text: str) -> set[Condition]:
    """Return the forbidden conditions the terms text imposes, sentence by sentence.

    The text is read folded (``policy_text.fold``), so a soft hyphen or a Cyrillic letter inside
    "share footage" changes nothing.
    """
    found: set[Condition] = set()
    for sentence in _SENTENCE.findall(fold(text)):
        if not _CONDITIONAL.search(sentence) or _PERMISSIVE.search(sentence):
            continue
        found.update(c for c, pattern in _TOPICS.items() if pattern.search(sentence))
    return found


def check_partnership(terms: PartnershipTerms) -> PartnershipTerms:
    """Return the terms if they attach no forbidden condition; raise ``PolicyRefused`` otherwise."""
    if not terms.name.strip() or not terms.terms_text.strip():
        raise InvalidInput("a programme needs a name and published terms", field="terms_text")
    imposed = {c for c in terms.conditions if c in FORBIDDEN_CONDITIONS}
    imposed |= conditions_in_text(terms.terms_text)
    if imposed:
        ordered = sorted(imposed, key=list(Condition).index)
        names = ", ".join(FORBIDDEN_CONDITIONS[c] for c in ordered)
        raise PolicyRefused(
            f"a device, discount or credit may not depend on {names}",
            field="conditions",
            extra={"reason": "conditional_benefit", "conditions": [c.value for c in ordered]},
        )
    return terms
