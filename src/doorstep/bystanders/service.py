"""Bystander requests: the use cases routes, pages, the demo and the transparency page call.

A stranger asks; owners whose cameras are in the area's public cells are asked; each owner
sees only their own clips in the window and chooses per clip to delete or blur, or declines.
The requester and the public see counts only, each below k withheld (I3).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.orm import Session

from doorstep.accounts import throttle_store as throttles
from doorstep.accounts.models import User
from doorstep.accounts.throttle_rules import source_key
from doorstep.bystanders import store
from doorstep.bystanders.models import PENDING, BystanderRecipient, BystanderRequest
from doorstep.bystanders.rules import (
    TOKEN_BYTES,
    BystanderDraft,
    Decision,
    check_request,
    public_counts,
)
from doorstep.bystanders.schemas import (
    BystanderClip,
    BystanderCountsPublic,
    BystanderCreated,
    BystanderInboxItem,
    BystanderInboxRequest,
    BystanderStatus,
    BystanderTotals,
    ClipChoice,
)
from doorstep.bystanders.service_blur import queue_blur
from doorstep.clips import service as clips
from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from doorstep.requests.service import count_range

__all__ = [
    "admit",
    "answer",
    "create_request",
    "has_requests",
    "inbox",
    "inbox_request",
    "pending_count",
    "public_totals",
    "status",
]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _status(db: Session, row: BystanderRequest, k: int) -> BystanderStatus:
    shown = public_counts(store.counts(db, row.id), k)
    return BystanderStatus(
        area=row.area,
        area_sq_mi=round(row.area_sq_mi, 4),
        window_start=row.window_start,
        window_end=row.window_end,
        created_at=row.created_at,
        counts=BystanderCountsPublic(
            asked=count_range(shown.asked),
            blurred=count_range(shown.blurred),
            deleted=count_range(shown.deleted),
            k=k,
        ),
    )


def admit(db: Session, state: AppState, address: str) -> None:
    """Count a request from ``address``, or refuse it (429) over the per-address limit.

    The address is counted under a keyed hash, as sign-ups are, and kept nowhere else: the
    request holds no trace of who sent it but the hash of the link only they were given.
    """
    key = source_key(state.throttle_secret, "bystander-address", address)
    throttles.take(db, key, state.limits.sign_up_address, utcnow(), "too many requests from here")
    # Kept even if this request is refused: trying many areas is what the limit is for.
    db.commit()


def create_request(db: Session, state: AppState, draft: BystanderDraft) -> BystanderCreated:
    """Check and store a request (``admit`` it first), and ask the owners it reaches."""
    now = utcnow()
    checked = check_request(draft, now=now, resolution=state.settings.public_cell_resolution)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = store.create_request(db, checked, _token_hash(token), now)
    event = {"type": "bystander", "request": {"url": f"/bystander-requests/{row.id}"}}
    for owner_id in store.ask_owners(db, row):
        notify_after_commit(db, owner_id, event)
    shown = _status(db, row, state.settings.camera_map_k)
    return BystanderCreated(**shown.model_dump(), status_url=f"/bystanders/status/{token}")


def status(db: Session, token: str, k: int) -> BystanderStatus:
    """The request behind a status link, with its counts only."""
    return _status(db, store.by_token_hash(db, _token_hash(token)), k)


def _item(row: BystanderRecipient) -> BystanderInboxItem:
    request = row.request
    return BystanderInboxItem(
        id=request.id,
        area=request.area,
        window_start=request.window_start,
        window_end=request.window_end,
        description=request.description,
        asked_at=row.asked_at,
        answer=row.state,
        answered_at=row.answered_at,
        url=f"/bystander-requests/{request.id}",
    )


def inbox(db: Session, owner: User) -> list[BystanderInboxItem]:
    """Bystander requests that reached the owner's cameras, newest first."""
    return [_item(row) for row in store.owner_requests(db, owner)]


def pending_count(db: Session, owner: User) -> int:
    """How many bystander requests wait for the owner (the request inbox links to them)."""
    return store.pending_count(db, owner)


def inbox_request(db: Session, owner: User, request_id: str) -> BystanderInboxRequest:
    """One request with the owner's own clips in its window: nobody else's, ever."""
    row = store.recipient(db, owner, request_id)
    names = {camera.id: camera.name for camera in owner.cameras}
    listed = [
        BystanderClip(
            id=clip.id,
            camera_name=names.get(clip.camera_id, "camera"),
            started_at=clip.started_at,
            ended_at=clip.ended_at,
            can_blur=not clip.e2e,
        )
        for clip in store.clips_in_window(db, owner, row.request)
    ]
    return BystanderInboxRequest(
        **_item(row).model_dump(), clips=listed, blurred=row.blurred, deleted=row.deleted
    )


def answer(
    db: Session, state: AppState, owner: User, request_id: str, choices: list[ClipChoice]
) -> BystanderInboxRequest:
    """Delete the chosen clips and queue the others' blurring (the owner's own only), or decline.

    Each blurred clip is counted once its job has replaced it (see ``service_blur``).
    """
    row = store.recipient(db, owner, request_id)
    if row.state != PENDING:
        raise Conflict("you already answered this request")
    allowed = {clip.id: clip for clip in store.clips_in_window(db, owner, row.request)}
    chosen = {choice.clip_id: choice.action for choice in choices}
    for clip_id, action in chosen.items():
        if clip_id not in allowed:
            raise NotFound("that clip is not one of yours inside this request", field="choices")
        if action == Decision.BLUR.value and allowed[clip_id].e2e:
            raise InvalidInput(
                "an end-to-end encrypted clip cannot be blurred here; delete it instead",
                field="choices",
            )
    # Answered first: a second answer, racing this one, is refused before any clip changes.
    # Blurred clips are counted by their jobs as each is done, not here.
    store.record_answer(
        db,
        row,
        "answered" if chosen else Decision.DECLINE.value,
        utcnow(),
        blurred=0,
        deleted=sum(action == Decision.DELETE.value for action in chosen.values()),
    )
    for clip_id, action in chosen.items():
        if action == Decision.DELETE.value:
            clips.delete_clip(db, state.keys, owner, clip_id)
        else:
            # Decoding and encoding take far longer than a request should hold the database:
            # the clip is blurred on the task queue once this answer has committed.
            queue_blur(db, request_id, owner.id, clip_id)
    return inbox_request(db, owner, request_id)


def has_requests(db: Session) -> bool:
    """Whether any bystander request was ever made (the demo makes one once)."""
    return store.counts(db).requests > 0


def public_totals(db: Session, k: int) -> BystanderTotals:
    """Every bystander request counted, for the transparency page: ranges, below k withheld."""
    shown = public_counts(store.counts(db), k)
    return BystanderTotals(
        requests=count_range(shown.requests),
        asked=count_range(shown.asked),
        blurred=count_range(shown.blurred),
        deleted=count_range(shown.deleted),
        k=k,
    )
