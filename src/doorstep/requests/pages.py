"""Public-safety pages: agency directory, applications, dashboard, RFAs, owners' inbox, locker."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from doorstep.accounts.roles import REVIEWERS
from doorstep.agencies import store as agency_store
from doorstep.agencies.api import agency_public, camera_map_of, rfa_public
from doorstep.agencies.models import Agency, MemberRole
from doorstep.errors import DoorstepError, Forbidden, InvalidInput
from doorstep.geo.cells import parse_coordinates
from doorstep.geo.jurisdiction import cell_boundary, jurisdiction_outline
from doorstep.invitations import store as invitations
from doorstep.platform.http.deps import DbDep, OptionalPrincipal, Principal, StateDep
from doorstep.platform.http.render import render
from doorstep.platform.http.state import AppState
from doorstep.requests import api as rfa_api
from doorstep.requests import store as agencies
from doorstep.requests.models import Rfa
from doorstep.requests.rules import RfaDraft, parse_geojson

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]
LatLon = tuple[float, float]
SVG_WIDTH = 640


def _login(request: Request) -> RedirectResponse:
    return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)


def _page(
    request: Request,
    principal: Principal | None,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> Response:
    request.state.principal = principal
    return render(request, template, context, status=status)


# --- drawing: everything is projected on the server into one SVG, no tiles ----------------------


class Projection:
    """Maps (lat, lon) into an SVG box, keeping shapes true near the middle latitude."""

    def __init__(self, rings: Sequence[Sequence[LatLon]], width: int = SVG_WIDTH) -> None:
        lats = [lat for ring in rings for lat, _ in ring]
        lons = [lon for ring in rings for _, lon in ring]
        self.south, self.north = min(lats), max(lats)
        self.west, self.east = min(lons), max(lons)
        self.squash = math.cos(math.radians((self.south + self.north) / 2))
        span_x = max((self.east - self.west) * self.squash, 1e-9)
        span_y = max(self.north - self.south, 1e-9)
        self.scale = (width - 20) / span_x
        self.width = width
        self.height = round(span_y * self.scale + 20)

    def point(self, lat: float, lon: float) -> str:
        """One point as 'x,y'."""
        x = 10 + (lon - self.west) * self.squash * self.scale
        y = 10 + (self.north - lat) * self.scale
        return f"{x:.1f},{y:.1f}"

    def points(self, ring: Sequence[LatLon]) -> str:
        """A ring as an SVG points attribute."""
        return " ".join(self.point(lat, lon) for lat, lon in ring)


def _geojson_rings(geometry: dict[str, Any]) -> list[list[LatLon]]:
    return [list(shape.exterior) for shape in parse_geojson(geometry).polygons]


def _shade(count: int, top: int) -> str:
    # Darker for more cameras; presentation attributes, so nothing inline for the CSP to refuse.
    level = 0.25 + 0.75 * (count / max(top, 1))
    return f"rgba(31, 94, 110, {level:.2f})"


def camera_map_svg(agency: Agency, counts: dict[str, int], rfas: Sequence[Rfa]) -> dict[str, Any]:
    """The jurisdiction, the k-anonymous cells and the agency's request areas, projected."""
    outline = jurisdiction_outline(agency.jurisdiction)
    projection = Projection(outline)
    top = max(counts.values(), default=1)
    cells = [
        {
            "cell": cell,
            "count": count,
            "points": projection.points(cell_boundary(cell)),
            "fill": _shade(count, top),
        }
        for cell, count in sorted(counts.items())
    ]
    return {
        "width": projection.width,
        "height": projection.height,
        "outline": [projection.points(ring) for ring in outline],
        "cells": cells,
        "requests": [
            {"id": rfa.id, "points": projection.points(ring)}
            for rfa in rfas
            for ring in _geojson_rings(rfa.area)
        ],
    }


def outline_svg(geometry: dict[str, Any], inside: dict[str, Any] | None = None) -> dict[str, Any]:
    """A jurisdiction (and optionally a request area within it) as SVG points."""
    rings = _geojson_rings(geometry)
    projection = Projection(rings, width=360)
    return {
        "width": projection.width,
        "height": projection.height,
        "outline": [projection.points(ring) for ring in rings],
        "area": [projection.points(ring) for ring in _geojson_rings(inside)] if inside else [],
    }


