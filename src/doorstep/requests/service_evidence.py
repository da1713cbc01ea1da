"""The agency's evidence locker: what it may open, every byte that leaves, the hash record."""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies import store as agency_store
from doorstep.agencies.models import Agency
from doorstep.errors import DoorstepError, NotFound
from doorstep.platform import ranges as served
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from doorstep.requests import consent, store
from doorstep.requests.models import EvidenceAction, Share
from doorstep.requests.rules_terms import terms_of
from doorstep.requests.schemas import EvidencePublic, HashRecord
from doorstep.transparency import audit_store as audit

WITHDRAWN_NOTE = "The footage was deleted by its owner; Doorstep keeps no copy of it."


class EvidenceWithdrawn(DoorstepError):
    """A share whose footage its owner deleted: nothing is left to view or download."""

    status = 410
    slug = "evidence-withdrawn"
    title = "Withdrawn: the footage was deleted"


def evidence_public(share: Share) -> EvidencePublic:
    """A share as the agency sees it: no owner, camera or position, and a name only if given."""
    withdrawn = share.state == consent.ShareState.WITHDRAWN.value
    video_url = None if withdrawn else f"/api/v1/evidence/{share.id}/video"
    return EvidencePublic(
        id=share.id,
        rfa_id=share.rfa_id,
        case_number=share.rfa.case_number,
        shared_by=None if share.anonymous else share.owner_name,
        anonymous=share.anonymous,
        clip_started_at=share.clip_started_at,
        clip_ended_at=share.clip_ended_at,
        shared_at=share.created_at,
        expires_at=share.expires_at,
        state=store.share_state(share).value,
        withdrawn_at=share.changed_at if withdrawn else None,
        note=WITHDRAWN_NOTE if withdrawn else None,
        sha256=share.sha256,
        size=share.size,
        faces_blurred=share.faces_found,
        terms_version=share.terms_version,
        terms=list(terms_of(share.terms_version)),
        video_url=video_url,
        download_url=None if withdrawn else f"/api/v1/evidence/{share.id}/download",
    )


def evidence_shares(db: Session, agency: Agency) -> list[Share]:
    """The locker: shares the agency may open now, and those withdrawn since, newest first.

    A withdrawn share is listed only if its copy was ever ready (the agency could have seen it)
    and only until it would have ended.
    """
    rows = [*store.locker(db, agency), *store.withdrawn_shares(db, agency, utcnow())]
    return sorted(rows, key=lambda share: share.created_at, reverse=True)


def locker(db: Session, user: User) -> tuple[Agency, list[EvidencePublic]]:
    """The caller's agency and its locker: shares it may open, and withdrawn ones, newest first."""
    agency = agency_store.agency_of(db, user)
    return agency, [evidence_public(share) for share in evidence_shares(db, agency)]


def refuse_withdrawn(db: Session, agency: Agency, share_id: str) -> None:
    """410 for one of the agency's shares whose footage was deleted (not a 404 or a 500)."""
    share = store.find_share(db, share_id)
    if (
        share is not None
        and share.rfa.agency_id == agency.id
        and share.state == consent.ShareState.WITHDRAWN.value
    ):
        raise EvidenceWithdrawn(
            WITHDRAWN_NOTE,
            extra={
                "state": share.state,
                "withdrawn_at": share.changed_at.isoformat() if share.changed_at else None,
            },
        )


def evidence_size(db: Session, user: User, share_id: str) -> int:
    """The size of a share in the caller's agency's locker, to read a range against."""
    agency = agency_store.agency_of(db, user)
    refuse_withdrawn(db, agency, share_id)
    return store.evidence(db, agency, share_id).size


def open_evidence(
    db: Session,
    state: AppState,
    user: User,
    share_id: str,
    action: EvidenceAction,
    span: served.Interval | None = None,
) -> tuple[Share, served.Interval]:
    """Check the caller may open a share and account for the bytes ``span`` it is about to get.

    Every piece is an audit entry. A download, or the piece that makes the bytes served the
    whole file (however many ranges it took), is a download: the share can no longer be revoked,
    and the owner sees it and is told. Views are listed for the owner once per viewing.
    ``span`` defaults to the whole file for a download and the first playback piece for a view.
    """
    agency = agency_store.agency_of(db, user)
    refuse_withdrawn(db, agency, share_id)
    share = store.evidence(db, agency, share_id)
    if span is None:
        whole = (0, share.size - 1)
        download = action is EvidenceAction.DOWNLOAD
        span = whole if download else served.playback_span(whole, share.size)
    coverage = store.serve_share(db, share, user, *span)
    if coverage.completed:
        action = EvidenceAction.DOWNLOAD
    audit.record(
        db,
        state.master_key,
        f"evidence.{action.value}",
        actor=user,
        owner_id=share.owner_id,
        scope=share.rfa_id,
        detail={
            "request": share.rfa_id,
            "agency": agency.name,
            "case": share.rfa.case_number,
            "bytes": f"{span[0]}-{span[1]}",
        },
    )
    if action is EvidenceAction.VIEW and store.recently_viewed(db, share, user):
        return share, span
    store.record_access(db, share, agency, user, action)
    notify_after_commit(
        db,
        share.owner_id,
        {
            "type": "disclosure",
            "disclosure": {"share": share.id, "action": action.value, "agency_name": agency.name},
        },
    )
    return share, span


def evidence_hash(db: Session, sha256: str) -> HashRecord:
    """Is this SHA-256 a file Doorstep delivered? For which agency and case, shared when."""
    share = store.share_by_hash(db, sha256) if len(sha256) == 64 else None
    if share is None:
        raise NotFound("no Doorstep share has that SHA-256")
    return HashRecord(
        sha256=share.sha256,
        share_id=share.id,
        agency_name=share.rfa.agency.name,
        case_number=share.rfa.case_number,
        rfa_id=share.rfa_id,
        shared_at=share.created_at,
        size=share.size,
    )
