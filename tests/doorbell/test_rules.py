"""The doorbell's pure decisions: rings, who may answer, sessions, descriptions, TURN."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from doorstep.doorbell import rules
from doorstep.doorbell.rules import Access, State
from doorstep.doorbell.schemas import DeviceFeed
from doorstep.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.doorbell.sdp import GOOD_ANSWER, GOOD_OFFER, HOST, MDNS, RELAY, SRFLX, TCP, offer

NOW = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)


def test_a_press_within_the_cooldown_is_the_same_ring() -> None:
    assert rules.is_new_ring(None, NOW)
    assert not rules.is_new_ring(NOW - rules.RING_COOLDOWN + timedelta(seconds=1), NOW)
    assert rules.is_new_ring(NOW - rules.RING_COOLDOWN, NOW)
    # A clock stepped back is no reason to ring again.
    assert not rules.is_new_ring(NOW + timedelta(seconds=3), NOW)


@pytest.mark.parametrize("source", sorted(rules.SOURCES))
def test_every_press_source_is_known(source: str) -> None:
    assert rules.check_source(source) == source


@pytest.mark.parametrize("source", ["", "BUTTON", "gpio", "button\x00"])
def test_an_unknown_source_is_refused(source: str) -> None:
    with pytest.raises(InvalidInput):
        rules.check_source(source)


def test_the_owner_and_an_allowed_household_member_may_answer() -> None:
    owner = rules.live_access(is_owner=True, role="resident", household=False, live_view=False)
    member = rules.live_access(is_owner=False, role="resident", household=True, live_view=True)
    assert (owner, member) == (Access.OWNER, Access.HOUSEHOLD)


@pytest.mark.parametrize(
    ("is_owner", "role", "household", "live_view", "error"),
    [
        (False, "resident", False, False, NotFound),  # a neighbour
        (False, "resident", True, False, Forbidden),  # household, not allowed live view
        (False, "agency_member", False, False, NotFound),
        (False, "agency_admin", True, True, NotFound),
        (False, "reviewer", False, False, NotFound),
        (True, "admin", False, False, NotFound),
    ],
)
def test_everyone_else_is_refused(
    is_owner: bool, role: str, household: bool, live_view: bool, error: type[Exception]
) -> None:
    with pytest.raises(error):
        rules.live_access(is_owner=is_owner, role=role, household=household, live_view=live_view)


def test_an_offer_expires_unanswered_and_cannot_be_answered_late() -> None:
    offered = rules.new_session(NOW)
    assert offered.state is State.OFFERED
    assert rules.current(offered, NOW + rules.OFFER_TTL - timedelta(seconds=1)) == offered
    late = NOW + rules.OFFER_TTL
    assert rules.current(offered, late).state is State.ENDED
    with pytest.raises(Conflict):
        rules.answer(offered, GOOD_ANSWER, late)


def test_an_answered_session_can_end_once_and_not_be_answered_again() -> None:
    answered = rules.answer(rules.new_session(NOW), GOOD_ANSWER, NOW + timedelta(seconds=2))
    assert (answered.state, answered.answer_sdp) == (State.ANSWERED, GOOD_ANSWER)
    assert answered.expires_at == NOW + timedelta(seconds=2) + rules.SESSION_TTL
    with pytest.raises(Conflict):
        rules.answer(answered, GOOD_ANSWER, NOW + timedelta(seconds=3))
    ended = rules.end(answered, NOW + timedelta(seconds=9))
    assert (ended.state, ended.ended_at) == (State.ENDED, NOW + timedelta(seconds=9))
    assert rules.end(ended, NOW + timedelta(seconds=20)) == ended
    with pytest.raises(Conflict):
        rules.answer(ended, GOOD_ANSWER, NOW + timedelta(seconds=21))


def test_a_browsers_offer_parses_with_every_kind_of_candidate() -> None:
    described = rules.check_description(GOOD_OFFER, "offer")
    assert described.media == ("video", "audio", "application")
    kinds = {(c.type, c.transport, c.address) for c in described.candidates}
    assert kinds == {
        ("host", "udp", "192.168.1.20"),
        ("host", "udp", "4f3c1a6e-7d2b-4a8e-9c1f-0b2d3e4f5a6b.local"),
        ("srflx", "udp", "203.0.113.7"),
        ("relay", "udp", "198.51.100.9"),
        ("host", "tcp", "2001:db8::5"),
    }
    assert len(described.candidates) == 15


@pytest.mark.parametrize(
    "line",
    [
        "a=candidate:1 1 sctp 2122260223 192.168.1.20 54321 typ host",  # transport
        "a=candidate:1 1 udp -5 192.168.1.20 54321 typ host",  # priority
        "a=candidate:1 1 udp 99999999999 192.168.1.20 54321 typ host",  # priority too large
        "a=candidate:1 1 udp 2122260223 192.168.1.300 54321 typ host",  # address
        "a=candidate:1 1 udp 2122260223 evil.example.com 54321 typ host",  # not mDNS
        "a=candidate:1 1 udp 2122260223 192.168.1.20 0 typ host",  # port 0
        "a=candidate:1 1 udp 2122260223 192.168.1.20 65536 typ host",  # port too large
        "a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ local",  # type
        "a=candidate:1 1 udp 2122260223 192.168.1.20 54321 kind host",  # no typ
        "a=candidate:1 1 udp 2122260223 192.168.1.20 54321",  # too short
        "a=candidate:x!y 1 udp 2122260223 192.168.1.20 54321 typ host",  # foundation
        "a=candidate:1 0 udp 2122260223 192.168.1.20 54321 typ host",  # component
        "a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ srflx raddr",  # odd extension
        "a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ srflx raddr x rport 1",
        "a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ srflx rport 70000",
        "a=candidate:1 1 udp 2122260223 192.168.1.20 ５４３２１ typ host",  # non-ASCII digits
    ],
)
def test_a_malformed_candidate_is_refused(line: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.check_description(offer(HOST, line), "offer")
    assert refused.value.field == "sdp"


@pytest.mark.parametrize(
    "sdp",
    [
        "",
        "v=1\r\n" + GOOD_OFFER.split("\r\n", 1)[1],
        "hello",
        offer(HOST, media=()),  # no media at all
        offer(HOST, media=("video", "text")),  # a media kind a doorbell has no use for
        offer(HOST).replace("m=video 9", "m=video x"),  # a media port that is no number
        offer(HOST).replace("m=video 9 UDP/TLS/RTP/SAVPF 96", "m=video 9"),  # no protocol
        offer(HOST) + "not a line\r\n",
        offer(HOST) + "A=upper\r\n",
        offer(HOST).replace("s=-", "s=-\x00"),
        offer(HOST).replace("s=-", "s=\x1b[31m"),
    ],
)
def test_a_malformed_description_is_refused(sdp: str) -> None:
    with pytest.raises(InvalidInput):
        rules.check_description(sdp, "offer")


def test_an_oversize_description_is_refused() -> None:
    padding = "a=x-padding:" + "p" * 1000
    big = offer(HOST) + "\r\n".join([padding] * 33) + "\r\n"
    assert len(big.encode()) > rules.MAX_SDP_BYTES
    with pytest.raises(InvalidInput, match="at most"):
        rules.check_description(big, "offer")


def test_candidates_of_every_kind_are_known() -> None:
    for line in (HOST, MDNS, SRFLX, RELAY, TCP):
        assert rules.check_description(offer(line), "offer").candidates


def test_a_turn_credential_is_coturns_rest_scheme_under_a_pseudonym() -> None:
    pseudonym = "0123456789abcdef"
    username, credential = rules.turn_credential("s3cret", pseudonym, NOW, 600)
    assert username == f"{int(NOW.timestamp()) + 600}:{pseudonym}"
    expected = hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected


def test_the_agent_hears_of_the_mjpeg_page_only_as_news_when_it_says_what_it_believes() -> None:
    watched = DeviceFeed(sessions=[], ended=[], mjpeg=True)
    assert watched.news(False)
    assert not watched.news(True)
    # An agent that does not say is not woken by it (it would ask again at once, forever).
    assert not watched.news(None)
    assert DeviceFeed(sessions=[], ended=["s"], mjpeg=False).news(None)


def test_a_ring_is_answered_only_while_it_rings() -> None:
    pressed = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert rules.still_ringing(pressed, pressed + timedelta(seconds=5))
    assert rules.still_ringing(pressed, pressed + rules.ANSWER_WINDOW)
    assert not rules.still_ringing(pressed, pressed + rules.ANSWER_WINDOW + timedelta(seconds=1))
    assert not rules.still_ringing(pressed, pressed - timedelta(seconds=1))
