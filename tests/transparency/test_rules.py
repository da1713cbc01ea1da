import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from doorstep.errors import InvalidInput
from doorstep.transparency.counts import CountRange
from doorstep.transparency.rules import (
    CSV_HEADER,
    EventKind,
    Outcome,
    PeriodCounts,
    TransparencyEvent,
    aggregate,
    half_year,
    to_csv_rows,
    to_json,
)

JULY = datetime(2026, 7, 4, 12, 0, tzinfo=UTC)
MARCH = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ev(
    kind: EventKind,
    agency: str = "pd-1",
    outcome: Outcome | None = None,
    owners: int = 0,
    at: datetime = JULY,
    clips: int = 0,
) -> TransparencyEvent:
    return TransparencyEvent(kind, agency, at, outcome, owners, clips)


EVENTS = [
    ev(EventKind.AGENCY_ONBOARDED),
    ev(EventKind.AGENCY_ONBOARDED, "fd-2"),
    ev(EventKind.RFA),
    ev(EventKind.RFA),
    ev(EventKind.RFA, "fd-2"),
    ev(EventKind.RFA_RECIPIENT, owners=40),
    ev(EventKind.RFA_RECIPIENT, "fd-2", owners=10),
    # The answers to each request: 6 owners shared 12 clips, nobody shared, 1 owner shared 1 clip.
    ev(EventKind.SHARE, owners=6, clips=12),
    ev(EventKind.SHARE),
    ev(EventKind.SHARE, "fd-2", owners=1, clips=1),
    ev(EventKind.WARRANT, outcome=Outcome.COMPLIED_FULL, owners=2),
    ev(EventKind.WARRANT, outcome=Outcome.COMPLIED_PARTIAL, owners=1),
    ev(EventKind.WARRANT),
    ev(EventKind.SUBPOENA, outcome=Outcome.REJECTED),
    ev(EventKind.COURT_ORDER, "fd-2", outcome=Outcome.COMPLIED_FULL, owners=3),
    ev(EventKind.EMERGENCY, outcome=Outcome.GRANTED, owners=1),
    ev(EventKind.EMERGENCY, outcome=Outcome.REFUSED),
    ev(EventKind.RFA, at=MARCH),
]


def by_key(rows: list[PeriodCounts]) -> dict[tuple[str, str], PeriodCounts]:
    return {(row.period, row.agency_id): row for row in rows}


@pytest.mark.parametrize(
    ("at", "period"),
    [
        (datetime(2026, 6, 30, 23, 59, tzinfo=UTC), "2026-H1"),
        (datetime(2026, 7, 1, 0, 0, tzinfo=UTC), "2026-H2"),
        (datetime(2026, 7, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), "2026-H1"),
        (datetime(2027, 1, 1, tzinfo=UTC), "2027-H1"),
    ],
)
def test_half_years_are_counted_in_utc(at: datetime, period: str) -> None:
    assert half_year(at) == period


def test_totals_for_a_half_year() -> None:
    total = by_key(aggregate(EVENTS))[("2026-H2", "*")]
    assert (total.rfas, total.owners_reached) == (3, 50)
    # Each request adds the range it shows: 10-19, fewer than 5, fewer than 5.
    assert total.clips_shared == CountRange(10, 27, 5)
    assert total.owners_shared == CountRange(5, 17, 5)
    assert total.clips_shared_label == "10–27"
    assert total.share_rate == 0.2
    assert (total.warrants_received, total.warrants_complied_full) == (3, 1)
    assert (total.warrants_complied_partial, total.warrants_rejected) == (1, 0)
    assert (total.subpoenas_received, total.subpoenas_rejected) == (1, 1)
    assert (total.court_orders_received, total.court_orders_complied_full) == (1, 1)
    assert (total.emergency_received, total.emergency_granted, total.emergency_refused) == (2, 1, 1)
    assert total.agencies_onboarded == 2
    assert total.owners_affected == {"warrant": 3, "court_order": 3, "emergency": 1}


def test_counts_per_agency_add_up_to_the_total() -> None:
    rows = by_key(aggregate(EVENTS))
    police, fire = rows[("2026-H2", "pd-1")], rows[("2026-H2", "fd-2")]
    assert (police.rfas, fire.rfas) == (2, 1)
    assert (police.owners_reached, fire.owners_reached) == (40, 10)
    assert (police.clips_shared, fire.clips_shared) == (CountRange(10, 23, 5), CountRange(0, 4, 5))
    assert (police.owners_shared, fire.owners_shared) == (CountRange(5, 13, 5), CountRange(0, 4, 5))
    assert (police.share_rate, fire.share_rate) == (0.25, 0.0)
    assert fire.court_orders_complied_full == 1


