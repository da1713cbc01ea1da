"""Transparency report: counts of requests, demands and disclosures per half-year and per agency."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum

from doorstep.errors import InvalidInput

ALL_AGENCIES = "*"
#: Requests that reached fewer owners than this count as requests but not in "owners reached".
DEFAULT_K = 5


class EventKind(StrEnum):
    """What happened, as the report counts it."""

    RFA = "rfa"
    RFA_RECIPIENT = "rfa_recipient"
    SHARE = "share"
    WARRANT = "warrant"
    SUBPOENA = "subpoena"
    COURT_ORDER = "court_order"
    EMERGENCY = "emergency"
    AGENCY_ONBOARDED = "agency_onboarded"


class Outcome(StrEnum):
    """How Doorstep answered a demand or an emergency request."""

    COMPLIED_FULL = "complied_full"
    COMPLIED_PARTIAL = "complied_partial"
    REJECTED = "rejected"
    GRANTED = "granted"
    REFUSED = "refused"


_LEGAL = frozenset({EventKind.WARRANT, EventKind.SUBPOENA, EventKind.COURT_ORDER})
_LEGAL_OUTCOMES = frozenset({Outcome.COMPLIED_FULL, Outcome.COMPLIED_PARTIAL, Outcome.REJECTED})
_EMERGENCY_OUTCOMES = frozenset({Outcome.GRANTED, Outcome.REFUSED})


@dataclass(frozen=True, slots=True)
class TransparencyEvent:
    """One countable event; carries no owner identity, only how many owners it touched."""

    kind: EventKind
    agency_id: str
    at: datetime
    outcome: Outcome | None = None
    owners_affected: int = 0

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidInput("an event time must carry a time zone", field="at")
        if self.owners_affected < 0:
            raise InvalidInput("owners affected cannot be negative", field="owners_affected")
        allowed: frozenset[Outcome] = frozenset()
        if self.kind in _LEGAL:
            allowed = _LEGAL_OUTCOMES
        elif self.kind is EventKind.EMERGENCY:
            allowed = _EMERGENCY_OUTCOMES
        if self.outcome is not None and self.outcome not in allowed:
            raise InvalidInput(
                f"a {self.kind.value} event cannot have outcome {self.outcome.value}",
                field="outcome",
            )


def half_year(at: datetime) -> str:
    """Return the report period of a moment, such as ``2026-H2``, in UTC."""
    utc = at.astimezone(UTC)
    return f"{utc.year}-H{1 if utc.month <= 6 else 2}"


@dataclass(slots=True)
class PeriodCounts:
    """Every count for one half-year, for one agency or for all of them (``*``)."""

    period: str
    agency_id: str
    rfas: int = 0
    owners_reached: int = 0
    rfas_reach_withheld: int = 0
    clips_shared: int = 0
    warrants_received: int = 0
    warrants_complied_full: int = 0
    warrants_complied_partial: int = 0
    warrants_rejected: int = 0
    subpoenas_received: int = 0
    subpoenas_complied_full: int = 0
    subpoenas_complied_partial: int = 0
    subpoenas_rejected: int = 0
    court_orders_received: int = 0
    court_orders_complied_full: int = 0
    court_orders_complied_partial: int = 0
    court_orders_rejected: int = 0
    emergency_received: int = 0
    emergency_granted: int = 0
    emergency_refused: int = 0
    owners_affected: dict[str, int] = field(default_factory=dict)
    agencies_onboarded: int = 0

    @property
    def share_rate(self) -> float:
        """Return clips shared per owner asked (0 when nobody was asked)."""
        return round(self.clips_shared / self.owners_reached, 4) if self.owners_reached else 0.0


_PREFIX = {
    EventKind.WARRANT: "warrants",
    EventKind.SUBPOENA: "subpoenas",
    EventKind.COURT_ORDER: "court_orders",
}


def _add(counts: PeriodCounts, event: TransparencyEvent, k: int) -> None:
    kind = event.kind
    if kind is EventKind.RFA:
        counts.rfas += 1
    elif kind is EventKind.RFA_RECIPIENT:
        # A request that reached fewer than k owners adds nothing to the sum: with one request in
        # a row (or by subtraction) the sum would be its count, and beside its public number of
        # shares it would show who declined (I3). It is counted as withheld instead.
        if event.owners_affected >= k:
            counts.owners_reached += event.owners_affected
        else:
            counts.rfas_reach_withheld += 1
    elif kind is EventKind.SHARE:
        counts.clips_shared += 1
    elif kind in _PREFIX:
        prefix = _PREFIX[kind]
        _bump(counts, f"{prefix}_received")
        if event.outcome is not None:
            _bump(counts, f"{prefix}_{event.outcome.value}")
    elif kind is EventKind.EMERGENCY:
        counts.emergency_received += 1
        if event.outcome is not None:
            _bump(counts, f"emergency_{event.outcome.value}")
    elif kind is EventKind.AGENCY_ONBOARDED:
        counts.agencies_onboarded += 1
    if kind is not EventKind.RFA_RECIPIENT and event.owners_affected:
        counts.owners_affected[kind.value] = (
            counts.owners_affected.get(kind.value, 0) + event.owners_affected
        )


def _bump(counts: PeriodCounts, name: str) -> None:
    setattr(counts, name, getattr(counts, name) + 1)


def aggregate(events: Iterable[TransparencyEvent], k: int = DEFAULT_K) -> list[PeriodCounts]:
    """Count events per half-year, overall (agency ``*``) and per agency, in a stable order.

    Owners reached are summed only over requests that reached at least ``k`` owners.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    table: dict[tuple[str, str], PeriodCounts] = {}
    for event in events:
        period = half_year(event.at)
        for agency in (ALL_AGENCIES, event.agency_id):
            key = (period, agency)
            if key not in table:
                table[key] = PeriodCounts(period=period, agency_id=agency)
            _add(table[key], event, k)
    return [table[key] for key in sorted(table)]


_OWNER_KINDS = [k.value for k in EventKind if k is not EventKind.RFA_RECIPIENT]
_SCALARS = [f.name for f in fields(PeriodCounts) if f.name != "owners_affected"]
CSV_HEADER = [*_SCALARS, "share_rate", *(f"owners_affected_{k}" for k in _OWNER_KINDS)]


def to_csv_rows(rows: Iterable[PeriodCounts]) -> list[list[str]]:
    """Return the report as CSV rows, header first, ready for ``csv.writer``."""
    table = [list(CSV_HEADER)]
    for row in rows:
        values = [str(getattr(row, name)) for name in _SCALARS]
        values.append(f"{row.share_rate:.4f}")
        values.extend(str(row.owners_affected.get(k, 0)) for k in _OWNER_KINDS)
        table.append(values)
    return table


def to_json(rows: Iterable[PeriodCounts]) -> str:
    """Return the report as stable JSON: a list of objects with sorted keys."""
    documents = [{**asdict(row), "share_rate": row.share_rate} for row in rows]
    return json.dumps(documents, sort_keys=True, separators=(",", ":"))
