"""What anyone but an owner may learn of who a request reached (I1, I3): coarse counts only.

Every count of a request's answers that leaves the server (owners asked, owners who shared,
clips shared; never declined or pending, which nobody but the owner sees) is a ``CountRange``:

- below ``k`` (the camera map's threshold) it is withheld as "fewer than k", zero included, so a
  withheld count is just as likely to mean nobody was asked as that one household said no;
- from ``k`` up it is a bucket whose edges are ``k`` times 1, 2, 4, 10, 20, 40, 100 … (for
  k = 5: 5–9, 10–19, 20–49, 50–99, 100–199 …), each at least ``k`` wide.

Buckets rather than calibrated noise, because a bucket is deterministic: the same number always
reads the same, so asking again and again and averaging learns nothing, and no noise seed or
privacy budget has to be kept secret or spent. The cost is the one noise also has: a request
whose count sits at a bucket edge moves bucket when one more camera joins. That only tells the
agency something when it can ask twice about nearly the same cameras, which ``near_duplicate``
refuses: targeting is by public cell, so two requests differ only by whole cells, and one that
shares most of its cells with an earlier request of the same agency (but not all) is refused.

Totals over several requests are the sums of their ranges' bounds: worked out from what is
already public, they cannot give a withheld count away by subtraction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

#: Multiples of k at which buckets start, repeated by tens: k, 2k, 4k, 10k, 20k, 40k, 100k …
_STEPS = (1, 2, 4)
#: An agency may not ask about nearly the same cells as one of its requests this recent.
NEAR_DUPLICATE_HORIZON = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class CountRange:
    """A count as others may see it: somewhere from ``at_least`` to ``at_most``, both included."""

    at_least: int
    at_most: int
    k: int

    @property
    def label(self) -> str:
        """The range in words: "fewer than 5", "10–19"."""
        if self.at_least == 0:
            return f"fewer than {self.at_most + 1:,}"
        if self.at_least == self.at_most:
            return f"{self.at_least:,}"
        return f"{self.at_least:,}–{self.at_most:,}"


def bucket_floors(k: int, up_to: int) -> list[int]:
    """The lower edges of the buckets that hold counts up to ``up_to``, from ``k``."""
    _check_k(k)
    floors: list[int] = []
    scale = 1
    while not floors or floors[-1] <= up_to:
        floors.extend(k * step * scale for step in _STEPS)
        scale *= 10
    return floors


def coarse(n: int, k: int) -> CountRange:
    """The range ``n`` is shown as: "fewer than k" below ``k``, else its bucket."""
    _check_k(k)
    if n < 0:
        raise ValueError("a count cannot be negative")
    if n < k:
        return CountRange(0, k - 1, k)
    floors = bucket_floors(k, n)
    index = max(i for i, floor in enumerate(floors) if floor <= n)
    return CountRange(floors[index], floors[index + 1] - 1, k)


def total(ranges: Iterable[CountRange], k: int) -> CountRange:
    """The sum of several shown ranges, from their bounds alone (nothing finer than they told)."""
    rows = list(ranges)
    if any(row.k != k for row in rows):
        raise ValueError("ranges shown under another k cannot be added up under this one")
    return CountRange(
        sum(row.at_least for row in rows), sum(row.at_most for row in rows) if rows else k - 1, k
    )


def is_coarse(shown: CountRange) -> bool:
    """Whether a range gives nothing below k away: withheld whole, or starting at k or more."""
    return shown.at_least >= shown.k or (shown.at_least == 0 and shown.at_most >= shown.k - 1)


def near_duplicate(new_cells: int, earlier_cells: int, shared_cells: int) -> bool:
    """Whether a request's cells are nearly those of an earlier one: differencing would tell.

    Two requests over the same cells ask the same owners and read the same; two that share no
    cell are apart. In between, the difference of their counts is the count of the cells only
    one of them covers: when those are fewer than the cells they share, the pair is a near
    duplicate, and the later one is refused.
    """
    if min(new_cells, earlier_cells, shared_cells) < 0 or shared_cells > min(
        new_cells, earlier_cells
    ):
        raise ValueError("shared cells are at most the cells of either request")
    differing = new_cells + earlier_cells - 2 * shared_cells
    return 0 < differing <= shared_cells


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError("k must be at least 1")
