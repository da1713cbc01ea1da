"""Withdrawing a share because its footage was deleted (I6): allowed even after a download."""

from datetime import UTC, datetime, timedelta

import pytest

from doorstep.errors import Conflict
from doorstep.requests.consent import (
    OwnerAnswer,
    ShareState,
    expire_share,
    mark_downloaded,
    open_share,
    revoke,
    share,
    share_state,
    withdraw,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
ANSWER = OwnerAnswer(request_id="rfa-1", owner_id="owner-1", respond_by=NOW + timedelta(days=7))


def test_an_active_or_downloaded_share_is_withdrawn() -> None:
    item = open_share(share(ANSWER, NOW), "share-1", NOW)
    for before in (item, mark_downloaded(item, NOW)):
        after = withdraw(before, LATER)
        assert after.state is ShareState.WITHDRAWN
        assert after.changed_at == LATER
        assert share_state(after, NOW + timedelta(days=200)) is ShareState.WITHDRAWN


def test_a_withdrawn_share_moves_no_further() -> None:
    item = withdraw(open_share(share(ANSWER, NOW), "share-1", NOW), LATER)
    for move in (revoke, mark_downloaded, expire_share, withdraw):
        with pytest.raises(Conflict, match="withdrawn"):
            move(item, LATER)


def test_a_closed_share_is_not_withdrawn() -> None:
    item = open_share(share(ANSWER, NOW), "share-1", NOW)
    with pytest.raises(Conflict):
        withdraw(revoke(item, LATER), LATER)
    with pytest.raises(Conflict):
        withdraw(item, NOW + timedelta(days=90))
