"""Lost pets: the use cases routes, pages and the demo call.

A poster asks; nothing is searched. Each owner a notice reaches sees only their own clips with
an animal in the window, and a copy leaves only when that owner clicks share: their clip with
faces redacted (the redaction an agency gets, ``requests.service.redacted_preview``), sealed
under a key of its own that withdrawing the share, or the notice closing, shreds.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips.service import delete_after_commit
from doorstep.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from doorstep.geo.geometry import Circle
from doorstep.geo.jurisdiction import polygon_geojson
from doorstep.neighbors.rules import MAX_PHOTO_BYTES
from doorstep.pets import store
from doorstep.pets.models import PetNotice, PetShare
from doorstep.pets.rules import (
    NoticeDraft,
    check_notice,
    check_open_count,
    check_resident,
    closes_at,
)
from doorstep.pets.schemas import AnimalClip, NoticePublic, SharePublic
from doorstep.pets.service_copies import PET_SHARE_PREPARE, copy_context, is_preparing
from doorstep.platform.blobs import BlobStore
from doorstep.platform.crypto import iter_decrypted_range, unwrap_key
from doorstep.platform.db import Database
from doorstep.platform.keys import Keys
from doorstep.platform.promote import work_key
from doorstep.platform.queue import core as queue
from doorstep.platform.rewrap import rewrap_column
from doorstep.platform.types import utcnow


def _clean_photo(data: bytes) -> bytes:
    # Imported here: only media/ loads the image codecs, and only when a photo comes.
    from doorstep.media.image import clean_photo

    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge("a photo is at most 5 MB")
    if not data:
        raise InvalidInput("the photo is empty", field="photo")
    return clean_photo(data)


def post_notice(
    db: Session,
    blobs: BlobStore,
    poster: User,
    draft: NoticeDraft,
    *,
    cell_resolution: int,
    photo: bytes | None = None,
) -> PetNotice:
    """Check and store a notice, with its photo cleaned of metadata (checked before anything)."""
    check_resident(poster.role)
    check_open_count(store.open_count(db, poster, utcnow()))
    clean = _clean_photo(photo) if photo is not None else None
    checked = check_notice(draft, now=utcnow(), resolution=cell_resolution)
    circle = checked.area if isinstance(checked.area, Circle) else None
    notice = store.add_notice(
        db,
        PetNotice(
            poster_id=poster.id,
            species=checked.species.value,
            name=checked.name,
            description=checked.description,
            area=polygon_geojson(checked.polygon),
            circle_lat=circle.centre.lat if circle else None,
            circle_lon=circle.centre.lon if circle else None,
            circle_radius_m=circle.radius_m if circle else None,
            area_sq_mi=round(checked.area_sq_mi, 4),
            cells=sorted(checked.cells),
            window_start=checked.start,
            window_end=checked.end,
        ),
    )
    if clean is not None:
        _store_photo(db, blobs, notice, clean)
    return notice


def _store_photo(db: Session, blobs: BlobStore, notice: PetNotice, clean_jpeg: bytes) -> None:
    key = f"pets/photos/{notice.id}.jpg"
    blobs.put(key, io.BytesIO(clean_jpeg), max_size=MAX_PHOTO_BYTES)
    notice.photo_key = key
    db.flush()


def upload_photo(
    db: Session, blobs: BlobStore, poster: User, notice_id: str, data: bytes
) -> PetNotice:
    """Attach a photo to one's own notice; it is re-encoded without metadata."""
    notice = store.own_notice(db, poster, notice_id)
    _store_photo(db, blobs, notice, _clean_photo(data))
    return notice


def _share_public(notice: PetNotice, share: PetShare, viewer: User) -> SharePublic:
    live = share.wrapped_key is not None
    state = "shared" if live else "preparing" if is_preparing(share) else "withdrawn"
    return SharePublic(
        id=share.id,
        clip_started_at=share.clip_started_at,
        clip_ended_at=share.clip_ended_at,
        created_at=share.created_at,
        state=state,
        video_url=(
            f"/api/v1/pets/{notice.id}/shares/{share.id}/video"
            if live and notice.poster_id == viewer.id
            else None
        ),
        mine=share.owner_id == viewer.id,
    )


def notice_public(db: Session, viewer: User, notice: PetNotice) -> NoticePublic:
    """A notice as ``viewer`` may see it (the caller checked they may)."""
    now = utcnow()
    yours = notice.poster_id == viewer.id
    shares = store.shares_of(db, notice)
    # The poster sees what was shared and is still shared; an owner, only their own shares.
    shown = (
        [s for s in shares if s.wrapped_key is not None]
        if yours
        else [s for s in shares if s.owner_id == viewer.id]
    )
    shared_clips = {s.clip_id for s in shares if s.owner_id == viewer.id and not s.withdrawn_at}
    names = {camera.id: camera.name for camera in viewer.cameras}
    clips = [] if yours else store.animal_clips(db, viewer, notice)
    circle = (
        {"lat": notice.circle_lat, "lon": notice.circle_lon, "radius_m": notice.circle_radius_m}
        if notice.circle_lat is not None
        and notice.circle_lon is not None
        and notice.circle_radius_m is not None
        else None
    )
    return NoticePublic(
        id=notice.id,
        species=notice.species,
        name=notice.name,
        description=notice.description,
        area=notice.area,
        circle=circle,
        area_sq_mi=notice.area_sq_mi,
        window_start=notice.window_start,
        window_end=notice.window_end,
        created_at=notice.created_at,
        closes_at=closes_at(notice.window_end),
        open=notice.is_open(now),
        photo_url=f"/api/v1/pets/{notice.id}/photo" if notice.photo_key else None,
        yours=yours,
        my_animal_clips=[
            AnimalClip(
                id=clip.id,
                camera_name=names.get(clip.camera_id, "camera"),
                started_at=clip.started_at,
                ended_at=clip.ended_at,
                shared=clip.id in shared_clips,
            )
            for clip in clips
        ],
        shares=[_share_public(notice, s, viewer) for s in shown],
    )


