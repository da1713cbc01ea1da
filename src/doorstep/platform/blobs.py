"""Blob stores for sealed clips: files under the data folder by default, any S3 API when scaled out.

Both stores take the same keys (``owner/clip.dsc``-style paths of ``[A-Za-z0-9_.-]`` segments), so
blobs can move between them. Blobs are opaque bytes; encryption happens before ``put`` (see
``doorstep.platform.crypto``), so neither store ever sees a clip in the clear.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from doorstep.errors import InvalidInput, NotFound, PayloadTooLarge
from doorstep.platform import _s3
from doorstep.platform.folders import private_folder

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

    from doorstep.settings import Settings

STREAM_PIECE_SIZE = 1024 * 1024
MAX_KEY_LENGTH = 512
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")


class Readable(Protocol):
    """Anything with ``read(size) -> bytes``: an open file, an upload, an EncryptingReader."""

    def read(self, size: int = -1, /) -> bytes:
        """Return up to ``size`` bytes; b"" at the end."""
        ...


class BlobStore(Protocol):
    """Where sealed clips are kept: whole-blob writes, ranged reads, listing and deletion."""

    def put(self, key: str, src: Readable, *, max_size: int | None = None) -> int:
        """Store everything readable from ``src`` under ``key`` all at once; return its size."""
        ...

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``offset``; fewer at the end, b"" past it."""
        ...

    def size(self, key: str) -> int:
        """Return the size in bytes of the blob."""
        ...

    def open_stream(self, key: str) -> Iterator[bytes]:
        """Return the blob's bytes in pieces; NotFound is raised here, not on the first piece."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; removing a blob that is not there is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys starting with ``prefix``, in an order that depends on the backend."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe blob key, else raise InvalidInput."""
    segments = key.split("/")
    if (
        not key
        or len(key) > MAX_KEY_LENGTH
        or not all(_KEY_SEGMENT.fullmatch(segment) for segment in segments)
        # Dot-led segments would allow "." and ".." and clash with in-progress writes.
        or any(segment.startswith(".") for segment in segments)
    ):
        raise InvalidInput(f"{key!r} is not a valid blob key", field="key")
    return key


def blob_label(key: str) -> str:
    """How errors and logs name a blob: its kind only.

    A key holds ids (``clips/<owner>/<clip>``, ``shares/<share>``); an error message reaches
    logs that outlive the blob, and a response may reach someone the ids would tell too much.
    """
    return f"{key.partition('/')[0] or 'unnamed'} blob"


def make_blob_store(settings: Settings) -> BlobStore:
    """Return the blob store the settings choose; an S3 bucket is created when missing."""
    if settings.blob_store == "s3":
        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.data_dir / "blobs")


class _Metered:
    """Counts what passes through ``read`` and stops a source that grows past the limit."""

    def __init__(self, src: Readable, key: str, max_size: int | None) -> None:
        self._src = src
        self._key = key
        self._max_size = max_size
        self.count = 0

    def read(self, size: int = -1, /) -> bytes:
        """Return ``size`` bytes unless the source ends first, as buffered files do.

        The S3 transfer manager takes a short read for the end of the upload, so sources that
        return less (sockets, request bodies) are read again until full.
        """
        parts: list[bytes] = []
        wanted = size
        while wanted != 0:
            piece = self._src.read(wanted if wanted > 0 else STREAM_PIECE_SIZE)
            if not piece:
                break
            self.count += len(piece)
            if self._max_size is not None and self.count > self._max_size:
                raise PayloadTooLarge(f"{blob_label(self._key)} is over {self._max_size} bytes")
            parts.append(piece)
            wanted = wanted - len(piece) if wanted > 0 else wanted
        return b"".join(parts)


def _check_span(offset: int, length: int) -> None:
    if offset < 0 or length < 0:
        raise ValueError(f"cannot read {length} bytes at offset {offset}")


