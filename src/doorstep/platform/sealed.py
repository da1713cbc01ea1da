"""Small secrets under keys derived from the master key, each key for one purpose only.

``TextSeal`` keeps a short text (an Apprise URL with its password) encrypted at rest, bound to
the row it belongs to. ``derived_secret`` makes a link's secret again from its row id, so a job
that mails the link carries only the id: nothing secret sits on the task queue's broker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from doorstep.platform.crypto import DecryptionFailed

_NONCE_SIZE = 12


class MasterKey(bytes):
    """The master key's 32 bytes, with the derived keys an earlier master key made that outlive it.

    A key a verifier pinned (the audit log's tree-head key) or that names people alike across
    the years (the log's pseudonyms) is derived from the master key, yet must not change when
    the master key is rotated: the rotation keeps each such key, as it was, in the data folder's
    ``derived.keys`` (``doorstep.rotation``), and ``derive`` returns the kept one.
    """

    kept: Mapping[bytes, bytes]
    #: Why the kept keys could not be read (they are sealed under the master key in use):
    #: nothing is derived from such a key, and the key check at start says why.
    problem: Exception | None
    #: Held for as long as the key is: the data folder's in-use lock (``doorstep.master_key``).
    holds: object

    def __new__(
        cls,
        raw: bytes,
        kept: Mapping[bytes, bytes] | None = None,
        *,
        problem: Exception | None = None,
        holds: object = None,
    ) -> MasterKey:
        """The key ``raw``, keeping ``kept`` (HKDF info -> key) as they were derived before."""
        key = super().__new__(cls, raw)
        key.kept = dict(kept or {})
        key.problem = problem
        key.holds = holds
        return key


def derive(master_key: bytes, info: bytes) -> bytes:
    """A 32-byte key for ``info`` alone: HKDF-SHA256 of the master key, or the one kept for it."""
    if isinstance(master_key, MasterKey):
        if master_key.problem is not None:
            raise master_key.problem
        if info in master_key.kept:
            return master_key.kept[info]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)


def purpose_key(master_key: bytes, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` alone (HKDF-SHA256 of the master key)."""
    return derive(master_key, b"doorstep/" + purpose.encode())


class TextSeal:
    """AES-GCM over short texts, each bound to a name (its row) as associated data."""

    def __init__(self, master_key: bytes, purpose: str) -> None:
        self._aead = AESGCM(purpose_key(master_key, purpose))

    def seal(self, text: str, *, bound_to: str) -> bytes:
        """``text`` encrypted; it opens only with the same ``bound_to``."""
        nonce = secrets.token_bytes(_NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, text.encode(), bound_to.encode())

    def open(self, sealed: bytes, *, bound_to: str) -> str:
        """The text back; ``DecryptionFailed`` for another key, another row or altered bytes."""
        try:
            plain = self._aead.decrypt(
                sealed[:_NONCE_SIZE], sealed[_NONCE_SIZE:], bound_to.encode()
            )
        except (InvalidTag, ValueError) as err:
            raise DecryptionFailed("a sealed value did not open") from err
        return plain.decode()


def derived_secret(master_key: bytes, purpose: str, name: str) -> str:
    """A URL-safe secret for ``name``, made again at will by whoever holds the master key."""
    mac = hmac.new(purpose_key(master_key, purpose), name.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