def share_public(db: Session, viewer: User, share: PetShare) -> SharePublic:
    """One share as ``viewer`` (its owner) sees it."""
    del db
    return _share_public(share.notice, share, viewer)


def get_notice(db: Session, viewer: User, notice_id: str) -> NoticePublic:
    """A notice for its poster or an owner of a camera it reaches (``NotFound`` to anyone else)."""
    return notice_public(db, viewer, store.visible_notice(db, viewer, notice_id))


def list_notices(db: Session, viewer: User) -> tuple[list[NoticePublic], list[NoticePublic]]:
    """The viewer's own notices, and the open ones of others reaching their cameras."""
    mine = [notice_public(db, viewer, n) for n in store.posted_by(db, viewer)]
    near = [notice_public(db, viewer, n) for n in store.open_near(db, viewer, utcnow())]
    return mine, near


def read_photo(db: Session, blobs: BlobStore, viewer: User, notice_id: str) -> bytes:
    """A notice's photo, as cleaned on upload."""
    notice = store.visible_notice(db, viewer, notice_id)
    if notice.photo_key is None:
        raise NotFound("this notice has no photo")
    return b"".join(blobs.open_stream(notice.photo_key))


def close_notice(db: Session, keys: Keys, poster: User, notice_id: str) -> PetNotice:
    """Close one's own notice: no more shares, and every copy shared with it is shredded."""
    notice = store.own_notice(db, poster, notice_id)
    if notice.closed_at is not None:
        raise Conflict("this notice is already closed")
    gone = store.close(db, notice, utcnow())
    delete_after_commit(
        db,
        keys.blobs,
        [key for share in gone for key in (share.blob_key, work_key(share.blob_key))],
    )
    return notice


def sweep_closed(database: Database, keys: Keys) -> int:
    """Close notices past their time and shred what was shared with them; returns how many."""
    with database.session() as db:
        notices = store.past_closing(db, utcnow())
        for notice in notices:
            gone = store.close(db, notice, utcnow())
            delete_after_commit(
                db,
                keys.blobs,
                [key for share in gone for key in (share.blob_key, work_key(share.blob_key))],
            )
    return len(notices)


def _check_poster(db: Session, notice: PetNotice) -> None:
    # A notice posted before the rule (or by an account whose role changed since) gets nothing.
    poster = db.get(User, notice.poster_id)
    check_resident(poster.role if poster else "")


def share_clip(db: Session, keys: Keys, owner: User, notice_id: str, clip_id: str) -> PetShare:
    """Share one of the owner's own animal clips with a notice, as a face-redacted copy.

    The share is recorded as preparing; its copy is made on the task queue once this commits
    (``service_copies.prepare_share``), and the poster sees it when it is ready.
    """
    del keys
    notice = store.visible_notice(db, owner, notice_id)
    if notice.poster_id == owner.id:
        raise InvalidInput("this is your own notice", field="clip_id")
    if not notice.is_open(utcnow()):
        raise Conflict("this notice is closed")
    _check_poster(db, notice)
    clip = next((c for c in store.animal_clips(db, owner, notice) if c.id == clip_id), None)
    if clip is None:
        raise NotFound(
            "that clip is not one of yours with an animal in this window", field="clip_id"
        )
    live = [s for s in store.shares_of(db, notice) if s.clip_id == clip.id and not s.withdrawn_at]
    if live:
        raise Conflict("you already shared this clip with this notice")
    share = store.add_share(
        db,
        PetShare(
            notice_id=notice.id,
            owner_id=owner.id,
            clip_id=clip.id,
            clip_started_at=clip.started_at,
            clip_ended_at=clip.ended_at,
            size=0,
            ciphertext_size=0,
        ),
    )
    queue.send_after_commit(db, PET_SHARE_PREPARE, share.id)
    return share


def withdraw_share(db: Session, keys: Keys, owner: User, notice_id: str, share_id: str) -> PetShare:
    """Withdraw one's share: the copy's key is forgotten and the copy removed."""
    share = store.owner_share(db, owner, notice_id, share_id)
    if share.withdrawn_at is not None:
        raise Conflict("this share is already withdrawn")
    store.shred(db, share, utcnow())
    delete_after_commit(db, keys.blobs, [share.blob_key, work_key(share.blob_key)])
    return share


def shared_copy(db: Session, poster: User, notice_id: str, share_id: str) -> PetShare:
    """A copy shared with the poster's open notice, to watch."""
    share = store.live_share(db, poster, notice_id, share_id, utcnow())
    check_resident(poster.role)
    return share


def read_copy(keys: Keys, share: PetShare, start: int, end: int) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` of a shared copy (the caller checked it is live)."""
    assert share.wrapped_key is not None
    key = unwrap_key(keys.master, share.wrapped_key, context=copy_context(share.id))

    def read_at(offset: int, length: int) -> bytes:
        return keys.blobs.read_at(share.blob_key, offset, length)

    return iter_decrypted_range(read_at, key, start, end, share.ciphertext_size)


def rewrap_keys(db: Session, old: bytes, new: bytes) -> dict[str, int]:
    """Move the keys of the pet copies to a new master key."""
    return {
        "pet shares": rewrap_column(
            db, PetShare, "wrapped_key", lambda row: copy_context(row.id), old, new
        )
    }
