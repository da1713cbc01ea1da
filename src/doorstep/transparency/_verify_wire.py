"""Reading the audit API's answers for `doorstep audit verify`: any shape is a one-line reason."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from doorstep.transparency.merkle import (
    SignedTreeHead,
    leaf_hash,
)

PAGE = 1000


class HttpClient(Protocol):
    """What verifying needs of an HTTP client: GET with query parameters."""

    def get(self, url: str, *, params: Any = None) -> Any:
        """Fetch ``url``."""
        ...


class _Failed(Exception):
    """One verification step found the log wrong; carries the one-line reason.

    ``conflicting`` is a head the pinned key signed that contradicts the current one: evidence.
    """

    def __init__(self, problem: str, conflicting: SignedTreeHead | None = None) -> None:
        super().__init__(problem)
        self.conflicting = conflicting


class _Malformed(_Failed):
    """The server answered something that is not what the API documents."""

    def __init__(self, what: str) -> None:
        super().__init__(f"the server's answer is malformed: {what}")


#: What a malformed answer raises while it is read, wherever it slips past the checks below.
_SHAPE_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    OverflowError,
    RecursionError,
)


def _json(client: HttpClient, url: str, params: Any = None) -> Any:
    response = client.get(url, params=params).raise_for_status()
    try:
        return response.json()
    except (ValueError, RecursionError) as err:
        raise _Malformed(f"{url} did not answer JSON") from err


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Malformed(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(f"{what} is not a list")
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Malformed(f"{what} is not a count")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"{what} is not a string")
    return value


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(_str(value, what), validate=True)
    except ValueError as err:
        raise _Malformed(f"{what} is not base64") from err


def _head(client: HttpClient) -> tuple[SignedTreeHead, bytes]:
    data = _object(_json(client, "/api/v1/audit/head"), "the tree head")
    head = _parse_head(data, "the tree head")
    return head, _b64(data.get("public_key"), "the tree head's public key")


def _parse_head(data: Any, what: str) -> SignedTreeHead:
    item = _object(data, what)
    try:
        root = bytes.fromhex(_str(item.get("root"), f"{what}'s root"))
        timestamp = datetime.fromisoformat(_str(item.get("timestamp"), f"{what}'s timestamp"))
    except ValueError as err:
        raise _Malformed(f"{what}'s root or timestamp cannot be read") from err
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise _Malformed(f"{what}'s timestamp has no time zone")
    return SignedTreeHead(
        size=_int(item.get("size"), f"{what}'s size"),
        root=root,
        timestamp=timestamp,
        signature=_b64(item.get("signature"), f"{what}'s signature"),
    )


def _entries(client: HttpClient, size: int) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """Every entry of the first ``size``, as (leaf hash, decoded body), checked as it comes."""
    seq = 0
    while seq < size:
        params = {"start": seq, "end": min(seq + PAGE, size)}
        page = _list(_json(client, "/api/v1/audit/entries", params), "a page of entries")
        if not page:
            raise _Failed(f"entries stop at {seq}, the signed head says {size}")
        for item in page:
            entry = _object(item, f"entry {seq}")
            if entry.get("seq") != seq:
                raise _Failed(f"entry {seq} is missing or out of order")
            text = _str(entry.get("body"), f"entry {seq}'s body")
            leaf = leaf_hash(text.encode())
            if leaf.hex() != entry.get("leaf_hash"):
                raise _Failed(f"entry {seq} does not match its leaf hash")
            try:
                body = json.loads(text)
            except (ValueError, RecursionError) as err:
                raise _Malformed(f"entry {seq}'s body is not JSON") from err
            if not isinstance(body, dict) or body.get("seq") != seq:
                raise _Failed(f"entry {seq} names another place in the log")
            yield leaf, body
            seq += 1
            if seq == size:
                return
