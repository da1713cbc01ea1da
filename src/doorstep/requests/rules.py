"""Request for Assistance policy (invariant I10): what agencies may ask residents for, where."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.geo.cells import Coordinates, parse_coordinates
from doorstep.geo.geojson_text import geojson_from_text
from doorstep.geo.geometry import (
    MAX_AREA_POSITIONS,
    SQUARE_METRES_PER_SQUARE_MILE,
    Circle,
    Polygon,
    Region,
    cell_area_m2,
    cells_covering,
    circle_polygon,
    parse_geojson,
    polygon,
    polygon_area_m2,
    polygon_within,
    stored,
)
from doorstep.geo.reach import public_cells_inside
from doorstep.neighbors.rules import describes_person_only_by_race
from doorstep.requests.rules_policy import (
    OFFENCE_CATEGORIES,
    check_agency_may_request,
    check_offence_category,
)
from doorstep.text.assembly import is_about_assembly
from doorstep.text.normalize import CASE_KEY_MAX_LENGTH, case_key
from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency.counts import CountRange

__all__ = [
    "CASE_NUMBER_MAX_LENGTH",
    "DESCRIPTION_MAX_LENGTH",
    "INCIDENT_TYPE_MAX_LENGTH",
    "MAX_RADIUS_M",
    "ANSWER_WINDOW",
    "MAX_AREA_SQ_MI",
    "MAX_PER_CASE",
    "MAX_WINDOW",
    "MIN_AREA_SQ_MI",
    "MIN_WINDOW",
    "OFFENCE_CATEGORIES",
    "TARGETING_RESOLUTION",
    "Circle",
    "Polygon",
    "PublicCounts",
    "PublicTotals",
    "Reach",
    "Region",
    "RfaCounts",
    "RfaDraft",
    "ValidatedRfa",
    "check_agency_may_request",
    "check_rfa",
    "draft_area",
    "is_about_assembly",
    "parse_geojson",
    "polygon",
    "public_counts",
    "public_totals",
    "reach",
]

MIN_AREA_SQ_MI = 0.025
MAX_AREA_SQ_MI = 0.5
MIN_WINDOW = timedelta(minutes=15)
MAX_WINDOW = timedelta(hours=12)
MAX_PER_CASE = 2
#: Longest case number, incident type and description a request may carry (form, API and table).
CASE_NUMBER_MAX_LENGTH = 60
INCIDENT_TYPE_MAX_LENGTH = 80
DESCRIPTION_MAX_LENGTH = 4000
#: Largest radius of a circular request area, in metres.
MAX_RADIUS_M = 20_000
#: Cameras are matched to requests by public H3 cell alone, at this resolution: the default of
#: the ``public_cell_resolution`` setting, which callers pass (cameras' cells are stored at it).
TARGETING_RESOLUTION = 8


@dataclass(frozen=True, slots=True)
class RfaDraft:
    """What an agency typed into the request form, before the policy has looked at it."""

    case_number: str
    incident_type: str
    description: str
    area: Circle | Polygon
    start: datetime
    end: datetime
    #: A key of ``OFFENCE_CATEGORIES`` (``rules_policy``): every request names one.
    offence_category: str


def draft_area(
    centre: Coordinates | None, radius_m: float | None, geometry: dict[str, Any] | None
) -> Circle | Polygon:
    """The request area from a centre and radius, or from a GeoJSON polygon (exactly one)."""
    if geometry is not None and (centre is not None or radius_m is not None):
        raise InvalidInput("give a centre and radius or a polygon, not both", field="area")
    if geometry is not None:
        region = parse_geojson(geometry)
        if len(region.polygons) != 1:
            raise InvalidInput("a request covers one polygon", field="area")
        return region.polygons[0]
    if centre is None or radius_m is None:
        raise InvalidInput("give a centre and a radius in metres, or a polygon", field="area")
    return Circle(centre, radius_m)


def form_area(polygon_text: str, centre_text: str, radius_text: str) -> Circle | Polygon:
    """``draft_area`` from a form's three text fields (any map-drawn area: requests and others)."""
    geometry = geojson_from_text(polygon_text, "polygon") if polygon_text.strip() else None
    centre = parse_coordinates(centre_text) if centre_text.strip() else None
    radius = None
    if radius_text.strip():
        try:
            radius = float(radius_text)
        except ValueError as err:
            raise InvalidInput("the radius is a number of metres", field="radius_m") from err
    return draft_area(centre, radius, geometry)


