"""The backup file: one tar holding the database, the blobs and the data folder's key files.

Members: ``database/doorstep.sqlite`` (SQLite's online backup) or ``database/postgresql.dump``
(``pg_dump --format=custom``), ``blobs/<key>`` for every blob, ``files/<path>`` for the data
folder's other files (checkpoint key, provenance CA, VAPID key, kept derived keys, maps), and
``manifest.json`` last: the format's version, the schema revision, counts, and the SHA-256 and
size of every other member, sealed with an HMAC under a key derived from the master key (the
SHA-256s alone are self-declared: whoever edits a member can recompute them). Nothing is read
from a backup before every member has matched it, nor restored before the seal has.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from doorstep.errors import InvalidInput
from doorstep.platform.sealed import purpose_key

FORMAT = "doorstep-backup"
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
DATABASE = "database/"
BLOBS = "blobs/"
FILES = "files/"
_PIECE = 1 << 20


@dataclass(frozen=True, slots=True)
class Part:
    """One member's size and SHA-256."""

    size: int
    sha256: str


@dataclass
class Manifest:
    """What a backup holds and how to check it."""

    created: str
    schema_revision: str
    database: str
    key_check: str | None
    includes_master_key: bool
    format: str = FORMAT
    version: int = FORMAT_VERSION
    counts: dict[str, int] = field(default_factory=dict)
    parts: dict[str, Part] = field(default_factory=dict)
    mac: str = ""

    def _signed(self) -> bytes:
        body = asdict(self)
        del body["mac"]
        return json.dumps(body, sort_keys=True).encode()

    def seal(self, master_key: bytes) -> None:
        """Set ``mac``: the HMAC-SHA256 of everything else, under the master key's backup key."""
        self.mac = hmac.new(manifest_key(master_key), self._signed(), hashlib.sha256).hexdigest()

    def authentic(self, master_key: bytes) -> bool:
        """Whether ``mac`` is this manifest's under ``master_key``."""
        expected = hmac.new(manifest_key(master_key), self._signed(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.mac)

    def encode(self) -> bytes:
        """The manifest as JSON."""
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        """The manifest read back; ``InvalidInput`` for anything that is not one."""
        try:
            raw: dict[str, Any] = json.loads(data)
            if raw.get("format") != FORMAT:
                raise InvalidInput("this file is not a Doorstep backup")
            if raw.get("version") != FORMAT_VERSION:
                raise InvalidInput(
                    f"this backup's format version {raw.get('version')} is not one this "
                    f"Doorstep reads ({FORMAT_VERSION}): restore it with the Doorstep that made it"
                )
            parts = {name: Part(**part) for name, part in raw.pop("parts").items()}
            return cls(**raw, parts=parts)
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise InvalidInput(f"the backup's manifest is damaged: {err}") from err


def manifest_key(master_key: bytes) -> bytes:
    """The key a backup's manifest is sealed with: the restore needs the master key anyway."""
    return purpose_key(master_key, "backup-manifest")


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, src: IO[bytes]) -> None:
        self._src, self.digest, self.size = src, hashlib.sha256(), 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._src.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


class ArchiveWriter:
    """Writes a backup to ``path + .part``, renamed to ``path`` only once it is whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._part = path.with_name(path.name + ".part")
        fd = os.open(self._part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._handle = os.fdopen(fd, "wb")
        self._tar = tarfile.TarFile(fileobj=self._handle, mode="w", format=tarfile.PAX_FORMAT)
        self.parts: dict[str, Part] = {}

    def add(self, name: str, src: IO[bytes], size: int) -> None:
        """Add ``size`` bytes read from ``src`` as member ``name``."""
        info = tarfile.TarInfo(name)
        info.size, info.mode = size, 0o600
        hashing = _Hashing(src)
        self._tar.addfile(info, hashing)
        if hashing.size != size:
            raise InvalidInput(f"{name} changed size while it was copied")
        self.parts[name] = Part(size=size, sha256=hashing.digest.hexdigest())

    def add_file(self, name: str, path: Path) -> None:
        """Add the file at ``path`` as member ``name``."""
        with path.open("rb") as src:
            self.add(name, src, os.fstat(src.fileno()).st_size)

    def finish(self, manifest: Manifest, master_key: bytes) -> Path:
        """Write the manifest sealed under ``master_key``, sync, and give the backup its name."""
        manifest.parts = dict(self.parts)
        manifest.seal(master_key)
        data = manifest.encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(data), 0o600
        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._part, self.path)
        return self.path

    def abort(self) -> None:
        """Remove what was written: no half backup is left under any name."""
        with contextlib.suppress(OSError, tarfile.TarError):
            self._tar.close()
        self._handle.close()
        self._part.unlink(missing_ok=True)


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return not name.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def verify(path: Path) -> Manifest:
    """Check every member against the manifest; ``InvalidInput`` for any difference."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = tar.getmembers()
            names = [member.name for member in members]
            if MANIFEST not in names:
                raise InvalidInput("the backup has no manifest (truncated, or not a backup)")
            manifest_file = tar.extractfile(MANIFEST)
            assert manifest_file is not None
            manifest = Manifest.decode(manifest_file.read())
            listed = set(manifest.parts)
            present = {name for name in names if name != MANIFEST}
            if listed != present or len(names) != len(set(names)):
                missing = sorted(listed - present)[:3]
                raise InvalidInput(f"the backup's members do not match its manifest: {missing}")
            for member in members:
                if member.name == MANIFEST:
                    continue
                if not member.isfile() or not _safe_name(member.name):
                    raise InvalidInput(f"the backup holds an unexpected member {member.name!r}")
                _check_member(tar, member, manifest.parts[member.name])
            return manifest
    except (tarfile.TarError, OSError, EOFError) as err:
        raise InvalidInput(f"the backup cannot be read (damaged or truncated): {err}") from err


def _check_member(tar: tarfile.TarFile, member: tarfile.TarInfo, part: Part) -> None:
    src = tar.extractfile(member)
    assert src is not None
    digest, size = hashlib.sha256(), 0
    while piece := src.read(_PIECE):
        digest.update(piece)
        size += len(piece)
    if size != part.size or digest.hexdigest() != part.sha256:
        raise InvalidInput(f"the backup's {member.name} does not match its checksum: damaged")


def members(path: Path, prefix: str) -> Iterator[tuple[str, IO[bytes], int]]:
    """Each member under ``prefix``: its name without the prefix, a reader and its size."""
    with tarfile.open(path, mode="r:") as tar:
        for member in tar.getmembers():
            if member.name.startswith(prefix) and _safe_name(member.name):
                src = tar.extractfile(member)
                assert src is not None
                yield member.name.removeprefix(prefix), src, member.size
