"""An owner's side of a request: the inbox, previews, sharing or declining, revoking (I2, I4)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips import served_store as served_bytes
from doorstep.clips.models import Clip
from doorstep.clips.store import delete_after_commit
from doorstep.errors import InvalidInput, NotFound
from doorstep.platform.http.state import AppState
from doorstep.platform.promote import work_key
from doorstep.platform.queue import core as queue
from doorstep.platform.types import new_id, utcnow
from doorstep.requests import consent, store
from doorstep.requests._present import rfa_public
from doorstep.requests.models import Rfa, Share
from doorstep.requests.rules_terms import TERMS_VERSION, terms_of
from doorstep.requests.schemas import (
    AccessPublic,
    InboxItem,
    InboxRequest,
    OwnerClip,
    SharePrivate,
)
from doorstep.transparency import audit_store as audit


def _owner_clip(rfa: Rfa, clip: Clip, names: dict[str, str]) -> OwnerClip:
    return OwnerClip(
        id=clip.id,
        camera_name=names.get(clip.camera_id, "camera"),
        started_at=clip.started_at,
        ended_at=clip.ended_at,
        preview_url=f"/api/v1/inbox/{rfa.id}/clips/{clip.id}/preview",
    )


def share_private(db: Session, share: Share) -> SharePrivate:
    """The owner's view of one share with every access to it."""
    accesses = store.accesses_for(db, [share.id])[share.id]
    served_now = served_bytes.bytes_served_for_shares(db, [share.id])[share.id]
    current = store.share_state(share)
    shown = "preparing" if store.is_preparing(share) else current.value
    return SharePrivate(
        id=share.id,
        rfa_id=share.rfa_id,
        agency_name=share.rfa.agency.name,
        case_number=share.rfa.case_number,
        clip_id=share.clip_id,
        anonymous=share.anonymous,
        state=shown,
        created_at=share.created_at,
        expires_at=share.expires_at,
        downloaded_at=share.downloaded_at,
        sha256=share.sha256,
        size=share.size,
        bytes_served=served_now,
        revocable=current is consent.ShareState.ACTIVE,
        accesses=[
            AccessPublic(action=a.action, at=a.at, agency_name=share.rfa.agency.name)
            for a in accesses
        ],
        terms_version=share.terms_version,
        terms=list(terms_of(share.terms_version)),
    )


def answer_request(
    db: Session,
    state: AppState,
    owner: User,
    rfa_id: str,
    *,
    share: bool,
    clip_ids: list[str],
    anonymous: bool,
) -> list[Share]:
    """Decline, or share the chosen clips as redacted, watermarked copies (I2, I4)."""
    # The copies are made by the app's job queue after the commit, not with this state.
    del state
    row = store.recipient(db, owner, rfa_id)
    rfa = row.rfa
    if not share:
        store.decline(db, row)
        return []
    if not clip_ids:
        raise InvalidInput("choose at least one clip to share, or decline", field="clip_ids")
    allowed = {clip.id: clip for clip in store.clips_in_request(db, owner, rfa)}
    chosen = []
    for clip_id in dict.fromkeys(clip_ids):
        if clip_id not in allowed:
            raise NotFound("that clip is not one of yours inside this request", field="clip_ids")
        chosen.append(allowed[clip_id])
    answer = store.mark_shared(db, row)
    now = utcnow()
    shares = []
    for clip in chosen:
        opened = consent.open_share(answer, new_id(), now)
        item = Share(
            id=opened.share_id,
            rfa_id=rfa.id,
            owner_id=owner.id,
            clip_id=clip.id,
            anonymous=anonymous,
            owner_name=None if anonymous else owner.display_name,
            clip_started_at=clip.started_at,
            clip_ended_at=clip.ended_at,
            sha256="",
            size=0,
            ciphertext_size=0,
            state=opened.state.value,
            created_at=opened.created_at,
            expires_at=opened.expires_at,
            terms_version=TERMS_VERSION,
        )
        store.add_share(db, item)
        # The copy is made by a background job once this commit lands; the share is
        # "preparing" (open, with no key) until then, and the job writes its audit entry.
        queue.send_after_commit(db, queue.SHARE_PREPARE, item.id)
        shares.append(item)
    return shares


def revoke_share(db: Session, state: AppState, owner: User, share_id: str) -> Share:
    """Withdraw a share before the agency downloads it; its copy is shredded."""
    share = store.revoke(db, store.owner_share(db, owner, share_id))
    delete_after_commit(db, state.keys.blobs, [share.blob_key, work_key(share.blob_key)])
    audit.record(
        db,
        state.master_key,
        "share.revoke",
        actor=owner,
        owner_id=owner.id,
        # No share id and a pseudonym for this request only: the public log cannot link this
        # share to the same owner's shares with other requests (the owner sees it in /disclosures).
        scope=share.rfa_id,
        detail={"request": share.rfa_id, "agency": share.rfa.agency.name},
    )
    return share


def inbox_request(db: Session, owner: User, rfa_id: str, k: int) -> InboxRequest:
    """One request in the owner's inbox with their clips and shares."""
    row = store.recipient(db, owner, rfa_id)
    rfa = row.rfa
    names = {camera.id: camera.name for camera in owner.cameras}
    shares = [s for s in store.owner_shares(db, owner) if s.rfa_id == rfa.id]
    return InboxRequest(
        request=rfa_public(rfa, store.rfa_counts(db, [rfa.id])[rfa.id], k),
        answer=store.answer_state(row).value,
        answered_at=row.answered_at,
        clips=[_owner_clip(rfa, c, names) for c in store.clips_in_request(db, owner, rfa)],
        shares=[share_private(db, s) for s in shares],
    )


def inbox(db: Session, owner: User, k: int) -> list[InboxItem]:
    """Requests that reached the owner's cameras, newest first."""
    rows = store.owner_requests(db, owner)
    counts = store.rfa_counts(db, [row.rfa_id for row in rows])
    return [
        InboxItem(
            request=rfa_public(row.rfa, counts[row.rfa_id], k),
            answer=store.answer_state(row).value,
            answered_at=row.answered_at,
        )
        for row in rows
    ]


def preview_clip(db: Session, owner: User, rfa_id: str, clip_id: str) -> Clip:
    """One of the owner's clips inside a request, for previewing."""
    rfa = store.recipient(db, owner, rfa_id).rfa
    for clip in store.clips_in_request(db, owner, rfa):
        if clip.id == clip_id:
            return clip
    raise NotFound("no such clip inside this request")


def disclosures(db: Session, owner: User) -> list[SharePrivate]:
    """Everything the owner ever shared, with every view and download by an agency (I5)."""
    return [share_private(db, share) for share in store.owner_shares(db, owner)]
