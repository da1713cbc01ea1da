"""The base map archive, served in byte ranges, and address search."""

from __future__ import annotations

from email.utils import formatdate
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from doorstep.maps import service
from doorstep.maps.schemas import PlacePublic, PlaceSearch, PlacesPublic
from doorstep.platform.http.deps import CsrfDep, StateDep
from doorstep.platform.http.problems import responses
from doorstep.platform.ranges import parse_range

router = APIRouter(tags=["maps"])

#: Browsers may keep pieces of the archive a little while; a new file has a new ETag.
CACHE = "public, max-age=300"


def _archive_response(
    request: Request, state: StateDep, range_header: str | None, if_none_match: str | None
) -> Response:
    archive = service.archive(state.settings)
    headers = {
        "accept-ranges": "bytes",
        "etag": archive.etag,
        "last-modified": formatdate(archive.modified, usegmt=True),
        "cache-control": CACHE,
    }
    tags = {tag.strip() for tag in (if_none_match or "").split(",")}
    if range_header is None and archive.etag in tags:
        return Response(status_code=304, headers=headers)
    span = parse_range(range_header, archive.size, what="the base map")
    start, end = span if span is not None else (0, archive.size - 1)
    headers["content-length"] = str(end - start + 1)
    status = 200
    if span is not None:
        status = 206
        headers["content-range"] = f"bytes {start}-{end}/{archive.size}"
    if request.method == "HEAD" or archive.size == 0:
        return Response(status_code=status, headers=headers, media_type="application/vnd.pmtiles")
    return StreamingResponse(
        service.archive_bytes(archive, start, end),
        status_code=status,
        headers=headers,
        media_type="application/vnd.pmtiles",
    )


# HEAD answers as GET does, without the body (pmtiles readers may ask for the size first).
@router.head("/maps/base.pmtiles", include_in_schema=False)
@router.get(
    "/maps/base.pmtiles",
    response_class=Response,
    responses={
        200: {"content": {"application/vnd.pmtiles": {}}},
        206: {"description": "The bytes asked for", "content": {"application/vnd.pmtiles": {}}},
        304: {"description": "The copy the browser has (If-None-Match) is current"},
        **responses(404, 416),
    },
)
def base_map_archive(
    request: Request,
    state: StateDep,
    range_header: Annotated[str | None, Header(alias="range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The street base map (PMTiles), whole or in one byte range; no sign-in (no user data)."""
    return _archive_response(request, state, range_header, if_none_match)


@router.post("/api/v1/places", responses=responses(403, 422, 429, 503))
async def places(
    body: PlaceSearch, request: Request, state: StateDep, csrf: CsrfDep
) -> PlacesPublic:
    """Up to five places for an address, best first; open to anyone (sign-up uses it).

    POST, so the address is in no URL or log. Browsers send their CSRF token as for any change:
    the session's when signed in, the double-submit cookie's when not.
    """
    async with state.admission.permit():
        await run_in_threadpool(service.admit_search, request, state, csrf)
    # Outside the permit: a slow geocoder holds up no one's database work.
    found = await run_in_threadpool(service.search_places, state.settings, body.query)
    return PlacesPublic(places=[PlacePublic(label=p.label, lat=p.lat, lon=p.lon) for p in found])
