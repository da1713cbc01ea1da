"""`doorstep audit verify`: check the public log against a pinned key and the last checkpoint.

Nothing the server says is taken on trust: the tree head must be signed by the key the verifier
pinned (not the one the response offers), dated no later than now, and provably an extension of the
checkpoint verified last time (a consistency proof); every entry is downloaded and hashed, every
published head and the head read before the report must match the log at its size (none may be
larger than the log), and the transparency report's counts of legal demands and emergency requests
must equal the log's. Two heads the pinned key signed that disagree are kept as evidence. Whatever
shape the server's answers take, a run ends in OK or a one-line reason, never a traceback.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from doorstep.transparency.merkle import (
    MAX_CLOCK_SKEW,
    MerkleLog,
    SignedTreeHead,
    checkpoint_problem,
    head_problem,
    key_fingerprint,
    leaf_hash,
    verify_tree_head,
)
from doorstep.transparency.pins import Pin, PinStore, server_origin, state_folder

PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What verifying the log found.

    ``head`` is the checkpoint to remember when ``ok``; on a failure, the offered head if the
    pinned key signed it (evidence), else None. ``conflicting`` is another head the pinned key
    signed that cannot be true beside ``head`` (read before the report, or published), if any.
    """

    ok: bool
    size: int
    root: str
    problem: str = ""
    head: SignedTreeHead | None = None
    public_key: bytes = b""
    first_use: bool = False
    conflicting: SignedTreeHead | None = None


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


class _Times:
    """Entry times may wobble by a clock's drift; they may not run back or pass the signed head.

    An entry dated back far enough would count in an earlier period of the transparency report, or
    hide a disclosure among older ones; one dated after the head was never in it.
    """

    def __init__(self, head: SignedTreeHead, checkpoint: SignedTreeHead | None) -> None:
        self.ceiling = head.timestamp + MAX_CLOCK_SKEW
        self.latest: datetime | None = None
        self.fresh_from = checkpoint.size if checkpoint else head.size
        self.floor = checkpoint.timestamp - MAX_CLOCK_SKEW if checkpoint else self.ceiling

    def add(self, seq: int, body: Mapping[str, Any]) -> None:
        try:
            at = datetime.fromisoformat(body["at"])
        except (KeyError, TypeError, ValueError) as err:
            raise _Failed(f"entry {seq} has no valid time") from err
        if at.tzinfo is None:
            raise _Failed(f"entry {seq} has a time without a time zone")
        if at > self.ceiling:
            raise _Failed(f"entry {seq} is dated {at.isoformat()}, after the signed head")
        if self.latest is not None and at < self.latest - MAX_CLOCK_SKEW:
            raise _Failed(f"entry {seq} is dated {at.isoformat()}, before earlier entries")
        if seq >= self.fresh_from and at < self.floor:
            raise _Failed(
                f"entry {seq} is dated {at.isoformat()}, before the checkpoint verified "
                "earlier, which did not hold it"
            )
        self.latest = at if self.latest is None else max(self.latest, at)


def _roots_at(
    client: HttpClient, size: int, sizes: set[int], tally: Tally, early: int, times: _Times
) -> tuple[dict[int, bytes], dict[str, int]]:
    """The root after each of ``sizes`` entries, hashed once, and the tally after ``early``."""
    log = MerkleLog()
    roots = {0: log.root()} if 0 in sizes else {}
    counted = dict(tally.counts) if early == 0 else {}
    for leaf, body in _entries(client, size):
        times.add(log.size, body)
        log.append_leaf_hash(leaf)
        tally.add(body)
        if log.size in sizes:
            roots[log.size] = log.root()
        if log.size == early:
            counted = dict(tally.counts)
    if log.size != size:
        raise _Failed(f"entries stop at {log.size}, the signed head says {size}")
    return roots, counted


def _published_heads(client: HttpClient) -> tuple[list[SignedTreeHead], set[bytes]]:
    """Every head the server says it published, page by page, and the keys its pages name.

    Read before the current head: an honest server has published nothing larger than that.
    """
    heads: list[SignedTreeHead] = []
    keys: set[bytes] = set()
    start: int | None = 0
    while start is not None:
        page = _object(_json(client, "/api/v1/audit/heads", {"start": start}), "a page of heads")
        keys.add(_b64(page.get("public_key"), "the published heads' public key"))
        items = _list(page.get("heads"), "the published heads")
        heads.extend(_parse_head(item, "a published head") for item in items)
        following = page.get("next_start")
        if following is not None and _int(following, "next_start") <= start:
            raise _Failed("the published heads' pages do not move on")
        start = following
    return heads, keys


