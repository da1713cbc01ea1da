"""The transparency report and the public audit log: what anyone may read, and the tree heads."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from doorstep.agencies import store as agencies
from doorstep.errors import InvalidInput
from doorstep.platform.http.state import AppState
from doorstep.transparency import audit_store as audit
from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency import service_checkpoints
from doorstep.transparency.merkle import consistency_proof, key_fingerprint
from doorstep.transparency.rules import EventKind, PeriodCounts, aggregate, to_csv_rows, to_json
from doorstep.transparency.schemas import (
    MAX_ENTRIES,
    MAX_SEQ,
    EntryPublic,
    HeadHistory,
    HeadPublic,
    Proof,
    TreeHeadPublic,
)
from doorstep.transparency.store import recorded_events

#: Published heads on one page of the history.
HEADS_PAGE = 1000
#: Entries the public audit page shows, newest first.
LATEST_ENTRIES = 25


# --- the report ----------------------------------------------------------------------------------


def report(db: Session, k: int, agency_id: str | None = None) -> list[PeriodCounts]:
    """The report's rows; one agency's (and not the overall rows) when ``agency_id`` is given.

    ``k`` is the camera map's threshold: requests reaching fewer owners are not summed (I3).
    The others add the lower end of the range their request shows (``disclosure_counts``), not
    their exact count: a period with one request would otherwise read its count off. Owners who
    shared and clips shared are ranges, by the same rule (``domain.transparency``).
    """
    events = [
        replace(event, owners_affected=disclosure_counts.coarse(event.owners_affected, k).at_least)
        if event.kind is EventKind.RFA_RECIPIENT
        else event
        for event in recorded_events(db)
    ]
    rows = aggregate(events, k)
    if agency_id is None:
        return rows
    return [row for row in rows if row.agency_id == agency_id]


def agency_names(db: Session) -> dict[str, str]:
    """Names of verified agencies by id, and ``*`` for all of them."""
    names = {agency.id: agency.name for agency in agencies.verified_agencies(db)}
    return {"*": "All agencies", **names}


def report_json(
    db: Session, k: int, agency_id: str | None, more: dict[str, Any] | None = None
) -> str:
    """The report per half-year, overall (``*``) and per agency, with agency names.

    ``more`` adds other rooms' public sections (published emergency requests, say).
    """
    rows = json.loads(to_json(report(db, k, agency_id)))
    body = {**(more or {}), "periods": rows, "agencies": agency_names(db)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def report_csv(db: Session, k: int, agency_id: str | None) -> str:
    """The same report as CSV, one row per half-year and agency, with the agency's name."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = agency_names(db)
    for index, row in enumerate(to_csv_rows(report(db, k, agency_id))):
        writer.writerow([*row, "agency_name" if index == 0 else names.get(row[1], "")])
    return out.getvalue()


# --- tree heads ----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def current_head(db: Session, master_key: bytes) -> TreeHeadPublic:
    """The current signed tree head, kept so later heads can be proven consistent with it."""
    published = audit.publish_head(db, master_key)
    return TreeHeadPublic(
        size=published.size,
        root=published.root,
        timestamp=published.timestamp,
        signature=published.signature,
        public_key=_b64(audit.public_key(master_key)),
    )


def head_history(db: Session, master_key: bytes, start: int) -> HeadHistory:
    """Published heads of ``start`` entries or more, oldest first, a page at a time.

    The current head is published first, and every consistency proof leads to it.
    """
    latest = audit.publish_head(db, master_key).size
    rows = audit.published_heads(db, HEADS_PAGE, from_size=start)
    return HeadHistory(
        public_key=_b64(audit.public_key(master_key)),
        next_start=rows[-1].size + 1 if len(rows) == HEADS_PAGE else None,
        heads=[
            HeadPublic(
                size=row.size,
                root=row.root,
                timestamp=row.timestamp,
                signature=row.signature,
                consistency_url=(
                    f"/api/v1/audit/proof/consistency?old={row.size}&new={latest}"
                    if 0 < row.size < latest
                    else None
                ),
            )
            for row in rows
        ],
    )


def publish_heads(state: AppState) -> int:
    """The periodic job: sign and keep a tree head whenever the log has grown; returns its size.

    The checkpoint of the same state follows, with its witnesses' cosignatures.
    """
    with state.db.session() as db:
        size = audit.publish_head(db, state.master_key).size
    service_checkpoints.publish_checkpoint(state)
    return size


# --- entries and proofs --------------------------------------------------------------------------


def entries(db: Session, start: int, end: int | None) -> list[EntryPublic]:
    """Entries ``start`` up to (not including) ``end``, at most ``MAX_ENTRIES`` at a time."""
    stop = min(start + MAX_ENTRIES, MAX_SEQ) if end is None else min(end, start + MAX_ENTRIES)
    if stop < start:
        raise InvalidInput("end must not be before start", field="end")
    return [
        EntryPublic(seq=e.seq, body=e.body, leaf_hash=e.leaf_hash)
        for e in audit.entries(db, start, stop)
    ]


def inclusion(db: Session, seq: int, size: int) -> Proof:
    """Proof that entry ``seq`` is in the tree of ``size`` entries."""
    current = audit.tree_head_size(db)
    if seq >= size or size > current:
        raise InvalidInput(f"need seq < size <= {current}", field="size")
    return Proof(proof=[h.hex() for h in audit.proof_of_inclusion(db, seq, size)])


def consistency(db: Session, old: int, new: int) -> Proof:
    """Proof that the tree of ``old`` entries is a prefix of the tree of ``new`` entries."""
    current = audit.tree_head_size(db)
    if old > new or new > current:
        raise InvalidInput(f"need old <= new <= {current}", field="new")
    leaves = audit.leaf_hashes(db, new)
    return Proof(proof=[h.hex() for h in consistency_proof(old, new, leaves.__getitem__)])


def about_owner(db: Session, owner_id: str) -> list[dict[str, Any]]:
    """Every entry about an owner's footage: who (by role) did what, and when."""
    return audit.about_owner(db, owner_id)


def audit_page(db: Session, master_key: bytes) -> dict[str, Any]:
    """The public audit page: the signed head, the latest entries and the key to check them."""
    head = audit.publish_head(db, master_key)
    size = audit.tree_head_size(db)
    latest = audit.entries(db, max(0, size - LATEST_ENTRIES), size)
    public_key = audit.public_key(master_key)
    return {
        "head": head,
        "entries": [
            {"seq": e.seq, "body": json.loads(e.body), "leaf_hash": e.leaf_hash}
            for e in reversed(latest)
        ],
        "heads": audit.published_heads(db)[-10:],
        "public_key": _b64(public_key),
        "fingerprint": key_fingerprint(public_key),
    }


def keys_kept_across_rotation() -> tuple[bytes, ...]:
    """What a master key rotation must keep: the tree-head key verifiers pinned, the pseudonyms."""
    return audit.KEPT_ACROSS_ROTATION