# --- public pages --------------------------------------------------------------------------------


@router.get("/agencies")
def directory(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep
) -> Response:
    """Every verified agency with its jurisdiction, requests and statistics (no login)."""
    k = state.settings.camera_map_k
    rows = [
        {"agency": agency_public(db, agency, k), "map": outline_svg(agency.jurisdiction)}
        for agency in agency_store.verified_agencies(db)
    ]
    return _page(request, principal, "agency_directory.html", {"rows": rows, "k": k})


@router.get("/agencies/apply")
def apply_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Apply for an agency, or see where the application stands."""
    return apply_form(request, principal, db)


@router.get("/agencies/{agency_id}")
def agency_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, agency_id: str
) -> Response:
    """One agency's public page: jurisdiction, every request, statistics."""
    agency = agency_store.public_agency(db, agency_id)
    k = state.settings.camera_map_k
    context = {"agency": agency_public(db, agency, k), "map": outline_svg(agency.jurisdiction)}
    return _page(request, principal, "agency_public.html", context)


@router.get("/rfa/{rfa_id}")
def rfa_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, rfa_id: str
) -> Response:
    """A request's public page: who asked, what for, where and when, and the counts."""
    rfa = agencies.get_rfa(db, rfa_id)
    counts = agencies.rfa_counts(db, [rfa.id])[rfa.id]
    k = state.settings.camera_map_k
    context = {
        "rfa": rfa_public(rfa, counts, k),
        "k": k,
        "map": outline_svg(rfa.agency.jurisdiction, rfa.area),
    }
    return _page(request, principal, "rfa.html", context)


# --- applying and verifying ----------------------------------------------------------------------


def apply_form(
    request: Request,
    principal: Principal | None,
    db: Session,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The application form, or where the caller's application stands."""
    if principal is None:
        return _login(request)
    member = agency_store.membership(db, principal.user)
    context = {"member": member, "form": {}, **extra}
    return _page(request, principal, "agency_apply.html", context, status=status)


@router.post("/agencies/apply")
def apply(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    name: Short,
    kind: Short,
    contact: Short,
    jurisdiction: Annotated[str, Form(max_length=200_000)],
) -> Response:
    """Apply for an agency."""
    if principal is None:
        return _login(request)
    form = {"name": name, "kind": kind, "contact": contact, "jurisdiction": jurisdiction}
    try:
        geometry = _json(jurisdiction, "jurisdiction")
        with db.begin_nested():
            agency_store.apply(
                db,
                principal.user,
                name=name,
                kind=kind,
                jurisdiction=geometry,
                contact=contact,
                cell_resolution=state.settings.public_cell_resolution,
            )
    except DoorstepError as err:
        return apply_form(request, principal, db, status=err.status, error=err, form=form)
    return RedirectResponse("/agencies/apply", status_code=303)


class _BadNumber(ValueError):
    """A number JSON allows to be written but no geometry can hold."""


def _json_int(text: str) -> int:
    value = int(text)
    if abs(value) > 10**300:
        # Past what a float holds: no coordinate, and the geometry checks would overflow on it.
        raise _BadNumber("a number in it is too large")
    return value


def _json_constant(name: str) -> Any:
    raise _BadNumber(f"{name} is not a number JSON allows")


def _json(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_int=_json_int, parse_constant=_json_constant)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"that is not valid GeoJSON: {err.msg}", field=field) from err
    except _BadNumber as err:
        raise InvalidInput(f"that is not valid GeoJSON: {err}", field=field) from err
    except (ValueError, RecursionError) as err:
        # A number with thousands of digits, or arrays nested deeper than any geometry.
        raise InvalidInput(
            "that is not valid GeoJSON: a number is too long or it is nested too deeply",
            field=field,
        ) from err
    if not isinstance(value, dict):
        raise InvalidInput("paste a GeoJSON Polygon object", field=field)
    return value