def _check_published_heads(
    history: list[SignedTreeHead], key: bytes, head: SignedTreeHead, roots: Mapping[int, bytes]
) -> None:
    previous: SignedTreeHead | None = None
    for published in history:
        if not verify_tree_head(published, key):
            raise _Failed(f"the published head at {published.size} entries is not signed by it")
        if published.size > head.size:
            # Published before the current head was read, and larger: the operator's own
            # signature says the log held more than it holds now.
            raise _Failed(
                f"the log shrank: a head published at {published.size} entries is larger than "
                f"the current head of {head.size}",
                conflicting=published,
            )
        if previous is not None and (
            published.size <= previous.size
            or published.timestamp < previous.timestamp - MAX_CLOCK_SKEW
        ):
            raise _Failed(f"the published heads go back from {previous.size} entries")
        if roots.get(published.size) != published.root:
            raise _Failed(
                f"the log forked: the head published at {published.size} entries does not "
                "match the log",
                conflicting=published,
            )
        previous = published


#: The report's name for each kind of legal demand.
_RECEIVED = {
    "warrant": "warrants",
    "subpoena": "subpoenas",
    "court_order": "court_orders",
}


class Tally:
    """Legal demands and emergency requests as the transparency report counts them, from the log."""

    def __init__(self) -> None:
        """Start from nothing."""
        self.counts: dict[str, int] = {}
        self._kind_of: dict[str, str] = {}

    def _bump(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def add(self, body: Mapping[str, Any]) -> None:
        """Count one entry's body."""
        action, detail = body.get("action"), body.get("detail") or {}
        if action == "legal_demand.record" and detail.get("kind") in _RECEIVED:
            prefix = _RECEIVED[detail["kind"]]
            self._kind_of[str(detail.get("demand"))] = prefix
            self._bump(f"{prefix}_received")
        elif action == "legal_demand.close" and str(detail.get("demand")) in self._kind_of:
            self._bump(f"{self._kind_of[str(detail['demand'])]}_{detail.get('outcome')}")
        elif action == "emergency.file":
            self._bump("emergency_received")
        elif action == "emergency.refuse":
            self._bump("emergency_refused")
        elif action == "emergency.approve" and detail.get("state") == "approved":
            self._bump("emergency_granted")


_REPORTED = [
    *(f"{p}_{s}" for p in _RECEIVED.values() for s in ("received", "complied_full")),
    *(f"{p}_{s}" for p in _RECEIVED.values() for s in ("complied_partial", "rejected")),
    "emergency_received",
    "emergency_granted",
    "emergency_refused",
]


def _reported(report: Any) -> dict[str, int]:
    totals = dict.fromkeys(_REPORTED, 0)
    periods = _list(_object(report, "the transparency report").get("periods"), "its periods")
    for item in periods:
        row = _object(item, "a period of the transparency report")
        if row.get("agency_id") == "*":
            for name in _REPORTED:
                totals[name] += _int(row.get(name), f"the transparency report's {name}")
    return totals


def _check_report(
    reported: Mapping[str, int], before: Mapping[str, int], after: Mapping[str, int]
) -> None:
    """Each count must lie between the log's count before and after the report was read."""
    for name in _REPORTED:
        low, high = before.get(name, 0), after.get(name, 0)
        if not low <= reported[name] <= high:
            logged = str(high) if low == high else f"{low} to {high}"
            raise _Failed(
                f"the transparency report gives {name} = {reported[name]}, the log records {logged}"
            )


def _key_changed(pinned: bytes, offered: bytes) -> str:
    return (
        f"the log's key changed: pinned {key_fingerprint(pinned)}, "
        f"the server now signs with {key_fingerprint(offered)}"
    )


def verify_server(
    client: HttpClient,
    *,
    key: bytes | None = None,
    checkpoint: SignedTreeHead | None = None,
    now: datetime | None = None,
) -> AuditReport:
    """Check ``client``'s server against the pinned ``key`` and the remembered ``checkpoint``.

    Without a ``key`` the server's own is used and the report says ``first_use``: that proves only
    that the log agrees with itself. Only a pinned key and a remembered checkpoint (as
    ``verify_and_remember`` keeps them) show the operator did not rewrite it.
    """
    moment = now or datetime.now(UTC)
    run = _Run(key)
    try:
        try:
            _verify(client, run, checkpoint, moment)
        except _SHAPE_ERRORS as err:
            # The checks above name what they expect; this catches what slipped past them.
            raise _Malformed(f"{type(err).__name__} while reading it") from err
    except _Failed as failed:
        # A head the pinned key signed, beside the problem, is the operator's own word against it.
        head = run.head
        return AuditReport(
            False,
            head.size if head else 0,
            head.root.hex() if head else "",
            str(failed),
            head=head if run.signed_by_pin else None,
            public_key=run.pinned,
            conflicting=failed.conflicting if run.signed_by_pin else None,
        )
    assert run.head is not None
    return AuditReport(
        True,
        run.head.size,
        run.head.root.hex(),
        head=run.head,
        public_key=run.pinned,
        first_use=key is None,
    )


class _Run:
    """What one verification learnt so far: the current head, and whether the pin signed it."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self.pinned = key or b""
        self.head: SignedTreeHead | None = None
        self.signed_by_pin = False


def _verify(
    client: HttpClient, run: _Run, checkpoint: SignedTreeHead | None, moment: datetime
) -> None:
    before, offered_before = _head(client)
    report = _json(client, "/api/v1/transparency")
    history, history_keys = _published_heads(client)
    head, offered = _head(client)
    run.head = head
    pinned = run.pinned = offered if run.key is None else run.key
    for key_offered in (offered_before, *sorted(history_keys), offered):
        if key_offered != pinned:
            raise _Failed(_key_changed(pinned, key_offered))
    for signed in (before, head):
        problem = head_problem(signed, pinned, moment)
        if problem:
            raise _Failed(problem)
    run.signed_by_pin = True
    if before.size > head.size:
        raise _Failed(
            f"the log shrank from {before.size} to {head.size} entries", conflicting=before
        )
    if checkpoint is not None:
        proof: list[bytes] = []
        if 0 < checkpoint.size < head.size:
            params = {"old": checkpoint.size, "new": head.size}
            answer = _object(_json(client, "/api/v1/audit/proof/consistency", params), "a proof")
            hexes = _list(answer.get("proof"), "the consistency proof")
            try:
                proof = [bytes.fromhex(_str(h, "a proof hash")) for h in hexes]
            except ValueError as err:
                raise _Malformed("the consistency proof is not hex") from err
        problem = checkpoint_problem(checkpoint, head, proof)
        if problem:
            raise _Failed(problem)
    sizes = {head.size, before.size, *(h.size for h in history if h.size <= head.size)}
    if checkpoint is not None:
        sizes.add(checkpoint.size)
    tally = Tally()
    times = _Times(head, checkpoint)
    roots, early = _roots_at(client, head.size, sizes, tally, before.size, times)
    if roots[head.size] != head.root:
        raise _Failed("the entries do not hash to the signed root")
    if checkpoint is not None and roots.get(checkpoint.size) != checkpoint.root:
        raise _Failed(f"the log forked: its first {checkpoint.size} entries changed since verified")
    if roots[before.size] != before.root:
        # Signed by the pinned key, read moments ago, and not this log: two histories.
        raise _Failed(
            f"the log forked: the head read before the report, at {before.size} entries, does "
            "not match the log",
            conflicting=before,
        )
    _check_published_heads(history, pinned, head, roots)
    _check_report(_reported(report), early, tally.counts)


@dataclass(frozen=True, slots=True)
class PinnedReport:
    """A verification against a server's pin, and what it remembered."""

    report: AuditReport
    origin: str
    pinned_now: bool
    saved_to: str = ""
    evidence: str = ""


def verify_and_remember(
    server: str,
    *,
    key: bytes | None = None,
    store: PinStore | None = None,
    client: HttpClient | None = None,
    timeout: float = 30.0,
) -> PinnedReport:
    """Verify ``server`` against its pin (made now on first use) and remember the new checkpoint.

    A ``key`` given here must match the pin already kept; the pin is written only when the whole
    log verified, so a failed run leaves the last good checkpoint in place. A failure against a
    head the pinned key signed keeps both heads beside the pin: together they prove the operator
    signed two histories that cannot both be true.
    """
    origin = server_origin(server)
    pins = store or PinStore(state_folder())
    pin = pins.load(origin)
    if pin is not None and key is not None and key != pin.public_key:
        problem = (
            f"the key given ({key_fingerprint(key)}) is not the key pinned for {origin} "
            f"({key_fingerprint(pin.public_key)}) in {pins.path_for(origin)}; "
            "remove that file to pin again"
        )
        return PinnedReport(AuditReport(False, 0, "", problem), origin, False)
    pinned = pin.public_key if pin else key
    checkpoint = pin.checkpoint if pin else None
    if client is None:
        with httpx.Client(base_url=server.rstrip("/"), timeout=timeout) as http:
            report = verify_server(http, key=pinned, checkpoint=checkpoint)
    else:
        report = verify_server(client, key=pinned, checkpoint=checkpoint)
    if not report.ok:
        evidence = ""
        # Two heads the pinned key signed that cannot both be true: the one the run found
        # against the current head, else the remembered checkpoint.
        earlier = report.conflicting or checkpoint
        if earlier is not None and report.head is not None:
            kept = pins.keep_evidence(origin, earlier, report.head, report.problem)
            evidence = str(kept)
        return PinnedReport(report, origin, False, evidence=evidence)
    if report.head is None:
        return PinnedReport(report, origin, False)
    saved = pins.save(Pin(origin, report.public_key, report.head))
    return PinnedReport(report, origin, pin is None, str(saved))


def verify_url(server: str, *, timeout: float = 30.0) -> AuditReport:
    """Check that the log of the server at ``server`` agrees with itself, remembering nothing.

    This trusts the key the server offers: it is a self-check, not a check against the operator.
    """
    with httpx.Client(base_url=server.rstrip("/"), timeout=timeout) as client:
        return verify_server(client)
