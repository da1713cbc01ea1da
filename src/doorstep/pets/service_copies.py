"""Lost pets: the face-redacted copy an owner's share sends, made on the task queue.

Sharing records the share as preparing (no key yet) and commits; the job then redacts the
clip, seals the copy under a work key, moves it into place whole, and the share takes the key
only while it is still preparing: a share withdrawn, or a notice closed, meanwhile never gets
one and its copy is removed. The poster sees a share once it has its key.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips.models import Clip
from doorstep.pets.models import PetShare
from doorstep.platform.crypto import EncryptingReader, new_key, wrap_key
from doorstep.platform.db import Database
from doorstep.platform.keys import Keys
from doorstep.platform.promote import promote, work_key
from doorstep.platform.scratch import scratch_folder
from doorstep.platform.types import utcnow
from doorstep.requests import service as copies
from doorstep.transparency import audit_store as audit

log = logging.getLogger(__name__)

#: The copy job's task name on the queue.
PET_SHARE_PREPARE = "pet_share_prepare"
#: A share still preparing after this long lost its job (the process running it died).
STALE_AFTER = timedelta(minutes=10)


def copy_context(share_id: str) -> bytes:
    """Associated data binding a wrapped pet-copy key to its share."""
    return b"doorstep pet share " + share_id.encode()


def is_preparing(share: PetShare) -> bool:
    """Shared, its copy not made yet, and not withdrawn or closed meanwhile."""
    return share.wrapped_key is None and share.withdrawn_at is None


def _take(db: Session, share: PetShare, *, size: int, ciphertext_size: int, wrapped: bytes) -> bool:
    # Conditional: a withdrawal, a close or the clip's deletion that landed meanwhile wins.
    result = db.execute(
        update(PetShare)
        .where(
            PetShare.id == share.id,
            PetShare.wrapped_key.is_(None),
            PetShare.withdrawn_at.is_(None),
            PetShare.clip_id.is_not(None),
        )
        .values(size=size, ciphertext_size=ciphertext_size, wrapped_key=wrapped)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def _record(db: Session, keys: Keys, share: PetShare) -> None:
    owner = db.get(User, share.owner_id)
    audit.record(
        db,
        keys.master,
        "pet.share",
        actor=owner,
        owner_id=share.owner_id,
        # Pseudonyms scoped to the notice; no notice, share, clip or camera id in the detail,
        # so this entry links to nothing else the owner did.
        scope=share.notice_id,
        detail={"to": "lost-pet notice", "redacted": True},
    )


def prepare_share(database: Database, keys: Keys, share_id: str) -> bool:
    """Make a share's face-redacted copy; True when this run made it, False otherwise.

    Safe to run again at any point: the copy is written under a work key and moved whole.
    """
    with database.session() as db:
        share = db.get(PetShare, share_id)
        if share is None:
            return False
        work = work_key(share.blob_key)
        if not is_preparing(share):
            keys.blobs.delete(work)
            return False
        clip = db.get(Clip, share.clip_id) if share.clip_id else None
        if clip is None or clip.wrapped_key is None:
            share.withdrawn_at = utcnow()
            log.info("pet share %s: its clip is gone; closed without a copy", share.id)
            return False
        log.info("pet share %s: making the copy", share.id)
        preview = copies.redacted_preview(db, keys, clip)
        content_key = new_key()
        with scratch_folder(keys, "pet-share") as folder:
            path = folder / "copy.mp4"
            with path.open("wb") as handle:
                for piece in copies.read_preview(keys, preview, 0, preview.size - 1):
                    handle.write(piece)
            with path.open("rb") as handle:
                sealed_size = keys.blobs.put(work, EncryptingReader(handle, content_key))
        promote(keys.blobs, work, share.blob_key)
        wrapped = wrap_key(keys.master, content_key, context=copy_context(share.id))
        if not _take(db, share, size=preview.size, ciphertext_size=sealed_size, wrapped=wrapped):
            keys.blobs.delete(share.blob_key)
            return False
        _record(db, keys, share)
    log.info("pet share %s: copy ready", share_id)
    return True


def stale_preparing(
    database: Database, now: datetime, older_than: timedelta = STALE_AFTER
) -> list[str]:
    """Shares preparing for longer than a job should take: their job was lost with a process."""
    with database.session() as db:
        query = select(PetShare.id).where(
            PetShare.wrapped_key.is_(None),
            PetShare.withdrawn_at.is_(None),
            PetShare.created_at < now - older_than,
        )
        return list(db.scalars(query))
