"""Bystander request policy: the area, the window and the words a stranger may send owners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.clips.rules import RETENTION_CHOICES
from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.geo.geometry import (
    MAX_AREA_POSITIONS,
    SQUARE_METRES_PER_SQUARE_MILE,
    Circle,
    Polygon,
    cells_covering,
    circle_polygon,
    polygon_area_m2,
    stored,
)
from doorstep.requests.rules import MAX_AREA_SQ_MI, MAX_WINDOW, TARGETING_RESOLUTION
from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency.counts import CountRange

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "MAX_AGE",
    "MAX_AREA_SQ_MI",
    "MAX_WINDOW",
    "MIN_WINDOW",
    "TOKEN_BYTES",
    "BystanderCounts",
    "BystanderDraft",
    "Decision",
    "PublicBystanderCounts",
    "ValidatedBystanderRequest",
    "check_request",
    "public_counts",
]

#: The shortest window worth asking about: a minute either side of a walk past.
MIN_WINDOW = timedelta(minutes=1)
#: No clip outlives the longest retention an owner may choose: older footage is gone already.
MAX_AGE = timedelta(days=max(RETENTION_CHOICES))
#: How someone may be recognised ("red coat, walked a grey dog"): short, and never required.
DESCRIPTION_MAX_LENGTH = 280
#: Bytes of randomness in a requester's status link.
TOKEN_BYTES = 24


class Decision(StrEnum):
    """What an owner chose for one clip (or for the whole request, when declining)."""

    DELETE = "delete"
    BLUR = "blur"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class BystanderDraft:
    """What the requester typed: an area, a window and, if they like, how to recognise them."""

    area: Circle | Polygon
    start: datetime
    end: datetime
    description: str


@dataclass(frozen=True, slots=True)
class ValidatedBystanderRequest:
    """A request that passed every rule, with the public cells whose cameras' owners are asked."""

    area: Circle | Polygon
    polygon: Polygon
    area_sq_mi: float
    start: datetime
    end: datetime
    description: str
    cells: frozenset[str]


def _refuse(detail: str, reason: str, field: str) -> PolicyRefused:
    return PolicyRefused(detail, field=field, extra={"reason": reason})


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    for name, value in (("start", start), ("end", end), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(f"{name} must carry a time zone", field=name)
    if end <= start:
        raise InvalidInput("the window must end after it starts", field="end")
    if end - start < MIN_WINDOW:
        raise _refuse("the time window must be at least a minute long", "window_too_short", "end")
    if end - start > MAX_WINDOW:
        raise _refuse("the time window may be at most 12 hours long", "window_too_long", "end")
    if end > now:
        raise _refuse(
            "ask about footage already recorded; the window must be in the past",
            "window_not_past",
            "end",
        )
    if start < now - MAX_AGE:
        raise _refuse(
            f"no clip is kept longer than {MAX_AGE.days} days; the window must be more recent",
            "window_too_old",
            "start",
        )


def _measured(area: Circle | Polygon) -> tuple[Polygon, float]:
    """The polygon asked about (a circle's enclosing one) and its area in square miles."""
    shape = stored(circle_polygon(area) if isinstance(area, Circle) else area)
    if shape.positions > MAX_AREA_POSITIONS:
        raise _refuse(
            f"the area's outline has {shape.positions} points; at most {MAX_AREA_POSITIONS}",
            "area_too_detailed",
            "area",
        )
    return shape, polygon_area_m2(shape) / SQUARE_METRES_PER_SQUARE_MILE


def check_request(
    draft: BystanderDraft, *, now: datetime, resolution: int = TARGETING_RESOLUTION
) -> ValidatedBystanderRequest:
    """Check a bystander's draft; return it validated or raise ``PolicyRefused``/``InvalidInput``.

    Owners are found by public cell alone, as for Requests for Assistance (I1): every camera
    in a cell the area meets is asked, so no outline can pick one house out of its street.
    """
    _check_window(draft.start, draft.end, now)
    description = " ".join(draft.description.split())
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(
            f"describe yourself in at most {DESCRIPTION_MAX_LENGTH} characters",
            field="description",
        )
    shape, sq_mi = _measured(draft.area)
    if sq_mi > MAX_AREA_SQ_MI:
        raise _refuse(
            f"the area is {sq_mi:.3f} sq mi; a request may cover at most {MAX_AREA_SQ_MI} sq mi",
            "area_too_large",
            "area",
        )
    cells = frozenset(cells_covering(shape, resolution))
    return ValidatedBystanderRequest(
        area=draft.area,
        polygon=shape,
        area_sq_mi=sq_mi,
        start=draft.start,
        end=draft.end,
        description=description,
        cells=cells,
    )


@dataclass(frozen=True, slots=True)
class BystanderCounts:
    """Exact counts, known to the server only; ``public_counts`` is what leaves it."""

    requests: int
    asked: int
    blurred: int
    deleted: int


@dataclass(frozen=True, slots=True)
class PublicBystanderCounts:
    """Counts as anyone may see them: coarse ranges, each below ``k`` withheld (I3)."""

    requests: CountRange
    asked: CountRange
    blurred: CountRange
    deleted: CountRange
    k: int


def public_counts(counts: BystanderCounts, k: int) -> PublicBystanderCounts:
    """The counts of one request, or of all, as the requester and the public see them."""
    return PublicBystanderCounts(
        requests=disclosure_counts.coarse(counts.requests, k),
        asked=disclosure_counts.coarse(counts.asked, k),
        blurred=disclosure_counts.coarse(counts.blurred, k),
        deleted=disclosure_counts.coarse(counts.deleted, k),
        k=k,
    )
