from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from doorstep.errors import Conflict, InvalidInput
from doorstep.requests.consent import (
    DEFAULT_SHARE_LIFETIME,
    AnswerState,
    OwnerAnswer,
    Share,
    ShareState,
    answer_state,
    decline,
    expire_answer,
    expire_share,
    mark_downloaded,
    open_share,
    revoke,
    share,
    share_state,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
ANSWER = OwnerAnswer(request_id="rfa-1", owner_id="owner-1", respond_by=NOW + timedelta(days=7))
PAST_END = NOW + timedelta(days=7)

AnswerMove = Callable[[OwnerAnswer, datetime], OwnerAnswer]
ShareMove = Callable[[Share, datetime], Share]


def test_a_new_answer_is_pending() -> None:
    assert answer_state(ANSWER, NOW) is AnswerState.PENDING


@pytest.mark.parametrize(
    ("move", "state"), [(share, AnswerState.SHARED), (decline, AnswerState.DECLINED)]
)
def test_pending_answers_can_be_shared_or_declined(move: AnswerMove, state: AnswerState) -> None:
    answered = move(ANSWER, NOW)
    assert answered.state is state
    assert answered.answered_at == NOW
    assert ANSWER.state is AnswerState.PENDING


@pytest.mark.parametrize("first", [share, decline])
@pytest.mark.parametrize("second", [share, decline])
def test_an_answer_is_given_once(first: AnswerMove, second: AnswerMove) -> None:
    with pytest.raises(Conflict):
        second(first(ANSWER, NOW), LATER)


@pytest.mark.parametrize("move", [share, decline])
def test_no_answer_after_the_request_ends(move: AnswerMove) -> None:
    with pytest.raises(Conflict):
        move(ANSWER, PAST_END)


def test_unanswered_request_expires_at_its_end() -> None:
    assert answer_state(ANSWER, PAST_END - timedelta(seconds=1)) is AnswerState.PENDING
    assert answer_state(ANSWER, PAST_END) is AnswerState.EXPIRED
    assert expire_answer(ANSWER, PAST_END).state is AnswerState.EXPIRED


@pytest.mark.parametrize("moved", [share(ANSWER, NOW), decline(ANSWER, NOW)])
def test_answered_requests_do_not_expire(moved: OwnerAnswer) -> None:
    assert answer_state(moved, PAST_END) is moved.state
    with pytest.raises(Conflict):
        expire_answer(moved, PAST_END)


def test_an_answer_cannot_expire_early() -> None:
    with pytest.raises(Conflict):
        expire_answer(ANSWER, NOW)


def open_now() -> Share:
    return open_share(share(ANSWER, NOW), "share-1", NOW)


def test_a_share_opens_active_for_ninety_days() -> None:
    item = open_now()
    assert item.state is ShareState.ACTIVE
    assert item.expires_at - item.created_at == DEFAULT_SHARE_LIFETIME == timedelta(days=90)


@pytest.mark.parametrize("answer", [ANSWER, decline(ANSWER, NOW)])
def test_only_a_shared_answer_opens_a_share(answer: OwnerAnswer) -> None:
    with pytest.raises(Conflict):
        open_share(answer, "share-1", NOW)


@pytest.mark.parametrize(
    ("move", "state"),
    [(revoke, ShareState.REVOKED), (mark_downloaded, ShareState.DOWNLOADED)],
)
def test_an_active_share_can_be_revoked_or_downloaded(move: ShareMove, state: ShareState) -> None:
    moved = move(open_now(), LATER)
    assert moved.state is state
    assert moved.changed_at == LATER


def test_a_downloaded_share_cannot_be_revoked() -> None:
    with pytest.raises(Conflict, match="downloaded"):
        revoke(mark_downloaded(open_now(), LATER), LATER)


@pytest.mark.parametrize("first", [revoke, mark_downloaded])
@pytest.mark.parametrize("second", [revoke, mark_downloaded, expire_share])
def test_settled_shares_do_not_move(first: ShareMove, second: ShareMove) -> None:
    with pytest.raises(Conflict):
        second(first(open_now(), LATER), NOW + timedelta(days=100))


def test_a_share_expires_after_its_lifetime() -> None:
    item = open_now()
    end = NOW + timedelta(days=90)
    assert share_state(item, end - timedelta(seconds=1)) is ShareState.ACTIVE
    assert share_state(item, end) is ShareState.EXPIRED
    assert expire_share(item, end).state is ShareState.EXPIRED


@pytest.mark.parametrize("move", [revoke, mark_downloaded])
def test_an_expired_share_cannot_be_downloaded_or_revoked(move: ShareMove) -> None:
    with pytest.raises(Conflict, match="expired"):
        move(open_now(), NOW + timedelta(days=90))


def test_a_share_cannot_expire_early() -> None:
    with pytest.raises(Conflict):
        expire_share(open_now(), LATER)


def test_times_must_be_aware() -> None:
    with pytest.raises(InvalidInput):
        answer_state(ANSWER, NOW.replace(tzinfo=None))
    with pytest.raises(InvalidInput):
        OwnerAnswer("rfa-1", "owner-1", NOW.replace(tzinfo=None))
    with pytest.raises(InvalidInput):
        open_share(share(ANSWER, NOW), "share-1", NOW, lifetime=timedelta(0))