def _staff(principal: Principal) -> None:
    if principal.user.role not in REVIEWERS:
        raise Forbidden("only Doorstep admins verify agencies")


@router.get("/admin/agencies")
def admin_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Applications waiting for verification."""
    if principal is None:
        return _login(request)
    _staff(principal)
    rows = [
        {"agency": agency, "map": outline_svg(agency.jurisdiction)}
        for agency in agency_store.applications(db)
    ]
    return _page(request, principal, "agency_admin.html", {"rows": rows})


@router.post("/admin/agencies/{agency_id}/{decision}")
def admin_decide(
    request: Request, principal: OptionalPrincipal, db: DbDep, agency_id: str, decision: str
) -> Response:
    """Verify or reject an application."""
    if principal is None:
        return _login(request)
    _staff(principal)
    if decision not in ("verify", "reject"):
        raise InvalidInput("decide verify or reject", field="decision")
    agency_store.decide(db, agency_id, principal.user, verify=decision == "verify")
    return RedirectResponse("/admin/agencies", status_code=303)


# --- the agency dashboard ------------------------------------------------------------------------


def _dashboard(
    request: Request,
    principal: Principal,
    db: Session,
    k: int,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    agency = agency_store.agency_of(db, principal.user)
    rfas = agencies.agency_rfas(db, agency)
    counts = agencies.rfa_counts(db, [rfa.id for rfa in rfas])
    member = agency_store.membership(db, principal.user)
    camera_map = camera_map_of(db, agency, k)
    context = {
        "agency": agency,
        "is_admin": member is not None and member.role == MemberRole.ADMIN.value,
        "members": agency_store.members(db, agency),
        "invitations": invitations.pending_for_agency(db, agency),
        "requests": [rfa_public(rfa, counts[rfa.id], k) for rfa in rfas],
        "map": camera_map_svg(agency, {c.cell: c.count for c in camera_map.cells}, rfas),
        "k": k,
        "form": {},
        **extra,
    }
    return _page(request, principal, "agency_dashboard.html", context, status=status)


@router.get("/agency")
def dashboard(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep
) -> Response:
    """The agency's camera map, its requests with counts, and the request form."""
    if principal is None:
        return _login(request)
    return _dashboard(request, principal, db, state.settings.camera_map_k)


