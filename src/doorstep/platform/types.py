"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Dialect, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import TypeDecorator

from doorstep.errors import InvalidInput


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """Return an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a random identifier; never sequential, so ids reveal no counts."""
    return uuid.uuid4().hex


def encode_cursor(at: datetime, key: str) -> str:
    """An opaque cursor for a list read newest first by time, then id: where a page ended."""
    raw = f"{at.isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, *, what: str) -> tuple[datetime, str]:
    """The time and id in a cursor from ``encode_cursor``; InvalidInput naming ``what`` if not."""
    refusal = f"the cursor is not one this {what} gave out"
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        stamp, _, key = raw.partition("|")
        at = datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise InvalidInput(refusal, field="cursor") from err
    if at.tzinfo is None or not key:
        raise InvalidInput(refusal, field="cursor")
    return at, key


def one_of(
    db: Session, column: InstrumentedAttribute[str], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column IN values``, sent to PostgreSQL as one array parameter.

    An IN list of a few hundred cells makes a new, long statement for every list: the driver
    converts it afresh and the server plans it afresh. ``= ANY(array)`` is one statement
    whatever the list, with the same index plan. SQLite has no arrays and keeps the IN list.
    """
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(list(values))


def one_of_param(
    dialect: str, column: InstrumentedAttribute[str], name: str
) -> ColumnElement[bool]:
    """``column IN :name`` for a statement built once and run with many lists (see ``one_of``).

    PostgreSQL gets one array parameter; other engines an IN list expanded at execution.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))