@dataclass(frozen=True, slots=True)
class Reach:
    """What a request reaches: how many public cells, and their area on the ellipsoid."""

    cells: int
    sq_mi: float


def reach(cells: Iterable[str]) -> Reach:
    """The reach of a request's cells, as its public record shows it."""
    distinct = set(cells)
    area_m2 = sum(cell_area_m2(cell) for cell in sorted(distinct))
    return Reach(cells=len(distinct), sq_mi=area_m2 / SQUARE_METRES_PER_SQUARE_MILE)


@dataclass(frozen=True, slots=True)
class ValidatedRfa:
    """A request that passed every rule, with the cells to look for cameras in.

    ``polygon`` is the area drawn (a circle's enclosing polygon) and ``area_sq_mi`` its geodesic
    area. ``cells`` are what the request reaches, for every purpose (owners asked, their clips,
    its feed alert, the near-duplicate check): the cells at ``resolution`` whose hexagon meets
    the polygon and lies wholly inside the jurisdiction (``alerts.public_cells_inside``, the rule
    alerts obey). An area at the border reaches only the whole cells inside, never a home beyond.
    """

    case_number: str
    #: One key for every way of writing the case number (``policy_text.case_key``).
    case_key: str
    incident_type: str
    offence_category: str
    description: str
    area: Circle | Polygon
    polygon: Polygon
    area_sq_mi: float
    start: datetime
    end: datetime
    cells: frozenset[str]
    resolution: int

    @property
    def reach(self) -> Reach:
        """How many cells the request reaches and their area, as its public record shows."""
        return reach(self.cells)