class LocalBlobStore:
    """Blobs as files under one folder; each write lands whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root
        private_folder(root, tighten=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put(self, key: str, src: Readable, *, max_size: int | None = None) -> int:
        """Write to a hidden temporary file beside the target, fsync it, then rename it in place."""
        path = self._path(key)
        # Folder names are owner and clip ids; mkstemp makes the file itself 0600.
        private_folder(path.parent)
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        metered = _Metered(src, key, max_size)
        try:
            with os.fdopen(fd, "wb") as out:
                while piece := metered.read(STREAM_PIECE_SIZE):
                    out.write(piece)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp_name, path)
        except BaseException:
            # Also on KeyboardInterrupt: a failed write must leave neither a blob nor a stray file.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _fsync_directory(path.parent)
        return metered.count

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``offset``; fewer at the end, b"" past it."""
        _check_span(offset, length)
        try:
            with self._path(key).open("rb") as handle:
                return os.pread(handle.fileno(), length, offset)
        except FileNotFoundError as err:
            raise NotFound(f"no such {blob_label(key)}") from err

    def size(self, key: str) -> int:
        """Return the size in bytes of the blob."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as err:
            raise NotFound(f"no such {blob_label(key)}") from err

    def open_stream(self, key: str) -> Iterator[bytes]:
        """Return the blob's bytes in pieces; NotFound is raised here, not on the first piece."""
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError as err:
            raise NotFound(f"no such {blob_label(key)}") from err
        return _file_pieces(handle)

    def delete(self, key: str) -> None:
        """Remove the blob; removing a blob that is not there is not an error."""
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys starting with ``prefix`` in sorted order; unfinished writes are hidden."""
        folder, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*validate_key(folder).split("/")) if folder else self.root
        found: list[str] = []
        for directory, subdirs, files in os.walk(start):
            subdirs[:] = [name for name in subdirs if not name.startswith(".")]
            relative = Path(directory).relative_to(self.root).as_posix()
            base = "" if relative == "." else relative + "/"
            found.extend(base + name for name in files if not name.startswith("."))
        return iter(sorted(key for key in found if key.startswith(prefix)))


def _file_pieces(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while piece := handle.read(STREAM_PIECE_SIZE):
            yield piece


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable, not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3BlobStore:
    """Blobs as objects in one bucket of any S3 API; big blobs go up in parts."""

    def __init__(
        self, client: S3Client, bucket: str, *, transfer: TransferConfig | None = None
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.transfer = transfer or TransferConfig(
            multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        """Connect to the endpoint in the settings and create the bucket if it is missing."""
        client = _s3.make_client(settings)
        _s3.ensure_bucket(client, settings.s3_bucket)
        return cls(client, settings.s3_bucket)

    def put(self, key: str, src: Readable, *, max_size: int | None = None) -> int:
        """Upload in one request, or in parts when big; S3 makes the object visible only whole."""
        metered = _Metered(src, validate_key(key), max_size)
        try:
            # The transfer manager only ever calls read() on a non-seekable source.
            self.client.upload_fileobj(
                cast(BinaryIO, metered), self.bucket, key, Config=self.transfer
            )
        except (ClientError, BotoCoreError) as err:
            raise _s3.translate(err, what=blob_label(key)) from err
        except S3UploadFailedError as err:
            cause = err.__cause__
            raise _s3.translate(
                cause if isinstance(cause, Exception) else err, what=blob_label(key)
            ) from err
        return metered.count

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``offset`` with one Range GET."""
        _check_span(offset, length)
        validate_key(key)
        if length == 0:
            self.size(key)
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
            )
            with contextlib.closing(response["Body"]) as body:
                return body.read()
        except ClientError as err:
            if _s3.is_out_of_range(err):
                return b""
            raise _s3.translate(err, what=blob_label(key)) from err
        except BotoCoreError as err:
            raise _s3.translate(err, what=blob_label(key)) from err

    def size(self, key: str) -> int:
        """Return the size in bytes of the blob."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=validate_key(key))[
                "ContentLength"
            ]
        except (ClientError, BotoCoreError) as err:
            raise _s3.translate(err, what=blob_label(key)) from err

    def open_stream(self, key: str) -> Iterator[bytes]:
        """Return the blob's bytes in pieces; NotFound is raised here, not on the first piece."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=validate_key(key))
        except (ClientError, BotoCoreError) as err:
            raise _s3.translate(err, what=blob_label(key)) from err
        return self._pieces(key, response["Body"].iter_chunks(STREAM_PIECE_SIZE))

    def _pieces(self, key: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
        try:
            yield from chunks
        except BotoCoreError as err:
            raise _s3.translate(err, what=blob_label(key)) from err

    def delete(self, key: str) -> None:
        """Remove the blob; removing a blob that is not there is not an error."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=validate_key(key))
        except (ClientError, BotoCoreError) as err:
            raise _s3.translate(err, what=blob_label(key)) from err

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as err:
            if _s3.is_missing(err):
                return False
            raise _s3.translate(err, what=blob_label(key)) from err
        except BotoCoreError as err:
            raise _s3.translate(err, what=blob_label(key)) from err
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys starting with ``prefix`` in the order the S3 API lists them."""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    yield entry["Key"]
        except (ClientError, BotoCoreError) as err:
            raise _s3.translate(err, what=f"prefix {prefix!r}") from err
