"""The checks `doorstep audit verify` runs: entry times, published heads, the report's counts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from doorstep.transparency._verify_wire import (
    HttpClient,
    _b64,
    _entries,
    _Failed,
    _int,
    _json,
    _list,
    _object,
    _parse_head,
)
from doorstep.transparency.merkle import (
    MAX_CLOCK_SKEW,
    MerkleLog,
    SignedTreeHead,
    verify_tree_head,
)
from doorstep.transparency.rules_witnesses import KEY_ROTATION


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
        #: The key rotation entries, as (seq, detail), for the checkpoint key check.
        self.rotations: list[tuple[int, Mapping[str, Any]]] = []

    def _bump(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def add(self, body: Mapping[str, Any]) -> None:
        """Count one entry's body."""
        action, detail = body.get("action"), body.get("detail") or {}
        if action == KEY_ROTATION:
            self.rotations.append((int(body["seq"]), detail if isinstance(detail, Mapping) else {}))
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
