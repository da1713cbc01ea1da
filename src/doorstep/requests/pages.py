"""Request pages: a request's public page, sending and closing one, the locker, owners' inbox."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.agencies import service as agencies
from doorstep.bystanders import service as bystanders
from doorstep.errors import DoorstepError, Forbidden
from doorstep.geo.svg import areas_geo, outline_svg
from doorstep.maps import service as maps
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.render import login_redirect, render_for
from doorstep.platform.http.state import AppState
from doorstep.platform.http.times import required_instant
from doorstep.requests import service
from doorstep.requests.rules import (
    MAX_AREA_SQ_MI,
    MIN_AREA_SQ_MI,
    OFFENCE_CATEGORIES,
    RfaDraft,
    form_area,
)
from doorstep.requests.rules_terms import ONWARD_USE_TERMS, TERMS_VERSION

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]


@router.get("/rfa/{rfa_id}")
def rfa_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, rfa_id: str
) -> Response:
    """A request's public page: who asked, what for, where and when, and the counts."""
    rfa = service.get_rfa(db, rfa_id)
    k = state.settings.camera_map_k
    context = {
        "rfa": service.public_request(db, rfa, k),
        "k": k,
        "map": outline_svg(rfa.agency.jurisdiction, rfa.area),
        "base_map": maps.base_map(state.settings),
    }
    return render_for(request, principal, "rfa.html", context)


# --- the agency's side ---------------------------------------------------------------------------


def _dashboard(
    request: Request,
    principal: Principal,
    db: DbDep,
    k: int,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    context = {
        **agencies.dashboard(db, principal.user, k),
        "form": {},
        "area_limits": (MIN_AREA_SQ_MI, MAX_AREA_SQ_MI),
        "offence_categories": OFFENCE_CATEGORIES,
        "base_map": maps.base_map(request.app.state.doorstep.settings),
        **extra,
    }
    return render_for(request, principal, "agency_dashboard.html", context, status=status)


def _draft(form: dict[str, str]) -> RfaDraft:
    return RfaDraft(
        case_number=form["case_number"],
        incident_type=form["incident_type"],
        description=form["description"],
        area=form_area(form["polygon"], form["centre"], form["radius_m"]),
        start=required_instant(form["window_start"], form["time_zone"], "window_start"),
        end=required_instant(form["window_end"], form["time_zone"], "window_end"),
        offence_category=form["offence_category"],
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
    offence_category: Short = "",
    centre: Short = "",
    radius_m: Short = "",
    polygon: Annotated[str, Form(max_length=100_000)] = "",
    time_zone: Short = "UTC",
) -> Response:
    """Send a request; a refusal is shown in the form with its reason."""
    if principal is None:
        return login_redirect(request)
    form = {
        "case_number": case_number,
        "incident_type": incident_type,
        "offence_category": offence_category,
        "description": description,
        "window_start": window_start,
        "window_end": window_end,
        "centre": centre,
        "radius_m": radius_m,
        "polygon": polygon,
        "time_zone": time_zone,
    }
    try:
        with db.begin_nested():
            rfa = service.post_request(db, state, principal.user, _draft(form))
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
        return login_redirect(request)
    service.close_request(db, principal.user, rfa_id)
    return RedirectResponse("/agency", status_code=303)


@router.get("/agency/evidence")
def evidence_locker(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Shared clips the agency may view and download; every access is recorded."""
    if principal is None:
        return login_redirect(request)
    # Withdrawn shares (the owner deleted the footage) stay listed, without anything to open.
    agency, items = service.locker(db, principal.user)
    return render_for(
        request, principal, "agency_evidence.html", {"agency": agency, "items": items}
    )


# --- owners --------------------------------------------------------------------------------------


@router.get("/requests")
def inbox(request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep) -> Response:
    """Requests that reached the owner's cameras."""
    if principal is None:
        return login_redirect(request)
    items = service.inbox(db, principal.user, state.settings.camera_map_k)
    # The requests' areas are public (each has its own page); the inbox draws them together.
    areas = [(f"{i.request.agency_name}: {i.request.incident_type}", i.request.area) for i in items]
    context = {
        "items": items,
        "map_geo": areas_geo(areas),
        "base_map": maps.base_map(state.settings),
        "bystanders_pending": bystanders.pending_count(db, principal.user),
    }
    return render_for(request, principal, "requests.html", context)


def _request_page(
    request: Request,
    principal: Principal,
    db: DbDep,
    rfa_id: str,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    state: AppState = request.app.state.doorstep
    item = service.inbox_request(db, principal.user, rfa_id, state.settings.camera_map_k)
    rfa = service.get_rfa(db, rfa_id)
    context = {
        "item": item,
        "map": outline_svg(rfa.agency.jurisdiction, rfa.area),
        "base_map": maps.base_map(state.settings),
        "terms": ONWARD_USE_TERMS,
        "terms_version": TERMS_VERSION,
        **extra,
    }
    return render_for(request, principal, "requests_detail.html", context, status=status)


@router.get("/requests/{rfa_id}")
def request_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, rfa_id: str
) -> Response:
    """One request: the owner's clips in its area and window, previews, share or decline."""
    if principal is None:
        return login_redirect(request)
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
        return login_redirect(request)
    try:
        with db.begin_nested():
            service.answer_request(
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


@router.get("/request-policy")
def request_policy(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Public: which agencies may ask, the offence categories with their counts, the terms."""
    return render_for(request, principal, "request_policy.html", service.request_policy(db))


@router.get("/disclosures")
def disclosures(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Everything the owner shared, and every view and download of it."""
    if principal is None:
        return login_redirect(request)
    shares = service.disclosures(db, principal.user)
    return render_for(request, principal, "disclosures.html", {"shares": shares})


@router.post("/disclosures/{share_id}/revoke")
def revoke(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, share_id: str
) -> Response:
    """Withdraw a share the agency has not downloaded."""
    if principal is None:
        return login_redirect(request)
    service.revoke_share(db, state, principal.user, share_id)
    return RedirectResponse("/disclosures", status_code=303)