def _refuse(detail: str, reason: str, field: str) -> PolicyRefused:
    return PolicyRefused(detail, field=field, extra={"reason": reason})


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    for name, value in (("start", start), ("end", end), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(f"{name} must carry a time zone", field=name)
    if end <= start:
        raise InvalidInput("the window must end after it starts", field="end")
    length = end - start
    if length < MIN_WINDOW:
        raise _refuse("the time window must be at least 15 minutes long", "window_too_short", "end")
    if length > MAX_WINDOW:
        raise _refuse("the time window may be at most 12 hours long", "window_too_long", "end")
    if end > now:
        raise _refuse(
            "requests are for footage already recorded; the window must be in the past",
            "window_not_past",
            "end",
        )


def _area(area: Circle | Polygon) -> tuple[Polygon, float]:
    """The region a request reaches and its area on the ellipsoid, in square miles.

    A circle reaches the polygon that encloses it, so that polygon is what is measured: the area
    the policy checks is never less than the area of what the request targets. The polygon was
    validated by GEOS when it was made (crossing edges or holes outside it are refused there),
    and is validated again as it will be stored, so a stored area always reads back.
    """
    shape = stored(circle_polygon(area) if isinstance(area, Circle) else area)
    if shape.positions > MAX_AREA_POSITIONS:
        raise _refuse(
            f"the area's outline has {shape.positions} points; a request area may have at most "
            f"{MAX_AREA_POSITIONS}",
            "area_too_detailed",
            "area",
        )
    return shape, polygon_area_m2(shape) / SQUARE_METRES_PER_SQUARE_MILE


def _cells_reached(shape: Polygon, jurisdiction: Region, resolution: int) -> frozenset[str]:
    """The cells a request reaches: those its area meets that lie wholly inside the jurisdiction.

    A camera is asked iff its public cell is one of these; a cell the area meets that sticks out
    of the jurisdiction holds homes outside it, so it is left out whole (the rule alerts obey).
    """
    meets = cells_covering(shape, resolution)
    inside = frozenset(public_cells_inside(meets, jurisdiction.geometry))
    if not inside:
        raise _refuse(
            "this area reaches no neighbourhood cell that lies wholly inside your jurisdiction: "
            "a request reaches only the whole map cells its area meets that are inside the "
            "jurisdiction, so an area at the border reaches only the cells inside it. Draw the "
            "area further inside, so that it meets a cell lying wholly inside the jurisdiction",
            "no_cells_inside_jurisdiction",
            "area",
        )
    return inside


def check_rfa(
    draft: RfaDraft,
    *,
    jurisdiction: Region | Polygon,
    existing_for_case: int,
    now: datetime,
    resolution: int = TARGETING_RESOLUTION,
) -> ValidatedRfa:
    """Check a draft request against the policy; return it validated or raise ``PolicyRefused``."""
    case_number = draft.case_number.strip()
    key = case_key(case_number)
    if not key:
        raise _refuse(
            "a request needs the agency's case number", "case_number_missing", "case_number"
        )
    if len(key) > CASE_KEY_MAX_LENGTH:
        raise InvalidInput("a case number is at most 60 letters and digits", field="case_number")
    category = check_offence_category(draft.offence_category)
    _check_window(draft.start, draft.end, now)
    if existing_for_case >= MAX_PER_CASE:
        raise _refuse(
            f"case {case_number} already has {existing_for_case} requests; "
            f"at most {MAX_PER_CASE} are allowed per case",
            "case_limit",
            "case_number",
        )
    shape, sq_mi = _area(draft.area)
    if sq_mi < MIN_AREA_SQ_MI:
        raise _refuse(
            f"the area is {sq_mi:.3f} sq mi; draw at least {MIN_AREA_SQ_MI} sq mi",
            "area_too_small",
            "area",
        )
    if sq_mi > MAX_AREA_SQ_MI:
        raise _refuse(
            f"the area is {sq_mi:.3f} sq mi; requests may cover at most {MAX_AREA_SQ_MI} sq mi",
            "area_too_large",
            "area",
        )
    region = jurisdiction if isinstance(jurisdiction, Region) else Region((jurisdiction,))
    if not polygon_within(shape, region):
        raise _refuse(
            "the whole area must lie inside the agency's jurisdiction",
            "outside_jurisdiction",
            "area",
        )
    cells = _cells_reached(shape, region, resolution)
    if is_about_assembly(f"{draft.incident_type}\n{draft.description}"):
        raise _refuse(
            "requests about protests, strikes or other lawful assembly are not allowed",
            "protest",
            "description",
        )
    # What the incident was ("Package theft") describes nobody: each field is judged on its own.
    if any(describes_person_only_by_race(t) for t in (draft.incident_type, draft.description)):
        raise _refuse(
            "the description names a person only by race or ethnicity; describe what they did, "
            "wore or drove instead",
            "race_only",
            "description",
        )
    return ValidatedRfa(
        case_number=case_number,
        case_key=key,
        incident_type=draft.incident_type.strip(),
        offence_category=category,
        description=draft.description.strip(),
        area=draft.area,
        polygon=shape,
        area_sq_mi=sq_mi,
        start=draft.start,
        end=draft.end,
        cells=cells,
        resolution=resolution,
    )


#: How long owners may answer a request that was not closed early.
ANSWER_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class RfaCounts:
    """How many owners were asked and how many shared, exactly; only ``public_counts`` leaves."""

    asked: int
    shared: int
    clips: int


@dataclass(frozen=True, slots=True)
class PublicCounts:
    """What anyone may know of a request's answers (I3); the same for the agency and the public.

    Every count is a coarse range (``disclosure_counts.coarse``), every one below ``k`` withheld
    as "fewer than k", zero included: over one or two cameras "asked 1, shared 0" would tell
    who declined. ``k`` is the camera map's threshold. Declines and silence are never counted.
    """

    asked: CountRange
    shared: CountRange
    clips: CountRange
    k: int


def public_counts(counts: RfaCounts, k: int) -> PublicCounts:
    """The counts of one request as anyone but the server may see them."""
    return PublicCounts(
        asked=disclosure_counts.coarse(counts.asked, k),
        shared=disclosure_counts.coarse(counts.shared, k),
        clips=disclosure_counts.coarse(counts.clips, k),
        k=k,
    )


@dataclass(frozen=True, slots=True)
class PublicTotals:
    """An agency's record, added up from its requests' public ranges only.

    Each total is the sum of the shown ranges' bounds: worked out from what each request
    already shows, it cannot give a withheld or bucketed count away by subtraction.
    """

    requests: int
    asked: CountRange
    shared: CountRange
    clips: CountRange
    k: int


def public_totals(counts: Iterable[PublicCounts], k: int) -> PublicTotals:
    """Totals over some requests' public counts."""
    rows = list(counts)
    if any(row.k != k for row in rows):
        raise ValueError("counts withheld under another k cannot be added up under this one")
    return PublicTotals(
        requests=len(rows),
        asked=disclosure_counts.total((row.asked for row in rows), k),
        shared=disclosure_counts.total((row.shared for row in rows), k),
        clips=disclosure_counts.total((row.clips for row in rows), k),
        k=k,
    )
