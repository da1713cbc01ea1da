"""Transparency report: counts of requests, demands and disclosures per half-year and per agency.

Two kinds of count, two rules:

- what agencies and Doorstep did (requests sent, legal demands and emergency requests and their
  outcomes, owners whose footage a demand or an emergency disclosed, agencies onboarded) is exact:
  these are public acts, and the audit verifier checks the demands and emergencies against the log;
- what residents answered to requests (owners who shared, clips shared) is shown only as the
  requests show it (``disclosure_counts``): each request adds the range it shows, below k
  "fewer than k", zero included, and a row adds those ranges' bounds. A row holding one request
  can then tell no more than that request's own page, and no subtraction of rows gives a
  withheld count away (I1, I3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum

from doorstep.errors import InvalidInput
from doorstep.transparency.counts import CountRange, coarse, total

ALL_AGENCIES = "*"
#: Requests that reached fewer owners than this count as requests but not in "owners reached".
DEFAULT_K = 5


class EventKind(StrEnum):
    """What happened, as the report counts it."""

    RFA = "rfa"
    RFA_RECIPIENT = "rfa_recipient"
    #: The answers to one request: ``owners_affected`` owners shared ``clips`` clips. One per
    #: request, nobody sharing included, so no row can tell which requests had an answer.
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
    clips: int = 0

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidInput("an event time must carry a time zone", field="at")
        if self.owners_affected < 0:
            raise InvalidInput("owners affected cannot be negative", field="owners_affected")
        if self.clips < 0 or (self.clips and self.kind is not EventKind.SHARE):
            raise InvalidInput("only a request's answers count clips, never below 0", field="clips")
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


def _none(k: int = DEFAULT_K) -> CountRange:
    return CountRange(0, 0, k)


def shown(counted: CountRange) -> str:
    """A range of the report in words: "0" where no request was made, else its label."""
    return "0" if counted.at_most == 0 else counted.label


@dataclass(slots=True)
class PeriodCounts:
    """Every count for one half-year, for one agency or for all of them (``*``).

    ``clips_shared`` and ``owners_shared`` come from residents' answers: ranges, the sums of the
    ranges the requests show. ``owners_affected`` counts owners whose footage a legal demand or an
    emergency request disclosed, by kind, exactly.
    """

    period: str
    agency_id: str
    rfas: int = 0
    owners_reached: int = 0
    rfas_reach_withheld: int = 0
    clips_shared: CountRange = field(default_factory=_none)
    owners_shared: CountRange = field(default_factory=_none)
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
        """Clips shared per owner asked, both at least (0 when nobody was asked).

        Worked out from the ranges' lower ends alone, so it says nothing they do not.
        """
        if not self.owners_reached:
            return 0.0
        return round(self.clips_shared.at_least / self.owners_reached, 4)

    @property
    def clips_shared_label(self) -> str:
        """Clips shared, in words."""
        return shown(self.clips_shared)

    @property
    def owners_shared_label(self) -> str:
        """Owners who shared, in words."""
        return shown(self.owners_shared)


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
        # One rule with the requests' own pages: each request adds the range it shows.
        counts.clips_shared = total([counts.clips_shared, coarse(event.clips, k)], k)
        counts.owners_shared = total([counts.owners_shared, coarse(event.owners_affected, k)], k)
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
    if kind in _OWNERS_EXACT and event.owners_affected:
        counts.owners_affected[kind.value] = (
            counts.owners_affected.get(kind.value, 0) + event.owners_affected
        )


#: Kinds whose owners affected are counted exactly: disclosures on a demand or an emergency.
_OWNERS_EXACT = frozenset({*_LEGAL, EventKind.EMERGENCY})


def _bump(counts: PeriodCounts, name: str) -> None:
    setattr(counts, name, getattr(counts, name) + 1)


def aggregate(events: Iterable[TransparencyEvent], k: int = DEFAULT_K) -> list[PeriodCounts]:
    """Count events per half-year, overall (agency ``*``) and per agency, in a stable order.

    Owners reached are summed only over requests that reached at least ``k`` owners; owners
    who shared and clips shared are ranges, each request adding its own (below ``k`` withheld).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    table: dict[tuple[str, str], PeriodCounts] = {}
    for event in events:
        period = half_year(event.at)
        for agency in (ALL_AGENCIES, event.agency_id):
            key = (period, agency)
            if key not in table:
                table[key] = PeriodCounts(
                    period=period, agency_id=agency, clips_shared=_none(k), owners_shared=_none(k)
                )
            _add(table[key], event, k)
    return [table[key] for key in sorted(table)]


_OWNER_KINDS = [k.value for k in EventKind if k in _OWNERS_EXACT]
_RANGES = ("clips_shared", "owners_shared")
_SCALARS = [f.name for f in fields(PeriodCounts) if f.name not in {"owners_affected", *_RANGES}]
CSV_HEADER = [
    *_SCALARS,
    *(f"{name}{end}" for name in _RANGES for end in ("", "_at_least", "_at_most")),
    "share_rate",
    *(f"owners_affected_{k}" for k in _OWNER_KINDS),
]


def range_document(counted: CountRange) -> dict[str, int | str]:
    """A range as the report's JSON gives it, in the API's shape for a request's counts."""
    return {"at_least": counted.at_least, "at_most": counted.at_most, "label": shown(counted)}


def to_csv_rows(rows: Iterable[PeriodCounts]) -> list[list[str]]:
    """Return the report as CSV rows, header first, ready for ``csv.writer``."""
    table = [list(CSV_HEADER)]
    for row in rows:
        values = [str(getattr(row, name)) for name in _SCALARS]
        for name in _RANGES:
            counted: CountRange = getattr(row, name)
            values.extend([shown(counted), str(counted.at_least), str(counted.at_most)])
        values.append(f"{row.share_rate:.4f}")
        values.extend(str(row.owners_affected.get(k, 0)) for k in _OWNER_KINDS)
        table.append(values)
    return table


def to_json(rows: Iterable[PeriodCounts]) -> str:
    """Return the report as stable JSON: a list of objects with sorted keys."""
    documents = [
        {
            **asdict(row),
            **{name: range_document(getattr(row, name)) for name in _RANGES},
            "share_rate": row.share_rate,
            "k": row.clips_shared.k,
        }
        for row in rows
    ]
    return json.dumps(documents, sort_keys=True, separators=(",", ":"))
