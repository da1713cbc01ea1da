"""March the month or a march: which "march" in a request names a date (see ``assembly``)."""

from __future__ import annotations

import re

_MONTHS = frozenset(
    """january february april may june july august september october november december jan feb
    apr jun jul aug sep sept oct nov dec""".split()
)
_DATE_NUMBER = re.compile(r"[0-9]{1,4}(?:st|nd|rd|th)?")
_DAY_NUMBER = re.compile(r"[0-9]{1,2}(?:st|nd|rd|th)?")
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday weekend".split())
# Words that take a date but never a march.
_DATE_ONLY = frozenset("since until till during throughout before after by mid every each".split())
# Words that take a date, and a march only after an article ("the last march", "an early march").
_DATE_MOSTLY = frozenset("in from early late last next".split())
_ARTICLES = frozenset("a an the this that their our his her its".split())
# "End of March", "the ides of March".
_PART_OF = frozenset("end start beginning middle month ides rest first last week".split())
# What follows a march, not a month: "in March against the cuts", "since March through town".
_MARCH_GOES = frozenset(
    """on against through along past down to toward towards for downtown organised organized
    route itself across around""".split()
)
# An incident named by its month: "the March burglary".
_INCIDENTS = frozenset(
    """burglary burglaries break theft thefts robbery robberies incident incidents fire fires
    attack attacks assault assaults shooting stabbing vandalism arson case cases report""".split()
)
_RANGE = frozenset("to and or through thru until till".split())


def _is_month(tokens: list[str], i: int) -> bool:
    """Whether ``tokens[i]`` ("march") names the month."""
    before = tokens[i - 1] if i >= 1 else ""
    before2 = tokens[i - 2] if i >= 2 else ""
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    after2 = tokens[i + 2] if i + 2 < len(tokens) else ""
    if _DATE_NUMBER.fullmatch(after) or _DAY_NUMBER.fullmatch(before):
        return True
    if before == "of" and (_DAY_NUMBER.fullmatch(before2) or before2 in _PART_OF):
        return True
    if after in _INCIDENTS:
        return True
    if before in _RANGE and before2 in _MONTHS:
        return True
    if after in _RANGE and (after2 in _MONTHS or _DATE_NUMBER.fullmatch(after2)):
        return True
    dated = before in _DATE_ONLY or (before in _DATE_MOSTLY and before2 not in _ARTICLES)
    if not dated:
        return False
    if after == "on":
        return after2 in _WEEKDAYS or bool(_DATE_NUMBER.fullmatch(after2))
    return after not in _MARCH_GOES


def without_months(tokens: list[str]) -> list[str]:
    """``tokens`` with every "march" that names the month read as the word "month"."""
    return [
        "month" if word == "march" and _is_month(tokens, i) else word
        for i, word in enumerate(tokens)
    ]
