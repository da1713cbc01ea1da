"""`doorstep admin backup` and `restore`: the database, then the blobs, then the key files.

The database is copied first and the blobs after it, so every blob the copy refers to is in the
backup (one deleted in between stays deleted: its clip was shredded after the copy was taken).
The master key stays out unless asked for: a backup holding its own key opens everyone's footage.
Restore writes only into an empty data folder and an empty database, and only once every
member of the backup matched its checksum; a failure leaves the targets as empty as they were.
"""

from __future__ import annotations

import base64
import errno
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from doorstep.clips import service as clips
from doorstep.clips.rules import RETENTION_CHOICES
from doorstep.errors import Conflict, DoorstepError, InvalidInput, NotFound
from doorstep.master_key import (
    KEPT_KEYS_FILE,
    MASTER_KEY_FILE,
    decode_master_key,
    load_master_key,
    read_kept_keys,
)
from doorstep.platform import backup_db, keycheck
from doorstep.platform.backup import (
    BLOBS,
    DATABASE,
    FILES,
    ArchiveWriter,
    Manifest,
    members,
    verify,
)
from doorstep.platform.blobs import BlobStore, LocalBlobStore, make_blob_store
from doorstep.platform.db import Database
from doorstep.platform.keys import WORK_FOLDER, Keys
from doorstep.platform.migrate import alembic_config, migrate
from doorstep.platform.sealed import MasterKey
from doorstep.platform.types import utcnow
from doorstep.settings import Settings

#: The data folder's files a backup holds, and nothing else: its keys and maps. Everything
#: else there (uploads with raw footage mid-seal, exports, scratch, metric files, a pending
#: master key, anything an operator dropped in) stays out. Keep in step with the writers:
#: transparency.checkpoint_store, media.provenance, notify.service_vapid, master_key, maps.
_KEPT_FILES = frozenset(
    {
        "audit-checkpoint.key",
        KEPT_KEYS_FILE,
        "vapid-private.pem",
        "provenance/signing.pem",
        "maps/base.pmtiles",
        "maps/gazetteer.json",
    }
)
#: Retired checkpoint keys still verify the checkpoints they signed.
_KEPT_PREFIXES = ("audit-checkpoint.key.retired-",)
#: Folders kept whole: the demo witness's state.
_KEPT_FOLDERS = ("witness/",)


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore put back."""

    manifest: Manifest
    master_key_written: bool
    #: Clips past their retention at the restore, shredded before anything is served.
    shredded: int = 0


def _sqlite_file(settings: Settings) -> Path | None:
    url = settings.resolved_database_url
    if backup_db.kind(url) != "sqlite":
        return None
    return Path(url.removeprefix("sqlite:///"))


def _kept(name: str, *, include_master_key: bool) -> bool:
    if name == MASTER_KEY_FILE:
        return include_master_key
    return (
        name in _KEPT_FILES
        or ("/" not in name and name.startswith(_KEPT_PREFIXES))
        or name.startswith(_KEPT_FOLDERS)
    )


def _data_files(settings: Settings, out: Path, *, include_master_key: bool) -> list[Path]:
    root = settings.data_dir
    found = []
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        subdirs[:] = [name for name in subdirs if not (here / name).is_symlink()]
        for name in files:
            path = here / name
            relative = path.relative_to(root).as_posix()
            if not _kept(relative, include_master_key=include_master_key):
                continue
            if path.is_symlink() or path.resolve() == out.resolve():
                continue
            found.append(path)
    return sorted(found)


def _add_data_file(writer: ArchiveWriter, name: str, path: Path) -> bool:
    """Add one key or map file; one that vanished since it was listed is left out."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, IsADirectoryError):
        return False
    except OSError as err:
        if err.errno == errno.ELOOP:  # became a symlink since it was listed
            return False
        raise
    # Key files are replaced whole (os.replace): the open file stays the one listed.
    with os.fdopen(fd, "rb") as src:
        writer.add(name, src, os.fstat(src.fileno()).st_size)
    return True


_SPOOL_PREFIX = ".doorstep-backup-"


