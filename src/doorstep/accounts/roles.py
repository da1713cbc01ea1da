"""The roles an account can have, and the sets of them that decide who may do what: defined once."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an account is for; decides what it may do."""

    RESIDENT = "resident"
    AGENCY_MEMBER = "agency_member"
    AGENCY_ADMIN = "agency_admin"
    REVIEWER = "reviewer"
    ADMIN = "admin"


#: People who review disclosures: the platform's reviewers and its administrators.
REVIEWERS = frozenset({Role.REVIEWER.value, Role.ADMIN.value})
#: People acting for a verified agency.
AGENCY_STAFF = frozenset({Role.AGENCY_MEMBER.value, Role.AGENCY_ADMIN.value})
#: Everyone who reads the audit log's people-facing entries beyond a resident's own.
AUDIT_READERS = REVIEWERS | AGENCY_STAFF
