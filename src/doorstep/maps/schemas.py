"""The JSON of address search."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from doorstep.maps.rules import PLACES_LIMIT, QUERY_MAX_CHARS


class PlaceSearch(BaseModel):
    """An address to look up; sent in a POST body so it stays out of URLs and logs."""

    model_config = ConfigDict(extra="forbid")

    # The limit is checked after spaces are tidied (rules.clean_query); this only bounds the body.
    query: str = Field(max_length=4 * QUERY_MAX_CHARS, examples=["1234 SE Alder St"])


class PlacePublic(BaseModel):
    """An address and its point."""

    label: str
    lat: float
    lon: float


class PlacesPublic(BaseModel):
    """The places found, best first."""

    places: list[PlacePublic] = Field(max_length=PLACES_LIMIT)