def _clear_stale_spools(folder: Path) -> None:
    """Remove the spool folders of backups killed mid-way: each holds a database copy.

    A spool is named after its backup's process id; one whose process is gone is stale (a
    backup running beside this one keeps its own).
    """
    for spool in folder.glob(f"{_SPOOL_PREFIX}*"):
        pid = spool.name.removeprefix(_SPOOL_PREFIX).split("-")[0]
        if not spool.is_dir() or spool.is_symlink() or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(spool, ignore_errors=True)
        except PermissionError:
            continue  # alive, another user's


def _copy_blobs(store: BlobStore, writer: ArchiveWriter, spool: Path) -> int:
    count = 0
    for key in store.keys():  # noqa: SIM118 (a blob store, not a dict)
        with tempfile.TemporaryFile(dir=spool) as piece:
            try:
                for chunk in store.open_stream(key):
                    piece.write(chunk)
            except NotFound:
                continue  # deleted since the database copy: shredded, and rightly left out
            size = piece.tell()
            piece.seek(0)
            writer.add(BLOBS + key, piece, size)
            count += 1
    return count


def backup(settings: Settings, out: Path, *, include_master_key: bool = False) -> Manifest:
    """Write a backup of the running installation to ``out`` (a new file)."""
    if out.exists():
        raise Conflict(f"{out} exists already: give a new file name")
    url = settings.resolved_database_url
    writer = ArchiveWriter(out)
    try:
        _clear_stale_spools(out.parent)
        # mkdtemp makes it 0700: it holds a plaintext copy of the database while it lives.
        prefix = f"{_SPOOL_PREFIX}{os.getpid()}-"
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=prefix) as spool:
            copy = backup_db.snapshot(url, Path(spool))
            writer.add_file(DATABASE + copy.member, copy.path)
            copy.path.unlink()
            counts = dict(copy.counts)
            counts["blobs"] = _copy_blobs(make_blob_store(settings), writer, Path(spool))
        files = _data_files(settings, out, include_master_key=include_master_key)
        counts["files"] = sum(
            _add_data_file(writer, FILES + path.relative_to(settings.data_dir).as_posix(), path)
            for path in files
        )
        manifest = Manifest(
            created=utcnow().isoformat(),
            schema_revision=copy.revision,
            database=backup_db.kind(url),
            key_check=copy.key_check,
            includes_master_key=include_master_key,
            counts=counts,
        )
        writer.finish(manifest, load_master_key(settings))
    except BaseException:
        writer.abort()
        raise
    return manifest


def _known_revision(revision: str) -> None:
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise InvalidInput(
            f"this backup's schema ({revision}) is newer than this Doorstep's: restore it with "
            "the Doorstep version that made it, or a newer one"
        )


def _master_key(settings: Settings, manifest: Manifest, archive: Path, given: Path | None) -> bytes:
    if manifest.includes_master_key:
        for name, src, _ in members(archive, FILES):
            if name == MASTER_KEY_FILE:
                return decode_master_key(src.read().decode("ascii", "replace"))
    if given is not None:
        return decode_master_key(given.read_text())
    if settings.master_key.get_secret_value():
        return decode_master_key(settings.master_key.get_secret_value())
    raise InvalidInput(
        "this backup does not hold the master key: give the one it was made under, with "
        "--master-key-file or DOORSTEP_MASTER_KEY"
    )


def _check_targets(settings: Settings, store: BlobStore | None) -> None:
    folder = settings.data_dir
    if folder.exists() and any(folder.iterdir()):
        raise Conflict(f"{folder} is not empty: restore only into an empty data folder")
    if not backup_db.is_empty(settings.resolved_database_url):
        raise Conflict("the target database is not empty: restore only into an empty one")
    if store is not None and next(iter(store.keys()), None) is not None:
        raise Conflict("the target bucket is not empty: restore only into an empty one")


