from __future__ import annotations

import io
import random
import socket
from pathlib import Path

import pytest
from pydantic import SecretStr

from doorstep.errors import InvalidInput, NotFound, PayloadTooLarge, Unavailable
from doorstep.platform.blobs import BlobStore, LocalBlobStore, S3BlobStore, make_blob_store
from doorstep.platform.crypto import EncryptingReader, decrypt_range, decrypt_stream, new_key
from doorstep.settings import Settings

BAD_KEYS = [
    "",
    "../escape",
    "owner/../../escape",
    "/etc/passwd",
    "owner\\clip",
    "owner//clip",
    "owner/",
    "./clip",
    ".hidden",
    "owner/clip name",
    "owner/clíp",
    "x" * 513,
]


class FailingSource:
    """An upload in short reads, like a socket, whose connection drops after ``good`` bytes."""

    def __init__(self, good: int) -> None:
        self.left = good

    def read(self, size: int = -1, /) -> bytes:
        if self.left == 0:
            raise ConnectionResetError("the camera went away mid-upload")
        piece = b"v" * min(self.left, 1000, size if size > 0 else 1000)
        self.left -= len(piece)
        return piece


class ShortReads:
    """An upload that hands over at most 7 bytes per read, as a slow connection may."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def read(self, size: int = -1, /) -> bytes:
        return self.data.read(min(size, 7) if size > 0 else 7)


def test_put_then_read_back(blob_store: BlobStore) -> None:
    data = random.Random(1).randbytes(300_000)

    size = blob_store.put("owner-1/clip-1.dsc", io.BytesIO(data))

    assert size == len(data)
    assert blob_store.size("owner-1/clip-1.dsc") == len(data)
    assert blob_store.exists("owner-1/clip-1.dsc")
    assert b"".join(blob_store.open_stream("owner-1/clip-1.dsc")) == data


@pytest.mark.parametrize(
    ("offset", "length"), [(0, 10), (12_345, 1), (299_990, 10), (299_995, 10), (0, 0)]
)
def test_read_at_returns_exactly_the_asked_bytes(
    blob_store: BlobStore, offset: int, length: int
) -> None:
    data = random.Random(2).randbytes(300_000)
    blob_store.put("clip.dsc", io.BytesIO(data))

    assert blob_store.read_at("clip.dsc", offset, length) == data[offset : offset + length]


def test_read_at_past_the_end_is_empty(blob_store: BlobStore) -> None:
    blob_store.put("clip.dsc", io.BytesIO(b"short"))

    assert blob_store.read_at("clip.dsc", 10, 5) == b""


def test_short_reads_from_the_source_are_stored_whole(blob_store: BlobStore) -> None:
    assert blob_store.put("clip.dsc", ShortReads(b"abcdefghij" * 500)) == 5000

    assert b"".join(blob_store.open_stream("clip.dsc")) == b"abcdefghij" * 500


def test_empty_blob(blob_store: BlobStore) -> None:
    assert blob_store.put("empty.dsc", io.BytesIO(b"")) == 0
    assert blob_store.size("empty.dsc") == 0
    assert b"".join(blob_store.open_stream("empty.dsc")) == b""


def test_put_replaces_an_existing_blob(blob_store: BlobStore) -> None:
    blob_store.put("clip.dsc", io.BytesIO(b"old bytes"))

    blob_store.put("clip.dsc", io.BytesIO(b"new"))

    assert b"".join(blob_store.open_stream("clip.dsc")) == b"new"


def test_delete_removes_the_blob_and_is_idempotent(blob_store: BlobStore) -> None:
    blob_store.put("owner-1/clip.dsc", io.BytesIO(b"footage"))

    blob_store.delete("owner-1/clip.dsc")
    blob_store.delete("owner-1/clip.dsc")

    assert not blob_store.exists("owner-1/clip.dsc")
    assert list(blob_store.keys()) == []


def test_keys_lists_by_prefix(blob_store: BlobStore) -> None:
    for key in ["b/2.dsc", "a/1.dsc", "a/sub/3.dsc", "ab/4.dsc", "a.dsc"]:
        blob_store.put(key, io.BytesIO(key.encode()))

    assert sorted(blob_store.keys()) == ["a.dsc", "a/1.dsc", "a/sub/3.dsc", "ab/4.dsc", "b/2.dsc"]
    assert sorted(blob_store.keys("a/")) == ["a/1.dsc", "a/sub/3.dsc"]
    assert sorted(blob_store.keys("a")) == ["a.dsc", "a/1.dsc", "a/sub/3.dsc", "ab/4.dsc"]
    assert list(blob_store.keys("c/")) == []


def test_missing_blob_is_not_found(blob_store: BlobStore) -> None:
    assert not blob_store.exists("nope.dsc")
    with pytest.raises(NotFound):
        blob_store.size("nope.dsc")
    with pytest.raises(NotFound):
        blob_store.read_at("nope.dsc", 0, 10)
    with pytest.raises(NotFound):
        blob_store.open_stream("nope.dsc")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused(blob_store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        blob_store.put(key, io.BytesIO(b"x"))
    with pytest.raises(InvalidInput):
        blob_store.read_at(key, 0, 1)
    with pytest.raises(InvalidInput):
        blob_store.exists(key)


def test_interrupted_upload_leaves_no_blob(blob_store: BlobStore) -> None:
    with pytest.raises(ConnectionResetError):
        blob_store.put("owner-1/clip.dsc", FailingSource(good=5000))

    assert not blob_store.exists("owner-1/clip.dsc")
    assert list(blob_store.keys()) == []


def test_interrupted_overwrite_keeps_the_old_blob(blob_store: BlobStore) -> None:
    blob_store.put("clip.dsc", io.BytesIO(b"complete clip"))

    with pytest.raises(ConnectionResetError):
        blob_store.put("clip.dsc", FailingSource(good=5000))

    assert b"".join(blob_store.open_stream("clip.dsc")) == b"complete clip"


def test_upload_over_the_limit_is_refused_and_not_kept(blob_store: BlobStore) -> None:
    with pytest.raises(PayloadTooLarge):
        blob_store.put("clip.dsc", io.BytesIO(bytes(10_001)), max_size=10_000)

    assert not blob_store.exists("clip.dsc")


def test_sealed_clip_plays_ranges_from_the_store(blob_store: BlobStore) -> None:
    key = new_key()
    plaintext = random.Random(5).randbytes(700_000)
    reader = EncryptingReader(io.BytesIO(plaintext), key)

    stored = blob_store.put("owner-1/clip.dsc", reader)

    def read_at(offset: int, length: int) -> bytes:
        return blob_store.read_at("owner-1/clip.dsc", offset, length)

    assert stored == reader.info.ciphertext_size == blob_store.size("owner-1/clip.dsc")
    assert decrypt_range(read_at, key, 200_000, 333_333, stored) == plaintext[200_000:333_334]
    assert b"".join(decrypt_stream(blob_store.open_stream("owner-1/clip.dsc"), key)) == plaintext


def test_interrupted_local_write_leaves_no_temporary_file(local_store: LocalBlobStore) -> None:
    with pytest.raises(ConnectionResetError):
        local_store.put("owner-1/clip.dsc", FailingSource(good=3 * 1024 * 1024))

    assert [p for p in local_store.root.rglob("*") if p.is_file()] == []


def test_local_blobs_stay_inside_the_root(local_store: LocalBlobStore) -> None:
    local_store.put("owner-1/clip.dsc", io.BytesIO(b"footage"))

    assert (local_store.root / "owner-1" / "clip.dsc").read_bytes() == b"footage"


def test_local_store_lives_in_the_data_folder(tmp_path: Path) -> None:
    store = make_blob_store(Settings(data_dir=tmp_path, blob_store="local"))

    store.put("clip.dsc", io.BytesIO(b"footage"))

    assert (tmp_path / "blobs" / "clip.dsc").read_bytes() == b"footage"


@pytest.mark.s3
def test_s3_store_creates_its_bucket(s3_settings: Settings) -> None:
    store = make_blob_store(s3_settings)

    assert isinstance(store, S3BlobStore)
    assert (
        store.client.head_bucket(Bucket=s3_settings.s3_bucket)["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )
    assert isinstance(make_blob_store(s3_settings), S3BlobStore)


@pytest.mark.s3
def test_s3_big_upload_goes_up_in_parts(s3_settings: Settings) -> None:
    store = S3BlobStore.from_settings(s3_settings)
    data = random.Random(9).randbytes(40 * 1024 * 1024 + 17)

    assert store.put("big.dsc", io.BytesIO(data)) == len(data)

    # A multipart upload's ETag ends in the number of parts.
    assert store.client.head_object(Bucket=store.bucket, Key="big.dsc")["ETag"].endswith('-3"')

    assert (
        store.read_at("big.dsc", 20 * 1024 * 1024 - 3, 6)
        == data[20 * 1024 * 1024 - 3 : 20 * 1024 * 1024 + 3]
    )
    assert b"".join(store.open_stream("big.dsc")) == data


def test_s3_store_that_cannot_be_reached_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = Settings(
        data_dir=tmp_path,
        blob_store="s3",
        s3_endpoint_url=f"http://127.0.0.1:{port}",
        s3_access_key=SecretStr("doorstep-test"),
        s3_secret_key=SecretStr("doorstep-test-secret"),
    )

    with pytest.raises(Unavailable):
        make_blob_store(settings)
