"""Requests for Assistance: the use cases routes, pages, jobs, the demo and other features call.

Posting, closing and reading requests live here; an owner's answers and shares in
``service_consent``, the agency's evidence locker in ``service_evidence``, the copies made of
footage in ``service_copies``. This module is the one door to all of them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies import store as agency_store
from doorstep.agencies.models import Agency
from doorstep.errors import NotFound
from doorstep.neighbors import service_relay as feed
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.http.state import AppState
from doorstep.platform.rewrap import rewrap_column
from doorstep.requests import store
from doorstep.requests._present import DEFAULT_K, count_range, counts_public, rfa_public
from doorstep.requests.models import ClipPreview, Rfa, Share
from doorstep.requests.rules import RfaCounts, RfaDraft
from doorstep.requests.rules_policy import (
    AGENCY_LEVELS,
    LEVEL_LABELS,
    OFFENCE_CATEGORIES,
    REQUESTING_LEVELS,
)
from doorstep.requests.rules_terms import ONWARD_USE_TERMS, TERMS_VERSION
from doorstep.requests.schemas import RfaPublic
from doorstep.requests.service_consent import (
    answer_request,
    disclosures,
    inbox,
    inbox_request,
    preview_clip,
    revoke_share,
    share_private,
)
from doorstep.requests.service_copies import (
    STALE_AFTER,
    Keys,
    digest_of,
    prepare_share,
    preview_key_context,
    read_agency_copy,
    read_preview,
    redacted_preview,
    share_key_context,
    stale_preparing,
    sweep_expired_shares,
)
from doorstep.requests.service_evidence import (
    EvidenceWithdrawn,
    evidence_hash,
    evidence_public,
    evidence_shares,
    evidence_size,
    locker,
    open_evidence,
)
from doorstep.requests.service_provenance import operator_root

__all__ = [
    "DEFAULT_K",
    "STALE_AFTER",
    "EvidenceWithdrawn",
    "Keys",
    "agency_rfa_counts",
    "answer_request",
    "close_request",
    "count_range",
    "counts_public",
    "digest_of",
    "disclosures",
    "evidence_hash",
    "evidence_public",
    "evidence_shares",
    "operator_root",
    "evidence_size",
    "get_request",
    "get_rfa",
    "inbox",
    "is_preparing",
    "requests_for_case",
    "inbox_request",
    "list_requests",
    "locker",
    "open_evidence",
    "post_request",
    "prepare_share",
    "preview_clip",
    "preview_key_context",
    "public_request",
    "read_agency_copy",
    "read_preview",
    "redacted_preview",
    "revoke_share",
    "rfa_public",
    "share_key_context",
    "share_private",
    "stale_preparing",
    "sweep_expired_shares",
]

ALERT_TEXT_LIMIT = 1900
#: Requests listed at most by ``list_requests``.
LISTED_REQUESTS = 500


def _alert_text(agency: Agency, rfa: Rfa) -> str:
    window = (
        f"{rfa.window_start.strftime('%d %b %Y %H:%M')}–"
        f"{rfa.window_end.strftime('%d %b %Y %H:%M')} UTC"
    )
    text = (
        f"Request for Assistance from {agency.name}, case {rfa.case_number}: "
        f"{rfa.incident_type}. {rfa.description} Footage from {window}. "
    )
    link = f"Details and how to answer: /rfa/{rfa.id}"
    return text[: ALERT_TEXT_LIMIT - len(link)] + link


def post_request(db: Session, state: AppState, author: User, draft: RfaDraft) -> Rfa:
    """Check and store a request, publish it on the feed of its area, and tell owners."""
    agency = agency_store.agency_of(db, author)
    rfa, _checked = store.create_rfa(
        db, agency, author, draft, cell_resolution=state.settings.public_cell_resolution
    )
    # The request's cells are already only those inside the jurisdiction (``domain.rfa``): its
    # feed alert, the owners asked and the clips they may share all reach exactly those.
    alert = feed.post_alert(
        db,
        author,
        agency_name=agency.name,
        jurisdiction=agency.jurisdiction,
        text=_alert_text(agency, rfa),
        cells=rfa.cells,
        cell_resolution=state.settings.public_cell_resolution,
    )
    rfa.alert_id = alert.id
    db.flush()
    event = {
        "type": "rfa",
        "request": {
            "id": rfa.id,
            "agency_name": agency.name,
            "incident_type": rfa.incident_type,
            "url": f"/requests/{rfa.id}",
        },
    }
    for owner_id in store.ask_owners(db, rfa):
        notify_after_commit(db, owner_id, event)
    return rfa


def public_request(db: Session, rfa: Rfa, k: int) -> RfaPublic:
    """A request with its counts, "asked" withheld below ``k`` (settings' ``camera_map_k``)."""
    return rfa_public(rfa, store.rfa_counts(db, [rfa.id])[rfa.id], k)


def list_requests(db: Session, k: int) -> list[RfaPublic]:
    """Every request of every verified agency, newest first (requests are public)."""
    rows = store.recent_rfas(db, LISTED_REQUESTS)
    counts = store.rfa_counts(db, [rfa.id for rfa in rows])
    return [rfa_public(rfa, counts[rfa.id], k) for rfa in rows]


def request_policy(db: Session) -> dict[str, Any]:
    """The public request policy: who may ask, for what, on which terms, and requests per category.

    Requests are public one by one, so their number per category is shown exactly.
    """
    counts = store.offence_counts(db)
    categories = [(key, label, counts.get(key, 0)) for key, label in OFFENCE_CATEGORIES]
    return {
        "categories": categories,
        "unrecorded": counts.get("", 0),
        "levels": [(key, LEVEL_LABELS[key], key in REQUESTING_LEVELS) for key in AGENCY_LEVELS],
        "terms": ONWARD_USE_TERMS,
        "terms_version": TERMS_VERSION,
    }


def get_rfa(db: Session, rfa_id: str) -> Rfa:
    """A request of a verified agency (requests are public)."""
    return store.get_rfa(db, rfa_id)


def get_request(db: Session, rfa_id: str, k: int) -> RfaPublic:
    """One request, with how many owners were asked and how many shared."""
    return public_request(db, store.get_rfa(db, rfa_id), k)


def close_request(db: Session, user: User, rfa_id: str) -> Rfa:
    """Close one of the caller's agency's requests early."""
    agency = agency_store.agency_of(db, user)
    rfa = store.get_rfa(db, rfa_id)
    if rfa.agency_id != agency.id:
        raise NotFound("no such request among your agency's")
    return store.close_rfa(db, rfa)


def requests_for_case(db: Session, agency: Agency, case_number: str) -> int:
    """How many requests the agency already made for a case, however the number was written."""
    return store.requests_for_case(db, agency, case_number)


def is_preparing(share: Share) -> bool:
    """Whether the share's agency copy is still being made (open, but no key yet)."""
    return store.is_preparing(share)


def agency_rfa_counts(db: Session, agency: Agency) -> tuple[list[Rfa], dict[str, RfaCounts]]:
    """Every request the agency made, newest first, and each one's exact counts (server only)."""
    rfas = store.agency_rfas(db, agency)
    return rfas, store.rfa_counts(db, [rfa.id for rfa in rfas])


def request_for_case(db: Session, case_number: str) -> Rfa | None:
    """A request with this case number, from any agency, or None."""
    return store.rfa_for_case_number(db, case_number)


def asked_owners(db: Session, rfa_id: str | None = None) -> list[str]:
    """The owners one request asked (every request's, with None; an owner once per request)."""
    return store.recipient_ids(db, rfa_id)


def request_shares(db: Session, rfa_id: str) -> list[Share]:
    """The shares owners made with one request."""
    return store.shares(db, rfa_id)


def preparing_share_ids(db: Session) -> list[str]:
    """Every share whose agency copy is still to be made, however old."""
    return [share.id for share in store.shares(db) if is_preparing(share)]


def rewrap_keys(db: Session, old: bytes, new: bytes) -> dict[str, int]:
    """Move the keys of the owners' previews and the agencies' copies to a new master key."""
    return {
        "previews": rewrap_column(
            db, ClipPreview, "wrapped_key", lambda row: preview_key_context(row.clip_id), old, new
        ),
        "shares": rewrap_column(
            db, Share, "wrapped_key", lambda row: share_key_context(row.id), old, new
        ),
    }
