"""Envelope encryption of clips: master key → owner data keys → clip content keys → chunked clips.

Every key is 32 random bytes used with AES-256-GCM. The server master key wraps each owner's data
key; the owner's data key wraps the content key of each of their clips; the content key seals the
clip itself. Wrapping binds a context (the row the wrapped key belongs to) as associated data, so
a wrapped key copied onto another owner's or clip's row refuses to unwrap.

Deleting is crypto-shredding (invariant I6): destroy a clip's wrapped content key and its
ciphertext is noise to every key the server still holds; destroy an owner's wrapped data key and
so is every clip of theirs, including copies in backups.

A sealed clip is a 17-byte header followed by chunks::

    header  = b"DSCL" | version (1 byte) | chunk size (4 bytes, big endian) | nonce prefix (8 bytes)
    chunk i = AES-GCM(content key, nonce = prefix | i (4 bytes), plaintext[i*size:(i+1)*size],
                      aad = header | i (4 bytes) | last (1 byte)) -> ciphertext + 16-byte tag

Every chunk holds ``chunk size`` bytes of plaintext except the last, which holds 1 to ``chunk size``
bytes (0 only for an empty clip, which is one empty chunk). Chunk boundaries follow from the sizes
alone, so a byte range of the clip is served by reading and opening only the chunks covering it.
Binding the index and the last flag detects reordered, swapped, dropped and truncated chunks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from doorstep.errors import DoorstepError, RangeNotSatisfiable

KEY_SIZE = 32
TAG_SIZE = 16
NONCE_SIZE = 12
DEFAULT_CHUNK_SIZE = 64 * 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
MAGIC = b"DSCL"
VERSION = 1
_HEADER = struct.Struct(">4sBI8s")
HEADER_SIZE = _HEADER.size
_MAX_CHUNKS = 2**32
_WRAP_VERSION = b"\x01"
_WRAP_AAD = b"doorstep/wrapped-key/v1\x00"
WRAPPED_KEY_SIZE = 1 + NONCE_SIZE + KEY_SIZE + TAG_SIZE

ReadAt = Callable[[int, int], bytes]


class DecryptionFailed(DoorstepError):
    """Stored ciphertext or a wrapped key did not open: wrong key, wrong row, damaged or tampered.

    Status 500, not 422: the bytes are the server's own and the caller sent nothing wrong, so this
    is a fault on our side to alarm on, never a hint to the caller about what the keys are.
    """

    slug = "decryption-failed"
    title = "Stored data could not be decrypted"


@dataclass(frozen=True, slots=True)
class EncryptedInfo:
    """What sealing a clip produced: sizes on both sides and the SHA-256 of the plaintext."""

    plaintext_size: int
    ciphertext_size: int
    sha256: str


def new_key() -> bytes:
    """Return a fresh random 256-bit key."""
    return secrets.token_bytes(KEY_SIZE)


def owner_key_context(owner_id: str) -> bytes:
    """Return the context binding an owner's wrapped data key to that owner."""
    return b"owner:" + owner_id.encode()


def clip_key_context(owner_id: str, clip_id: str) -> bytes:
    """Return the context binding a clip's wrapped content key to that clip of that owner."""
    return b"clip:" + owner_id.encode() + b"/" + clip_id.encode()


def wrap_key(wrapping_key: bytes, key: bytes, *, context: bytes) -> bytes:
    """Seal ``key`` under ``wrapping_key``, bound to ``context`` (the row it will be stored on)."""
    _check_key(key)
    nonce = secrets.token_bytes(NONCE_SIZE)
    sealed = _aead(wrapping_key).encrypt(nonce, key, _WRAP_AAD + context)
    return _WRAP_VERSION + nonce + sealed


def unwrap_key(wrapping_key: bytes, wrapped: bytes, *, context: bytes) -> bytes:
    """Open a wrapped key; raise DecryptionFailed for a wrong key, context or damaged bytes."""
    aead = _aead(wrapping_key)
    if len(wrapped) != WRAPPED_KEY_SIZE or wrapped[:1] != _WRAP_VERSION:
        raise DecryptionFailed("the wrapped key is not in a format Doorstep knows")
    nonce, sealed = wrapped[1 : 1 + NONCE_SIZE], wrapped[1 + NONCE_SIZE :]
    try:
        return aead.decrypt(nonce, sealed, _WRAP_AAD + context)
    except InvalidTag as err:
        raise DecryptionFailed("the wrapped key does not open with this key and context") from err