def restore(
    settings: Settings,
    archive: Path,
    *,
    master_key_file: Path | None = None,
    older_than_retention: bool = False,
) -> Restored:
    """Restore ``archive`` into the empty data folder and database ``settings`` name."""
    manifest = verify(archive)
    _known_revision(manifest.schema_revision)
    if not older_than_retention and _outlived_retention(manifest):
        raise InvalidInput(
            f"this backup is from {manifest.created}, older than the longest clip retention "
            f"({MAX_RETENTION.days} days): it still holds clips their owners deleted since. "
            "Restore it only if nothing newer exists, with --older-than-retention"
        )
    s3 = make_blob_store(settings) if settings.blob_store == "s3" else None
    _check_targets(settings, s3)
    try:
        master_key = _master_key(settings, manifest, archive, master_key_file)
    except ValueError as err:
        raise InvalidInput(f"the master key given: {err}") from err
    if manifest.key_check and keycheck.key_digest(master_key) != manifest.key_check:
        raise InvalidInput("the master key given is not the one this backup was made under")
    if not manifest.authentic(master_key):
        raise InvalidInput(
            "the backup's manifest does not match its seal: it was altered, or made under "
            "another master key; nothing was restored"
        )
    folder = settings.data_dir
    staging = folder.with_name(f".{folder.name}.restoring")
    shutil.rmtree(staging, ignore_errors=True)
    url = _staged_url(settings, staging)
    put: list[str] = []
    # Only what this restore wrote is undone: a database found populated meanwhile (a serve
    # started and migrated it) is someone else's and is left alone.
    database_written: list[bool] = []
    write_key = not manifest.includes_master_key and not settings.master_key.get_secret_value()
    try:
        staging.mkdir(mode=0o700, parents=True)
        for name, src, _ in members(archive, FILES):
            _write_private(staging / name, src)
        if write_key:
            key_text = base64.b64encode(master_key) + b"\n"
            _write_private(staging / MASTER_KEY_FILE, io.BytesIO(key_text))
        store = s3 or LocalBlobStore(staging / "blobs")
        for name, src, size in members(archive, BLOBS):
            store.put(name, src, max_size=size)
            put.append(name)
        for name, src, _ in members(archive, DATABASE):
            copy = staging / ".database"
            _write_private(copy, src)
            backup_db.restore(url, name, copy, writing=lambda: database_written.append(True))
            copy.unlink()
        if folder.exists():
            folder.rmdir()
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _undo(url if database_written else None, s3, put)
        raise
    database = Database(settings.resolved_database_url)
    try:
        migrate(database.engine)
        with database.session() as db:
            keycheck.check(db, master_key)
        # Clips past retention go before anything is served: the backup may be days old.
        keys = Keys(
            master=MasterKey(master_key, read_kept_keys(settings.data_dir, master_key)),
            blobs=make_blob_store(settings),
            scratch=settings.data_dir / WORK_FOLDER,
        )
        with database.session() as db:
            shredded = clips.expire_clips(db, keys)
    finally:
        database.dispose()
    return Restored(manifest=manifest, master_key_written=write_key, shredded=shredded)


#: No clip is kept longer than this: a backup older than it holds only what owners let go.
MAX_RETENTION = timedelta(days=max(RETENTION_CHOICES))


def _outlived_retention(manifest: Manifest) -> bool:
    try:
        created = datetime.fromisoformat(manifest.created)
    except ValueError as err:
        raise InvalidInput(f"the backup's creation time is damaged: {err}") from err
    return utcnow() - created > MAX_RETENTION


def _staged_url(settings: Settings, staging: Path) -> str:
    """Where the database goes while restoring: inside the staging folder if in the data folder."""
    url = settings.resolved_database_url
    database = _sqlite_file(settings)
    if database is not None and database.resolve().is_relative_to(settings.data_dir.resolve()):
        return f"sqlite:///{staging / database.resolve().relative_to(settings.data_dir.resolve())}"
    return url


def _undo(url: str | None, s3: BlobStore | None, put: list[str]) -> None:
    try:
        if url is not None:
            backup_db.forget(url)
        if s3 is not None:
            for name in put:
                s3.delete(name)
    except (DoorstepError, SQLAlchemyError, OSError):
        pass  # the first failure is what the operator must see


def _write_private(path: Path, src: IO[bytes]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        shutil.copyfileobj(src, handle, 1 << 20)
