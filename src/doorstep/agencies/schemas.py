"""What the agency API reads and answers: applications, the directory, members, the map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import Strict
from doorstep.agencies.rules import CONTACT_MAX_LENGTH, NAME_MAX_LENGTH
from doorstep.geo.jurisdiction import (
    MAX_JURISDICTION_CELLS,
    MAX_JURISDICTION_POSITIONS,
    MAX_JURISDICTION_RINGS,
)
from doorstep.requests.schemas import CountRangePublic, RfaPublic


class AgencyApply(Strict):
    """An application for an agency; a Doorstep admin verifies it before it can do anything."""

    name: Annotated[str, Field(max_length=NAME_MAX_LENGTH)]
    kind: Annotated[str, Field(pattern="^(law_enforcement|fire)$")]
    level: Literal["local", "state", "federal"] = Field(
        "local",
        description=(
            "local (a city's, town's or county's service), state or federal. A reviewer confirms "
            "it at verification; only local agencies may send requests, and federal agencies are "
            "refused (reason `federal_agency`)."
        ),
    )
    jurisdiction: dict[str, Any] = Field(
        description=(
            "The jurisdiction as a GeoJSON Polygon or MultiPolygon ([lon, lat]). Refused with a "
            "422 problem (field `jurisdiction`) when malformed (open rings, crossing edges, holes "
            "outside their polygon, numbers that are not finite), when it has more than "
            f"{MAX_JURISDICTION_POSITIONS:,} points or "
            f"{MAX_JURISDICTION_RINGS:,} rings, or when it would cover more than "
            f"{MAX_JURISDICTION_CELLS:,} cells at the public resolution (estimated from "
            "its area first; the problem carries `estimated_cells`)."
        )
    )
    contact: Annotated[str, Field(max_length=CONTACT_MAX_LENGTH)]


class AgencyVerify(Strict):
    """A reviewer's verification: the level they confirmed (the one applied for when left out)."""

    level: Literal["local", "state", "federal"] | None = None


class MemberInvite(Strict):
    """The email of the person to invite; they become a member only when they accept."""

    email: Annotated[str, Field(max_length=254)]


class AgencyStats(BaseModel):
    """An agency's record, added up from its requests' public ranges only.

    Each total is the sum of the bounds its requests show, so no total can be subtracted to
    recover a withheld or bucketed count.
    """

    requests: int = Field(description="Requests the agency sent.")
    asked: CountRangePublic = Field(description="Owners asked, over all requests.")
    shared: CountRangePublic = Field(description="Owners who shared, over all requests.")
    clips_shared: CountRangePublic = Field(description="Clips shared, over all requests.")
    k: int = Field(description="The threshold below which a request's counts are withheld.")


class AgencyPublic(BaseModel):
    """A verified agency in the public directory, with every request it ever made."""

    id: str
    name: str
    kind: str
    level: str
    contact: str
    jurisdiction: dict[str, Any]
    verified_at: datetime | None
    stats: AgencyStats
    requests: list[RfaPublic]


class AgencyPrivate(BaseModel):
    """An agency as its applicant, its members and the admins see it."""

    id: str
    name: str
    kind: str
    level: str
    contact: str
    status: str
    jurisdiction: dict[str, Any]
    created_at: datetime
    verified_at: datetime | None


class MemberPublic(BaseModel):
    """A member of an agency, as the agency sees it."""

    user_id: str
    display_name: str
    email: str
    role: str
    added_at: datetime


class MapCell(BaseModel):
    """Opted-in cameras in one cell; only cells with at least k cameras are listed."""

    cell: str
    count: int
    lat: float
    lon: float


class CameraMap(BaseModel):
    """How many cameras may be asked where: counts per public cell, small cells suppressed."""

    agency_id: str
    k: int
    resolution: int
    cells: list[MapCell]