def ciphertext_size(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Return the sealed size of a clip of ``plaintext_size`` bytes."""
    _check_chunk_size(chunk_size)
    chunks = max(1, -(-plaintext_size // chunk_size))
    return HEADER_SIZE + plaintext_size + chunks * TAG_SIZE


def plaintext_size(ciphertext_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Return the plaintext size of a sealed clip from its size alone; refuse impossible sizes."""
    return _layout(ciphertext_size, chunk_size)[1]


class EncryptingReader:
    """A readable stream of a clip's ciphertext, sealing the source chunk by chunk as it is read.

    Hand it to a blob store's ``put`` to encrypt an upload on its way to storage without holding
    the clip in memory; ``info`` is ready once it has been read to the end.
    """

    def __init__(self, src: BinaryIO, key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        _check_chunk_size(chunk_size)
        self._src = src
        self._aead = _aead(key)
        self._chunk_size = chunk_size
        self._prefix = secrets.token_bytes(8)
        self._header = _HEADER.pack(MAGIC, VERSION, chunk_size, self._prefix)
        self._digest = hashlib.sha256()
        self._out = bytearray()
        self._pending: bytes | None = None
        self._started = False
        self._finished = False
        self._index = 0
        self._plain = 0
        self._sealed = 0

    @property
    def info(self) -> EncryptedInfo:
        """Sizes and digest of what was sealed; only once the stream has been read to the end."""
        if not self._finished or self._out:
            raise RuntimeError("the clip has not been read to the end yet")
        return EncryptedInfo(self._plain, self._sealed, self._digest.hexdigest())

    def read(self, size: int = -1, /) -> bytes:
        """Return up to ``size`` bytes of ciphertext (the rest when negative); b"" at the end."""
        while not self._finished and (size < 0 or len(self._out) < size):
            self._produce()
        if size < 0 or size >= len(self._out):
            data = bytes(self._out)
            self._out.clear()
        else:
            data = bytes(self._out[:size])
            del self._out[:size]
        self._sealed += len(data)
        return data

    def _produce(self) -> None:
        if not self._started:
            self._started = True
            self._out += self._header
            self._pending = self._next_plaintext()
            return
        pending = self._pending
        if pending is None:
            self._finished = True
            return
        following = self._next_plaintext()
        last = not following
        if self._index >= _MAX_CHUNKS:
            raise ValueError("the clip is too long for this chunk size")
        nonce = self._prefix + struct.pack(">I", self._index)
        aad = _chunk_aad(self._header, self._index, last=last)
        self._out += self._aead.encrypt(nonce, pending, aad)
        self._index += 1
        self._pending = None if last else following

    def _next_plaintext(self) -> bytes:
        data = _read_exact(self._src, self._chunk_size)
        self._digest.update(data)
        self._plain += len(data)
        return data


def encrypt_file(
    src: BinaryIO, dst: BinaryIO, key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> EncryptedInfo:
    """Seal everything readable from ``src`` into ``dst`` with the clip's content key."""
    reader = EncryptingReader(src, key, chunk_size=chunk_size)
    while piece := reader.read(1024 * 1024):
        dst.write(piece)
    return reader.info


def iter_decrypted_range(
    read_at: ReadAt,
    key: bytes,
    start: int,
    end_inclusive: int,
    ciphertext_size: int,
    *,
    chunks_per_read: int = 16,
) -> Iterator[bytes]:
    """Yield the plaintext bytes ``start..end_inclusive``, reading only the chunks covering them.

    ``read_at(offset, length)`` returns stored bytes; the header is read once, then the covering
    chunks in runs of ``chunks_per_read`` so a long range streams in bounded memory.
    """
    aead = _aead(key)
    header = _read_checked(read_at, 0, HEADER_SIZE)
    chunk_size, prefix = _parse_header(header)
    chunks, size = _layout(ciphertext_size, chunk_size)
    if not 0 <= start <= end_inclusive < size:
        raise RangeNotSatisfiable(f"bytes {start}-{end_inclusive} are outside a {size}-byte clip")
    sealed_chunk = chunk_size + TAG_SIZE
    first, last = start // chunk_size, end_inclusive // chunk_size
    for run_start in range(first, last + 1, chunks_per_read):
        run_end = min(run_start + chunks_per_read, last + 1)
        offset = HEADER_SIZE + run_start * sealed_chunk
        length = min(HEADER_SIZE + run_end * sealed_chunk, ciphertext_size) - offset
        data = _read_checked(read_at, offset, length)
        for index in range(run_start, run_end):
            at = (index - run_start) * sealed_chunk
            sealed = data[at : at + sealed_chunk]
            plain = _open_chunk(aead, header, prefix, index, sealed, last=index == chunks - 1)
            base = index * chunk_size
            yield plain[max(start - base, 0) : end_inclusive - base + 1]


def decrypt_range(
    read_at: ReadAt, key: bytes, start: int, end_inclusive: int, ciphertext_size: int
) -> bytes:
    """Return the plaintext bytes ``start..end_inclusive`` (as an HTTP Range) of a sealed clip."""
    return b"".join(iter_decrypted_range(read_at, key, start, end_inclusive, ciphertext_size))


def decrypt_stream(pieces: Iterable[bytes], key: bytes) -> Iterator[bytes]:
    """Yield a whole clip's plaintext chunk by chunk from its ciphertext in pieces of any size.

    The last chunk is only recognised at the end of ``pieces``, so a stream cut short fails
    instead of passing for a shorter clip.
    """
    aead = _aead(key)
    buffer = bytearray()
    header: bytes | None = None
    prefix = b""
    sealed_chunk = 0
    index = 0
    for piece in pieces:
        buffer += piece
        if header is None:
            if len(buffer) < HEADER_SIZE:
                continue
            header = bytes(buffer[:HEADER_SIZE])
            del buffer[:HEADER_SIZE]
            chunk_size, prefix = _parse_header(header)
            sealed_chunk = chunk_size + TAG_SIZE
        # Keep one whole chunk back: only the end of the stream says which chunk is last.
        while len(buffer) > sealed_chunk:
            sealed = bytes(buffer[:sealed_chunk])
            del buffer[:sealed_chunk]
            yield _open_chunk(aead, header, prefix, index, sealed, last=False)
            index += 1
    if header is None:
        raise DecryptionFailed("the clip ends before its header")
    yield _open_chunk(aead, header, prefix, index, bytes(buffer), last=True)


def decrypt_all(pieces: Iterable[bytes], key: bytes) -> bytes:
    """Return a whole clip's plaintext from its ciphertext in pieces of any size."""
    return b"".join(decrypt_stream(pieces, key))


def _aead(key: bytes) -> AESGCM:
    _check_key(key)
    return AESGCM(key)


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"Doorstep keys are {KEY_SIZE} bytes, not {len(key)}")


def _check_chunk_size(chunk_size: int) -> None:
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be 1..{MAX_CHUNK_SIZE} bytes, not {chunk_size}")


def _chunk_aad(header: bytes, index: int, *, last: bool) -> bytes:
    return header + struct.pack(">IB", index, last)


def _parse_header(header: bytes) -> tuple[int, bytes]:
    magic, version, chunk_size, prefix = _HEADER.unpack(header)
    if magic != MAGIC or version != VERSION:
        raise DecryptionFailed("the stored bytes are not a Doorstep clip of a known version")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionFailed(f"the clip header names an impossible chunk size {chunk_size}")
    return chunk_size, prefix


def _layout(ciphertext_size: int, chunk_size: int) -> tuple[int, int]:
    """Return (number of chunks, plaintext size) of a sealed clip of ``ciphertext_size`` bytes."""
    _check_chunk_size(chunk_size)
    body = ciphertext_size - HEADER_SIZE
    full, rest = divmod(body, chunk_size + TAG_SIZE)
    if body < TAG_SIZE or 0 < rest < TAG_SIZE:
        raise DecryptionFailed(f"{ciphertext_size} bytes cannot be a whole sealed clip")
    if rest == 0:
        return full, full * chunk_size
    return full + 1, full * chunk_size + rest - TAG_SIZE


def _open_chunk(
    aead: AESGCM, header: bytes, prefix: bytes, index: int, sealed: bytes, *, last: bool
) -> bytes:
    if len(sealed) < TAG_SIZE:
        raise DecryptionFailed(f"chunk {index} of the clip is cut short")
    nonce = prefix + struct.pack(">I", index)
    try:
        return aead.decrypt(nonce, sealed, _chunk_aad(header, index, last=last))
    except InvalidTag as err:
        raise DecryptionFailed(
            f"chunk {index} of the clip does not open: wrong key, or damaged or tampered bytes"
        ) from err


def _read_checked(read_at: ReadAt, offset: int, length: int) -> bytes:
    data = read_at(offset, length)
    if len(data) != length:
        raise DecryptionFailed(f"the stored clip ends early at byte {offset + len(data)}")
    return data


def _read_exact(src: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes unless the source ends first; pipes and sockets may return less."""
    data = src.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    missing = size - len(data)
    while missing:
        more = src.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)


#: PBKDF2-HMAC-SHA256 rounds for end-to-end passphrases; the owner's browser uses the same.
PASSPHRASE_ROUNDS = 310_000
_CHECK_LABEL = b"doorstep end-to-end passphrase check v1"


def passphrase_key(passphrase: str, salt: bytes) -> bytes:
    """The end-to-end key of a camera, derived from the owner's passphrase; never sent anywhere."""
    if len(passphrase) < 12:
        raise ValueError("an end-to-end passphrase has at least 12 characters")
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, PASSPHRASE_ROUNDS, KEY_SIZE)


def passphrase_check(key: bytes) -> str:
    """A value that shows a passphrase is right without revealing the key (HMAC of a label)."""
    return hmac.new(key, _CHECK_LABEL, hashlib.sha256).hexdigest()


def check_sealed_layout(size: int) -> int:
    """Refuse a size no sealed clip can have; return the plaintext size it implies."""
    return _layout(size, DEFAULT_CHUNK_SIZE)[1]
