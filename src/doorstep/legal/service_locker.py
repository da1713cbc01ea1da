"""The agency's locker of disclosed copies, and the owner's history of disclosures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies import store as agencies
from doorstep.errors import NotFound
from doorstep.legal import service_disclose as disclosing
from doorstep.legal import store as legal
from doorstep.legal._views import disclosure_public, owner_disclosure
from doorstep.legal.schemas import DisclosureHashRecord, DisclosurePublic, OwnerDisclosure
from doorstep.platform import ranges as served
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.http.state import AppState
from doorstep.transparency import audit_store as audit


def agency_disclosures(db: Session, user: User) -> list[DisclosurePublic]:
    """What the caller's agency received under legal process or emergencies, newest first."""
    agency = agencies.agency_of(db, user)
    return [disclosure_public(row) for row in legal.agency_disclosures(db, agency)]


@dataclass(frozen=True, slots=True)
class OpenedCopy:
    """The bytes of a disclosed copy an agency may have now, and what the response tells."""

    id: str
    pieces: Iterator[bytes]
    span: served.Interval
    size: int
    sha256: str


def disclosure_size(db: Session, user: User, disclosure_id: str) -> int:
    """The size of a copy disclosed to the caller's agency, to read a ``Range`` header against."""
    row = legal.agency_disclosure(db, agencies.agency_of(db, user), disclosure_id)
    if row.wrapped_key is None:
        raise NotFound("no such disclosure")
    return row.size


def open_disclosure(
    db: Session,
    state: AppState,
    user: User,
    disclosure_id: str,
    *,
    download: bool,
    bounds: served.Interval | None = None,
) -> OpenedCopy:
    """Check the agency may open a disclosed copy and account for the bytes it gets.

    A download gets the whole file; playback gets ``bounds`` (None: from the start), cut to a
    playback piece. Every piece is an audit entry. A download, or the piece that makes the bytes
    served the whole file (however many ranges it took), is a download: it is dated, and the
    owner is told now if they already know of the disclosure, or sees it with the notice when
    that is due (I5).
    """
    agency = agencies.agency_of(db, user)
    row = legal.agency_disclosure(db, agency, disclosure_id)
    if row.wrapped_key is None:
        raise NotFound("no such disclosure")
    span = (0, row.size - 1) if download else served.playback_span(bounds, row.size)
    coverage = legal.serve_disclosure(db, row, user, *span)
    download = download or coverage.completed
    notified = row.notified_at is not None
    audit.record(
        db,
        state.master_key,
        "disclosure.download" if download else "disclosure.view",
        actor=user,
        # Under a non-disclosure order the owner may not learn of it yet, not even here.
        owner_id=row.owner_id if notified else None,
        detail={"disclosure": row.id, "agency": agency.name, "bytes": f"{span[0]}-{span[1]}"},
    )
    if download and notified:
        event: dict[str, Any] = {
            "type": "disclosure",
            "disclosure": {
                "id": row.id,
                "action": "download",
                "agency_name": agency.name,
                "url": "/disclosures/legal",
            },
        }
        notify_after_commit(db, row.owner_id, event)
    return OpenedCopy(
        row.id, disclosing.read_copy(state.keys, row, *span), span, row.size, row.sha256
    )


def owner_disclosures(db: Session, owner: User) -> list[OwnerDisclosure]:
    """Every disclosure of the owner's footage or account under legal process or an emergency."""
    return [owner_disclosure(db, row) for row in legal.owner_disclosures(db, owner)]


def disclosure_hash(db: Session, sha256: str) -> DisclosureHashRecord:
    """Is this SHA-256 a copy disclosed under legal process or an emergency? On what basis, when.

    Only a copy's holder knows its hash; the answer names no resident, camera or case.
    """
    row = legal.disclosure_by_hash(db, sha256) if len(sha256) == 64 else None
    if row is None or row.what != "footage":
        raise NotFound("no Doorstep disclosure has that SHA-256")
    return DisclosureHashRecord(
        sha256=row.sha256,
        basis=row.basis,
        agency_name=row.agency.name,
        disclosed_at=row.created_at,
        size=row.size,
    )