def _window(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise InvalidInput("use a date and time like 2026-11-23T14:30", field=field) from err
    # The form asks for UTC; a value that names its zone keeps it.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _draft(form: dict[str, str]) -> RfaDraft:
    geometry = _json(form["polygon"], "polygon") if form["polygon"].strip() else None
    centre = parse_coordinates(form["centre"]) if form["centre"].strip() else None
    radius = None
    if form["radius_m"].strip():
        try:
            radius = float(form["radius_m"])
        except ValueError as err:
            raise InvalidInput("the radius is a number of metres", field="radius_m") from err
    return RfaDraft(
        case_number=form["case_number"],
        incident_type=form["incident_type"],
        description=form["description"],
        area=rfa_api.draft_area(centre, radius, geometry),
        start=_window(form["window_start"], "window_start"),
        end=_window(form["window_end"], "window_end"),
    )


@router.post("/agency/requests")
def post_request(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    case_number: Short,
    incident_type: Short,
    description: Text,
    window_start: Short,
    window_end: Short,
    centre: Short = "",
    radius_m: Short = "",
    polygon: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    """Send a request; a refusal is shown in the form with its reason."""
    if principal is None:
        return _login(request)
    form = {
        "case_number": case_number,
        "incident_type": incident_type,
        "description": description,
        "window_start": window_start,
        "window_end": window_end,
        "centre": centre,
        "radius_m": radius_m,
        "polygon": polygon,
    }
    try:
        with db.begin_nested():
            rfa = rfa_api.post_request(db, state, principal.user, _draft(form))
    except DoorstepError as err:
        if isinstance(err, Forbidden):
            raise
        k = state.settings.camera_map_k
        return _dashboard(request, principal, db, k, status=err.status, error=err, form=form)
    return RedirectResponse(f"/rfa/{rfa.id}", status_code=303)


@router.post("/agency/requests/{rfa_id}/close")
def close_request(
    request: Request, principal: OptionalPrincipal, db: DbDep, rfa_id: str
) -> Response:
    """Close a request early."""
    if principal is None:
        return _login(request)
    rfa_api.close_request(db, principal.user, rfa_id)
    return RedirectResponse("/agency", status_code=303)


@router.post("/agency/members")
def invite(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, email: Short
) -> Response:
    """Invite someone to the agency; they join only if they accept (the same answer either way)."""
    if principal is None:
        return _login(request)
    agency = agency_store.agency_of(db, principal.user, admin=True)
    k = state.settings.camera_map_k
    try:
        with db.begin_nested():
            sent = invitations.invite_to_agency(db, agency, principal.user, email)
    except DoorstepError as err:
        if isinstance(err, Forbidden):
            raise
        return _dashboard(request, principal, db, k, status=err.status, invite_error=err)
    # The code is shown on this answer only (never stored, never in a URL): no redirect.
    return _dashboard(
        request, principal, db, k, invited_email=sent.invitation.email, invited_code=sent.code
    )


@router.get("/agency/evidence")
def evidence_locker(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Shared clips the agency may view and download; every access is recorded."""
    if principal is None:
        return _login(request)
    agency = agency_store.agency_of(db, principal.user)
    # Withdrawn shares (the owner deleted the footage) stay listed, without anything to open.
    items = [rfa_api.evidence_public(share) for share in rfa_api.evidence_shares(db, agency)]
    return _page(request, principal, "agency_evidence.html", {"agency": agency, "items": items})


# --- owners --------------------------------------------------------------------------------------


@router.get("/requests")
def inbox(request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep) -> Response:
    """Requests that reached the owner's cameras."""
    if principal is None:
        return _login(request)
    items = rfa_api.inbox(principal.user, db, state)
    return _page(request, principal, "requests.html", {"items": items})


def _request_page(
    request: Request,
    principal: Principal,
    db: Session,
    rfa_id: str,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    state: AppState = request.app.state.doorstep
    item = rfa_api.inbox_request(db, principal.user, rfa_id, state.settings.camera_map_k)
    rfa = agencies.get_rfa(db, rfa_id)
    context = {
        "item": item,
        "map": outline_svg(rfa.agency.jurisdiction, rfa.area),
        **extra,
    }
    return _page(request, principal, "requests_detail.html", context, status=status)


@router.get("/requests/{rfa_id}")
def request_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, rfa_id: str
) -> Response:
    """One request: the owner's clips in its area and window, previews, share or decline."""
    if principal is None:
        return _login(request)
    return _request_page(request, principal, db, rfa_id)


@router.post("/requests/{rfa_id}/answer")
def answer(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    rfa_id: str,
    decision: Annotated[str, Form(pattern="^(share|decline)$")],
    clip_ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    identity: Annotated[str, Form(pattern="^(anonymous|named)$")] = "anonymous",
) -> Response:
    """Share the chosen clips (redacted) or decline."""
    if principal is None:
        return _login(request)
    try:
        with db.begin_nested():
            rfa_api.answer_request(
                db,
                state,
                principal.user,
                rfa_id,
                share=decision == "share",
                clip_ids=clip_ids,
                anonymous=identity == "anonymous",
            )
    except DoorstepError as err:
        if err.status >= 500:
            raise
        return _request_page(request, principal, db, rfa_id, status=err.status, error=err)
    return RedirectResponse(f"/requests/{rfa_id}?answered=1", status_code=303)


@router.get("/disclosures")
def disclosures(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Everything the owner shared, and every view and download of it."""
    if principal is None:
        return _login(request)
    shares = rfa_api.disclosures(principal.user, db)
    return _page(request, principal, "disclosures.html", {"shares": shares})


@router.post("/disclosures/{share_id}/revoke")
def revoke(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, share_id: str
) -> Response:
    """Withdraw a share the agency has not downloaded."""
    if principal is None:
        return _login(request)
    rfa_api.revoke_share(db, state, principal.user, share_id)
    return RedirectResponse("/disclosures", status_code=303)
