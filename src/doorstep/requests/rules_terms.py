"""The terms every copy of a resident's footage carries when it leaves for an agency.

They are shown beside the evidence, printed on the request, and written into the copy's signed
provenance, so whoever holds a copy later holds its terms with it. The version moves when the
words change; a copy keeps the version it left with.
"""

from __future__ import annotations

#: Version of the onward-use terms below; recorded with each copy that carries them.
TERMS_VERSION = "2026-12"

#: What an agency may do with a copy it receives, one sentence each, in the order shown.
ONWARD_USE_TERMS: tuple[str, ...] = (
    "Use only for the case it was shared for.",
    "Not for immigration enforcement.",
    "Not shared onward with another agency without the owner's consent or a court order.",
    "Deleted when the case closes.",
)


def terms_of(version: str | None) -> tuple[str, ...]:
    """The terms a copy left with, by their version; none for a copy from before versions."""
    return ONWARD_USE_TERMS if version == TERMS_VERSION else ()
