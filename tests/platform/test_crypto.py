from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable

import pytest

from doorstep.errors import RangeNotSatisfiable
from doorstep.platform.crypto import (
    DEFAULT_CHUNK_SIZE,
    HEADER_SIZE,
    TAG_SIZE,
    DecryptionFailed,
    EncryptedInfo,
    EncryptingReader,
    ciphertext_size,
    clip_key_context,
    decrypt_all,
    decrypt_range,
    encrypt_file,
    new_key,
    owner_key_context,
    plaintext_size,
    unwrap_key,
    wrap_key,
)

SMALL_CHUNK = 64
SEALED_SMALL = SMALL_CHUNK + TAG_SIZE


class RecordedReads:
    """A ``read_at`` over bytes in memory that remembers every read it served."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.data[offset : offset + length]


def seal(plaintext: bytes, key: bytes, chunk_size: int = SMALL_CHUNK) -> bytes:
    out = io.BytesIO()
    encrypt_file(io.BytesIO(plaintext), out, key, chunk_size=chunk_size)
    return out.getvalue()


def pieces(data: bytes, size: int = 37) -> list[bytes]:
    return [data[at : at + size] for at in range(0, len(data), size)]


def full_range(sealed: bytes, key: bytes) -> bytes:
    size = plaintext_size(len(sealed), SMALL_CHUNK)
    return decrypt_range(RecordedReads(sealed), key, 0, size - 1, len(sealed))


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        DEFAULT_CHUNK_SIZE - 1,
        DEFAULT_CHUNK_SIZE,
        DEFAULT_CHUNK_SIZE + 1,
        3 * DEFAULT_CHUNK_SIZE,
        3 * DEFAULT_CHUNK_SIZE + 12345,
    ],
)
def test_round_trip_across_chunk_boundaries(size: int) -> None:
    key = new_key()
    plaintext = random.Random(size).randbytes(size)
    out = io.BytesIO()

    info = encrypt_file(io.BytesIO(plaintext), out, key)

    sealed = out.getvalue()
    assert info == EncryptedInfo(size, len(sealed), hashlib.sha256(plaintext).hexdigest())
    assert len(sealed) == ciphertext_size(size)
    assert plaintext_size(len(sealed)) == size
    assert decrypt_all(pieces(sealed, 50_000), key) == plaintext


@pytest.mark.parametrize("seed", range(25))
def test_random_range_reads_only_the_covering_chunks(seed: int) -> None:
    rng = random.Random(seed)
    key = new_key()
    plaintext = rng.randbytes(rng.randrange(1, 20 * SMALL_CHUNK))
    sealed = seal(plaintext, key)
    start = rng.randrange(len(plaintext))
    end = rng.randrange(start, len(plaintext))
    reads = RecordedReads(sealed)

    got = decrypt_range(reads, key, start, end, len(sealed))

    first, last = start // SMALL_CHUNK, end // SMALL_CHUNK
    chunk_offset = HEADER_SIZE + first * SEALED_SMALL
    chunk_end = min(HEADER_SIZE + (last + 1) * SEALED_SMALL, len(sealed))
    assert got == plaintext[start : end + 1]
    assert reads.reads == [(0, HEADER_SIZE), (chunk_offset, chunk_end - chunk_offset)]


def test_long_range_is_read_in_bounded_runs() -> None:
    key = new_key()
    plaintext = random.Random(7).randbytes(40 * SMALL_CHUNK)
    sealed = seal(plaintext, key)
    reads = RecordedReads(sealed)

    got = decrypt_range(reads, key, 10, len(plaintext) - 10, len(sealed))

    assert got == plaintext[10 : len(plaintext) - 9]
    assert max(length for _, length in reads.reads) == 16 * SEALED_SMALL
    assert sum(length for _, length in reads.reads) == len(sealed)


@pytest.mark.parametrize(("start", "end"), [(0, 100), (-1, 5), (50, 10), (99, 99)])
def test_range_outside_the_clip_is_not_satisfiable(start: int, end: int) -> None:
    key = new_key()
    sealed = seal(bytes(99), key)

    with pytest.raises(RangeNotSatisfiable):
        decrypt_range(RecordedReads(sealed), key, start, end, len(sealed))


def test_reader_streams_the_same_format_in_small_reads() -> None:
    key = new_key()
    plaintext = random.Random(3).randbytes(5 * SMALL_CHUNK + 9)
    reader = EncryptingReader(io.BytesIO(plaintext), key, chunk_size=SMALL_CHUNK)

    sealed = b"".join(iter(lambda: reader.read(13), b""))

    assert decrypt_all([sealed], key) == plaintext
    assert reader.info.ciphertext_size == len(sealed)


def flip_chunk_byte(sealed: bytes) -> bytes:
    at = HEADER_SIZE + 2 * SEALED_SMALL + 5
    return sealed[:at] + bytes([sealed[at] ^ 1]) + sealed[at + 1 :]


def flip_tag_byte(sealed: bytes) -> bytes:
    return sealed[:-1] + bytes([sealed[-1] ^ 0x80])


def change_chunk_size(sealed: bytes) -> bytes:
    return sealed[:5] + (SMALL_CHUNK * 2).to_bytes(4, "big") + sealed[9:]


def drop_last_chunk(sealed: bytes) -> bytes:
    return sealed[: HEADER_SIZE + 4 * SEALED_SMALL]


def swap_two_chunks(sealed: bytes) -> bytes:
    one = slice(HEADER_SIZE, HEADER_SIZE + SEALED_SMALL)
    two = slice(HEADER_SIZE + SEALED_SMALL, HEADER_SIZE + 2 * SEALED_SMALL)
    return sealed[:HEADER_SIZE] + sealed[two] + sealed[one] + sealed[two.stop :]


def truncate_mid_chunk(sealed: bytes) -> bytes:
    return sealed[:-7]


def truncate_to_header(sealed: bytes) -> bytes:
    return sealed[:HEADER_SIZE]


def append_bytes(sealed: bytes) -> bytes:
    return sealed + bytes(TAG_SIZE + 1)


def not_a_clip(sealed: bytes) -> bytes:
    return b"MP4 " + sealed[4:]


TAMPERS = [
    flip_chunk_byte,
    flip_tag_byte,
    change_chunk_size,
    drop_last_chunk,
    swap_two_chunks,
    truncate_mid_chunk,
    truncate_to_header,
    append_bytes,
    not_a_clip,
]


@pytest.fixture
def clip() -> tuple[bytes, bytes]:
    """A content key and 4½ small chunks sealed with it."""
    key = new_key()
    return key, seal(random.Random(11).randbytes(4 * SMALL_CHUNK + 30), key)


@pytest.mark.parametrize("tamper", TAMPERS)
def test_tampering_is_detected_when_streaming(
    clip: tuple[bytes, bytes], tamper: Callable[[bytes], bytes]
) -> None:
    key, sealed = clip

    with pytest.raises(DecryptionFailed):
        decrypt_all(pieces(tamper(sealed)), key)


@pytest.mark.parametrize("tamper", TAMPERS)
def test_tampering_is_detected_when_reading_a_range(
    clip: tuple[bytes, bytes], tamper: Callable[[bytes], bytes]
) -> None:
    key, sealed = clip

    with pytest.raises(DecryptionFailed):
        full_range(tamper(sealed), key)


def test_untouched_chunks_still_play_beside_a_damaged_one(clip: tuple[bytes, bytes]) -> None:
    key, sealed = clip
    damaged = flip_chunk_byte(sealed)

    assert decrypt_range(RecordedReads(damaged), key, 0, 2 * SMALL_CHUNK - 1, len(damaged)) == (
        decrypt_range(RecordedReads(sealed), key, 0, 2 * SMALL_CHUNK - 1, len(sealed))
    )
    with pytest.raises(DecryptionFailed):
        decrypt_range(RecordedReads(damaged), key, 2 * SMALL_CHUNK, 2 * SMALL_CHUNK, len(damaged))


def test_wrong_key_is_detected(clip: tuple[bytes, bytes]) -> None:
    _, sealed = clip

    with pytest.raises(DecryptionFailed):
        decrypt_all([sealed], new_key())
    with pytest.raises(DecryptionFailed):
        full_range(sealed, new_key())


def test_same_clip_sealed_twice_differs() -> None:
    key = new_key()
    plaintext = bytes(300)

    assert seal(plaintext, key) != seal(plaintext, key)


def test_wrapped_key_unwraps_with_its_key_and_context() -> None:
    master, data_key = new_key(), new_key()
    wrapped = wrap_key(master, data_key, context=owner_key_context("owner-1"))

    assert unwrap_key(master, wrapped, context=owner_key_context("owner-1")) == data_key
    assert data_key not in wrapped


@pytest.mark.parametrize(
    "context",
    [owner_key_context("owner-2"), clip_key_context("owner-1", "clip-1"), b""],
)
def test_wrapped_key_moved_to_another_row_is_refused(context: bytes) -> None:
    master = new_key()
    wrapped = wrap_key(master, new_key(), context=owner_key_context("owner-1"))

    with pytest.raises(DecryptionFailed):
        unwrap_key(master, wrapped, context=context)


@pytest.mark.parametrize(
    "damage",
    [lambda w: w[:-1], lambda w: b"\x02" + w[1:], lambda w: w[:20] + bytes([w[20] ^ 4]) + w[21:]],
)
def test_damaged_wrapped_key_is_refused(damage: Callable[[bytes], bytes]) -> None:
    master = new_key()
    wrapped = wrap_key(master, new_key(), context=b"owner:1")

    with pytest.raises(DecryptionFailed):
        unwrap_key(master, damage(wrapped), context=b"owner:1")


def test_wrapped_key_refuses_wrong_wrapping_key() -> None:
    wrapped = wrap_key(new_key(), new_key(), context=b"owner:1")

    with pytest.raises(DecryptionFailed):
        unwrap_key(new_key(), wrapped, context=b"owner:1")


class ServerKeys:
    """The key rows a Doorstep server keeps: wrapped data keys per owner, content keys per clip."""

    def __init__(self) -> None:
        self.master = new_key()
        self.owner_keys: dict[str, bytes] = {}
        self.clip_keys: dict[tuple[str, str], bytes] = {}
        self.blobs: dict[tuple[str, str], bytes] = {}

    def add_owner(self, owner: str) -> None:
        self.owner_keys[owner] = wrap_key(self.master, new_key(), context=owner_key_context(owner))

    def data_key(self, owner: str) -> bytes:
        return unwrap_key(self.master, self.owner_keys[owner], context=owner_key_context(owner))

    def add_clip(self, owner: str, clip: str, plaintext: bytes) -> None:
        content_key = new_key()
        context = clip_key_context(owner, clip)
        self.clip_keys[owner, clip] = wrap_key(self.data_key(owner), content_key, context=context)
        self.blobs[owner, clip] = seal(plaintext, content_key)

    def play(self, owner: str, clip: str) -> bytes:
        context = clip_key_context(owner, clip)
        content_key = unwrap_key(self.data_key(owner), self.clip_keys[owner, clip], context=context)
        return decrypt_all([self.blobs[owner, clip]], content_key)

    def every_key_held(self) -> list[bytes]:
        """Master, every data key still wrapped, every content key still wrapped."""
        data_keys = [self.data_key(owner) for owner in self.owner_keys]
        content_keys = [
            unwrap_key(self.data_key(owner), wrapped, context=clip_key_context(owner, clip))
            for (owner, clip), wrapped in self.clip_keys.items()
        ]
        return [self.master, *data_keys, *content_keys]


def decrypt_failure(sealed: bytes, key: bytes) -> type[DecryptionFailed] | None:
    try:
        decrypt_all([sealed], key)
    except DecryptionFailed as err:
        return type(err)
    return None


def unwrap_failure(key: bytes, wrapped: bytes, context: bytes) -> type[DecryptionFailed] | None:
    try:
        unwrap_key(key, wrapped, context=context)
    except DecryptionFailed as err:
        return type(err)
    return None


@pytest.fixture
def server() -> ServerKeys:
    """Two owners, two clips each, all playable."""
    keys = ServerKeys()
    for owner in ("alice", "bob"):
        keys.add_owner(owner)
        keys.add_clip(owner, "front-door", f"{owner} front door".encode() * 20)
        keys.add_clip(owner, "driveway", f"{owner} driveway".encode() * 20)
    return keys


def test_deleted_clip_cannot_be_decrypted_by_any_key_left(server: ServerKeys) -> None:
    leftover = server.blobs[("alice", "front-door")]

    del server.clip_keys[("alice", "front-door")]

    held = server.every_key_held()
    assert len(held) == 1 + 2 + 3
    assert [decrypt_failure(leftover, k) for k in held] == ([DecryptionFailed] * len(held))
    assert server.play("alice", "driveway") == b"alice driveway" * 20


def test_deleted_account_shreds_every_clip_and_key_of_theirs(server: ServerKeys) -> None:
    leftover_blobs = [server.blobs[("alice", clip)] for clip in ("front-door", "driveway")]
    # Even with the clip key rows surviving (say in a backup), the owner's data key is gone.
    leftover_clip_keys = [server.clip_keys.pop(("alice", c)) for c in ("front-door", "driveway")]

    del server.owner_keys["alice"]

    held = server.every_key_held()
    contexts = [clip_key_context("alice", c) for c in ("front-door", "driveway")]
    unwraps = [
        unwrap_failure(k, w, c)
        for k in held
        for w, c in zip(leftover_clip_keys, contexts, strict=True)
    ]
    decrypts = [decrypt_failure(b, k) for k in held for b in leftover_blobs]
    assert unwraps == [DecryptionFailed] * (len(held) * 2)
    assert decrypts == [DecryptionFailed] * (len(held) * 2)
    assert server.play("bob", "front-door") == b"bob front door" * 20
