"""Lost-pet notices: what a notice may ask for, where and when, and when it closes; pure.

A notice reaches the owners whose cameras' public cells its area meets, as a Request for
Assistance does (I1), and asks for nothing: each owner sees only their own clips in which an
animal was detected, and only what an owner chooses to share ever reaches the poster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.accounts.roles import Role
from doorstep.errors import Forbidden, InvalidInput, PolicyRefused
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

#: Largest last-seen area, in square miles (the same bound as an agency's request).
MAX_AREA_SQ_MI = 0.5
#: Longest last-seen window: a pet is looked for over its first days.
MAX_WINDOW = timedelta(hours=72)
#: A notice stays open this long after its window ends, unless its poster closes it first.
OPEN_AFTER_WINDOW = timedelta(days=7)
#: Most notices one poster may have open at once: a lost pet or two, not a survey of the street.
MAX_OPEN_PER_POSTER = 3
DESCRIPTION_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 60
#: The detection label whose clips an owner is shown (``cameras.rules.OBJECT_LABELS``).
ANIMAL_LABEL = "animal"


class Species(StrEnum):
    """What kind of pet is lost."""

    DOG = "dog"
    CAT = "cat"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class NoticeDraft:
    """What the poster typed, before the rules looked at it."""

    species: str
    name: str
    description: str
    area: Circle | Polygon
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ValidatedNotice:
    """A notice that passed every rule, with the cells whose owners it reaches."""

    species: Species
    name: str
    description: str
    area: Circle | Polygon
    polygon: Polygon
    area_sq_mi: float
    start: datetime
    end: datetime
    cells: frozenset[str]


def check_resident(role: str) -> None:
    """Refuse anyone but a plain resident posting a notice or receiving a pet share.

    Never agency staff, reviewers or admins: their only way to footage is a request.
    """
    if role != Role.RESIDENT.value:
        raise Forbidden(
            "lost-pet notices are for residents; agency staff, reviewers and admins ask for "
            "footage through a request",
            extra={"reason": "residents_only"},
        )


def check_open_count(open_now: int) -> None:
    """Refuse a new notice while the poster already has ``MAX_OPEN_PER_POSTER`` open."""
    if open_now >= MAX_OPEN_PER_POSTER:
        raise PolicyRefused(
            f"you have {open_now} open notices; close one before posting another "
            f"(at most {MAX_OPEN_PER_POSTER} at once)",
            extra={"reason": "too_many_open_notices"},
        )


def _refuse(detail: str, reason: str, field: str) -> PolicyRefused:
    return PolicyRefused(detail, field=field, extra={"reason": reason})


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    for name, value in (("start", start), ("end", end), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(f"{name} must carry a time zone", field=name)
    if end <= start:
        raise InvalidInput("the window must end after it starts", field="end")
    if end - start > MAX_WINDOW:
        raise _refuse("the last-seen window may be at most 72 hours long", "window_too_long", "end")
    if end > now:
        raise _refuse(
            "the window is for footage already recorded; it may not end in the future",
            "window_not_past",
            "end",
        )
    if not is_open(end, None, now):
        raise _refuse(
            "a notice closes 7 days after its window ends; this window ended longer ago",
            "window_too_old",
            "end",
        )


def check_notice(draft: NoticeDraft, *, now: datetime, resolution: int) -> ValidatedNotice:
    """Check a draft notice; return it validated or raise ``InvalidInput``/``PolicyRefused``."""
    try:
        species = Species(draft.species)
    except ValueError:
        raise InvalidInput("the species is dog, cat or other", field="species") from None
    name = draft.name.strip()
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"a pet's name is at most {NAME_MAX_LENGTH} characters", field="name")
    description = draft.description.strip()
    if not description or len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(
            f"describe the pet (1 to {DESCRIPTION_MAX_LENGTH} characters)", field="description"
        )
    _check_window(draft.start, draft.end, now)
    shape = stored(circle_polygon(draft.area) if isinstance(draft.area, Circle) else draft.area)
    if shape.positions > MAX_AREA_POSITIONS:
        raise _refuse(
            f"an area's outline may have at most {MAX_AREA_POSITIONS} points",
            "area_too_detailed",
            "area",
        )
    sq_mi = polygon_area_m2(shape) / SQUARE_METRES_PER_SQUARE_MILE
    if sq_mi > MAX_AREA_SQ_MI:
        raise _refuse(
            f"the area is {sq_mi:.3f} sq mi; a notice may cover at most {MAX_AREA_SQ_MI} sq mi",
            "area_too_large",
            "area",
        )
    return ValidatedNotice(
        species=species,
        name=name,
        description=description,
        area=draft.area,
        polygon=shape,
        area_sq_mi=sq_mi,
        start=draft.start,
        end=draft.end,
        cells=cells_covering(shape, resolution),
    )


def closes_at(window_end: datetime) -> datetime:
    """When a notice its poster did not close stops being open."""
    return window_end + OPEN_AFTER_WINDOW


def is_open(window_end: datetime, closed_at: datetime | None, now: datetime) -> bool:
    """Whether owners may still share with a notice, and the poster still see what was shared."""
    return closed_at is None and now < closes_at(window_end)


def shows_animal(labels: list[str]) -> bool:
    """Whether a clip's detections include an animal: the only clips a notice ever lists."""
    return ANIMAL_LABEL in labels
