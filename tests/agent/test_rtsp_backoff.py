"""Reconnect delays: growing, capped, jittered within bounds, reset after a healthy spell."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest

from doorstep.agent.options import RECONNECT_BACKOFF, AgentOptions
from doorstep.errors import DoorstepError
from doorstep.media.errors import SourceUnavailable
from doorstep.media.source import Backoff, Frame, VideoSource, reconnecting_frames


def test_jitter_shortens_each_delay_by_the_drawn_fraction() -> None:
    draws = iter([0.0, 0.5, 0.999, 0.25, 0.0])
    delays = Backoff(first=1.0, factor=2.0, cap=8.0, jitter=0.5).delays(lambda: next(draws))
    assert list(itertools.islice(delays, 5)) == pytest.approx([1.0, 1.5, 2.002, 7.0, 8.0])


def test_jittered_delays_grow_within_their_bounds() -> None:
    backoff = Backoff(first=1.0, factor=2.0, cap=60.0, jitter=0.5)
    delays = list(itertools.islice(backoff.delays(random.Random(7).random), 9))
    ceilings = [1, 2, 4, 8, 16, 32, 60, 60, 60]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 < delay <= ceiling
    assert len(set(delays)) == len(delays), "no two delays alike: the randomness is used"


def test_the_agent_reconnects_with_jitter_by_default() -> None:
    assert AgentOptions(source="rtsp://camera.example/door").reconnect_backoff == RECONNECT_BACKOFF
    assert RECONNECT_BACKOFF.jitter == 0.5


@pytest.mark.parametrize("jitter", [-0.1, 1.5])
def test_jitter_outside_zero_to_one_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter must be between 0 and 1"):
        Backoff(jitter=jitter)


class _Failing:
    """A source whose opening always fails, as a camera that is off."""

    def __call__(self) -> VideoSource:
        raise SourceUnavailable("rtsp://porch:secret@camera.example/door", "connection refused")


def test_reconnecting_frames_draws_its_jitter_from_the_given_randomness() -> None:
    slept: list[float] = []
    heard: list[tuple[DoorstepError, float]] = []
    frames: Iterator[Frame] = reconnecting_frames(
        _Failing(),
        backoff=Backoff(first=1.0, factor=2.0, cap=4.0, jitter=0.5),
        sleep=slept.append,
        should_stop=lambda: len(slept) >= 4,
        on_retry=lambda err, delay: heard.append((err, delay)),
        draw=lambda: 0.5,
    )
    assert list(frames) == []
    assert slept == [0.75, 1.5, 3.0, 3.0]
    assert [delay for _, delay in heard] == slept
    assert all("secret" not in err.detail for err, _ in heard)