def test_periods_are_kept_apart_and_ordered() -> None:
    rows = aggregate(EVENTS)
    assert [(r.period, r.agency_id) for r in rows] == [
        ("2026-H1", "*"),
        ("2026-H1", "pd-1"),
        ("2026-H2", "*"),
        ("2026-H2", "fd-2"),
        ("2026-H2", "pd-1"),
    ]
    assert rows[0].rfas == 1


def test_share_rate_is_zero_when_nobody_was_asked() -> None:
    assert aggregate([ev(EventKind.RFA)])[0].share_rate == 0.0


def test_no_events_no_rows() -> None:
    assert aggregate([]) == []


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (EventKind.WARRANT, Outcome.GRANTED),
        (EventKind.EMERGENCY, Outcome.COMPLIED_FULL),
        (EventKind.RFA, Outcome.REJECTED),
    ],
)
def test_outcomes_must_fit_the_kind(kind: EventKind, outcome: Outcome) -> None:
    with pytest.raises(InvalidInput):
        ev(kind, outcome=outcome)


def test_events_need_aware_times_and_non_negative_counts() -> None:
    with pytest.raises(InvalidInput):
        ev(EventKind.RFA, at=datetime(2026, 1, 1))
    with pytest.raises(InvalidInput):
        ev(EventKind.SHARE, owners=-1)


def test_csv_rows_have_a_header_and_read_back() -> None:
    table = to_csv_rows(aggregate(EVENTS))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    records = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert table[0] == CSV_HEADER
    assert len(records) == 5
    total = records[2]
    assert (total["period"], total["agency_id"], total["clips_shared"]) == ("2026-H2", "*", "10–27")
    assert (total["clips_shared_at_least"], total["clips_shared_at_most"]) == ("10", "27")
    assert (total["share_rate"], total["owners_affected_warrant"]) == ("0.2000", "3")
    assert "owners_affected_share" not in total


def test_json_is_stable_and_complete() -> None:
    text = to_json(aggregate(EVENTS))
    documents = json.loads(text)
    assert text == to_json(aggregate(EVENTS))
    assert documents[2]["share_rate"] == 0.2
    assert documents[2]["owners_shared"] == {"at_least": 5, "at_most": 17, "label": "5–17"}
    assert documents[2]["clips_shared"] == {"at_least": 10, "at_most": 27, "label": "10–27"}
    assert documents[2]["k"] == 5
    assert "share" not in documents[2]["owners_affected"]
    assert documents[2]["emergency_granted"] == 1


def test_requests_reaching_fewer_than_k_owners_are_not_summed() -> None:
    events = [
        ev(EventKind.RFA, agency="pd-1"),
        ev(EventKind.RFA_RECIPIENT, agency="pd-1", owners=1),
        ev(EventKind.RFA, agency="pd-1"),
        ev(EventKind.RFA_RECIPIENT, agency="pd-1", owners=7),
    ]
    police = by_key(aggregate(events, k=5))[("2026-H2", "pd-1")]
    # The lone owner of the first request is not in the sum: beside that request's public share
    # count it would show whether they declined.
    assert (police.rfas, police.owners_reached, police.rfas_reach_withheld) == (2, 7, 1)
    assert by_key(aggregate(events, k=1))[("2026-H2", "pd-1")].owners_reached == 8
    with pytest.raises(ValueError, match="at least 1"):
        aggregate(events, k=0)


def test_answers_below_k_are_withheld_and_a_row_without_requests_reads_zero() -> None:
    events = [ev(EventKind.RFA), ev(EventKind.SHARE, owners=1, clips=1), ev(EventKind.WARRANT)]
    [total, police] = aggregate(events, k=5)
    assert police.clips_shared == police.owners_shared == CountRange(0, 4, 5)
    assert police.clips_shared_label == "fewer than 5"
    assert aggregate([ev(EventKind.WARRANT)])[0].clips_shared_label == "0"
    with pytest.raises(InvalidInput):
        ev(EventKind.WARRANT, clips=1)
    with pytest.raises(InvalidInput):
        ev(EventKind.SHARE, clips=-1)
