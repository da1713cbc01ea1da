"""Bytes of agency copies that have left the server: one row per piece served.

A row per piece, never a counter: two pieces served at once are two inserts, and the later of the
two requests (the caller holds the share's or disclosure's row lock) counts both. Which pieces make
a download is the pure rule in ``platform/ranges.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.clips.models import ServedRange
from doorstep.platform import ranges as served
from doorstep.platform.ranges import Coverage as Coverage


def insert_piece(
    db: Session,
    *,
    first: int,
    last: int,
    reader_id: str | None,
    share_id: str | None = None,
    disclosure_id: str | None = None,
) -> ServedRange:
    """Record a piece served of one share's or one disclosure's copy.

    Written before anything is read: on SQLite this write takes the database's write lock, so
    what is read next in the transaction is current. On PostgreSQL the caller then locks the
    share or disclosure row, so a piece served at the same moment by another request is either
    seen by this one or sees it: never both missed.
    """
    if (share_id is None) == (disclosure_id is None):
        raise ValueError("a piece belongs to exactly one share or one disclosure")
    piece = ServedRange(
        share_id=share_id,
        disclosure_id=disclosure_id,
        reader_id=reader_id,
        first_byte=first,
        last_byte=last,
    )
    db.add(piece)
    db.flush()
    return piece


def coverage(db: Session, piece: ServedRange, size: int) -> Coverage:
    """The copy's served bytes before and after ``piece`` (read under the caller's row lock)."""
    query = select(ServedRange.id, ServedRange.first_byte, ServedRange.last_byte)
    if piece.share_id is not None:
        query = query.where(ServedRange.share_id == piece.share_id)
    else:
        query = query.where(ServedRange.disclosure_id == piece.disclosure_id)
    earlier = [
        (int(first), int(last)) for row_id, first, last in db.execute(query) if row_id != piece.id
    ]
    return served.add_piece(earlier, (piece.first_byte, piece.last_byte), size)


def bytes_served_for_shares(db: Session, share_ids: Sequence[str]) -> dict[str, int]:
    """How many distinct bytes of each share's copy have left the server."""
    found: dict[str, list[served.Interval]] = {share_id: [] for share_id in share_ids}
    if not share_ids:
        return {}
    query = select(ServedRange.share_id, ServedRange.first_byte, ServedRange.last_byte).where(
        ServedRange.share_id.in_(list(share_ids))
    )
    for share_id, first, last in db.execute(query):
        if share_id is not None:
            found[share_id].append((int(first), int(last)))
    return {share_id: served.bytes_covered(spans) for share_id, spans in found.items()}
