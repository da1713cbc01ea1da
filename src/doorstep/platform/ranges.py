"""Which bytes of a delivered file have left the server: the rule that makes ranges a download.

An agency can fetch a file in pieces (``Range: bytes=0-99``, then ``bytes=100-``) as surely as in
one go. Each piece served is kept as an inclusive byte interval; pieces asked for twice count once,
pieces that meet or overlap join, and once the joined pieces cover the file it has been
downloaded, whatever the requests were called (invariants I2, I5).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from doorstep.errors import RangeNotSatisfiable

#: One piece of a file: the first and the last byte served, both included.
Interval = tuple[int, int]

#: A playback answer carries at most this much: a player asks again for the next piece, so what
#: is counted as served stays close to what was watched, never less.
PLAYBACK_CHUNK = 1024 * 1024


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals joined where they overlap or meet, in order."""
    joined: list[Interval] = []
    for first, last in sorted(intervals):
        if joined and first <= joined[-1][1] + 1:
            joined[-1] = (joined[-1][0], max(joined[-1][1], last))
        else:
            joined.append((first, last))
    return joined


def bytes_covered(intervals: Iterable[Interval]) -> int:
    """How many distinct bytes the intervals cover."""
    return sum(last - first + 1 for first, last in merge(intervals))


@dataclass(frozen=True, slots=True)
class Coverage:
    """What one more piece did to a file's served bytes."""

    size: int
    before: int
    after: int

    @property
    def whole(self) -> bool:
        """Every byte of the file has been served."""
        return self.size > 0 and self.after >= self.size

    @property
    def completed(self) -> bool:
        """This piece was the one that made the served bytes the whole file."""
        return self.whole and self.before < self.size


def add_piece(served: Iterable[Interval], piece: Interval, size: int) -> Coverage:
    """The file's coverage before and after serving ``piece`` on top of ``served``."""
    earlier = list(served)
    return Coverage(
        size=size, before=bytes_covered(earlier), after=bytes_covered([*earlier, piece])
    )


def playback_span(bounds: Interval | None, size: int) -> Interval:
    """What a playback request is answered with: the range asked, capped at ``PLAYBACK_CHUNK``.

    Without a Range header it is the whole file (a plain GET must get all of it or nothing).
    """
    if bounds is None:
        return 0, size - 1
    first, last = bounds
    return first, min(last, first + PLAYBACK_CHUNK - 1)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int, *, what: str) -> Interval | None:
    """One ``Range: bytes=a-b`` as inclusive bounds in ``what`` of ``size`` bytes; None: all.

    Only one range: a multipart answer is never sent. ``RangeNotSatisfiable`` (416) for a range
    that is not one, or that lies past the end.
    """
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        raise RangeNotSatisfiable("use one range like 'bytes=0-1023'", extra={"size": size})
    first, last = match.group(1), match.group(2)
    if not first:
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if size == 0 or start > end or start >= size:
        raise RangeNotSatisfiable(f"{what} has {size} bytes", extra={"size": size})
    return start, end
