"""Agency pages: the public directory and pages, applying, verification, the agency dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.accounts.roles import REVIEWERS
from doorstep.agencies import service
from doorstep.errors import DoorstepError, Forbidden, InvalidInput, PayloadTooLarge
from doorstep.geo.geojson_text import MAX_GEOJSON_FILE_BYTES, geojson_from_file, geojson_from_text
from doorstep.geo.svg import outline_svg
from doorstep.maps import service as maps
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.render import login_redirect, render_for
from doorstep.requests.rules import MAX_AREA_SQ_MI, MIN_AREA_SQ_MI
from doorstep.requests.rules_policy import LEVEL_LABELS, OFFENCE_CATEGORIES, REQUESTING_LEVELS

router = APIRouter(include_in_schema=False)

Short = Annotated[str, Form(max_length=200)]


# --- public pages --------------------------------------------------------------------------------


@router.get("/agencies")
def directory(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep
) -> Response:
    """Every verified agency with its jurisdiction, requests and statistics (no login)."""
    k = state.settings.camera_map_k
    rows = [
        {"agency": service.agency_public(db, agency, k), "map": outline_svg(agency.jurisdiction)}
        for agency in service.verified_agencies(db)
    ]
    context = {"rows": rows, "k": k, "base_map": maps.base_map(state.settings)}
    return render_for(request, principal, "agency_directory.html", context)


@router.get("/agencies/apply")
def apply_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Apply for an agency, or see where the application stands."""
    return apply_form(request, principal, db)


@router.get("/agencies/{agency_id}")
def agency_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, agency_id: str
) -> Response:
    """One agency's public page: jurisdiction, every request, statistics."""
    agency = service.public_agency(db, agency_id)
    k = state.settings.camera_map_k
    context = {
        "agency": service.agency_public(db, agency, k),
        "map": outline_svg(agency.jurisdiction),
        "base_map": maps.base_map(state.settings),
    }
    return render_for(request, principal, "agency_public.html", context)


# --- applying and verifying ----------------------------------------------------------------------


def apply_form(
    request: Request,
    principal: Principal | None,
    db: DbDep,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The application form, or where the caller's application stands."""
    if principal is None:
        return login_redirect(request)
    member = service.membership(db, principal.user)
    context = {
        "member": member,
        "form": {},
        "max_file_bytes": MAX_GEOJSON_FILE_BYTES,
        "levels": LEVEL_LABELS,
        "base_map": maps.base_map(request.app.state.doorstep.settings),
        **extra,
    }
    return render_for(request, principal, "agency_apply.html", context, status=status)


@router.post("/agencies/apply")
def apply(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    name: Short,
    kind: Short,
    contact: Short,
    level: Short = "local",
    jurisdiction: Annotated[str, Form(max_length=MAX_GEOJSON_FILE_BYTES)] = "",
    jurisdiction_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Apply for an agency; the jurisdiction pasted or drawn as GeoJSON, or uploaded as a file."""
    if principal is None:
        return login_redirect(request)
    form = {
        "name": name,
        "kind": kind,
        "level": level,
        "contact": contact,
        "jurisdiction": jurisdiction,
    }
    try:
        geometry = _jurisdiction(jurisdiction, jurisdiction_file)
        with db.begin_nested():
            service.apply(
                db,
                principal.user,
                name=name,
                kind=kind,
                jurisdiction=geometry,
                contact=contact,
                cell_resolution=state.settings.public_cell_resolution,
                level=level,
            )
    except DoorstepError as err:
        return apply_form(request, principal, db, status=err.status, error=err, form=form)
    return RedirectResponse("/agencies/apply", status_code=303)


def _jurisdiction(text: str, upload: UploadFile | None) -> dict[str, Any]:
    """The file when one was chosen (read no further than the limit), else the text field."""
    if upload is not None and upload.filename:
        data = upload.file.read(MAX_GEOJSON_FILE_BYTES + 1)
        if len(data) > MAX_GEOJSON_FILE_BYTES:
            raise PayloadTooLarge(
                f"the file is over {MAX_GEOJSON_FILE_BYTES // 1000} kB: simplify the outline",
                field="jurisdiction_file",
            )
        if data.strip():
            return geojson_from_file(data, "jurisdiction_file")
    if not text.strip():
        raise InvalidInput(
            "draw the jurisdiction, paste it, or choose a GeoJSON file", field="jurisdiction"
        )
    return geojson_from_text(text, "jurisdiction")


def _staff(principal: Principal) -> None:
    if principal.user.role not in REVIEWERS:
        raise Forbidden("only Doorstep admins verify agencies")


@router.get("/admin/agencies")
def admin_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Applications waiting for verification."""
    if principal is None:
        return login_redirect(request)
    _staff(principal)
    rows = [
        {"agency": agency, "map": outline_svg(agency.jurisdiction)}
        for agency in service.applications(db)
    ]
    context = {
        "rows": rows,
        "levels": LEVEL_LABELS,
        "requesting": REQUESTING_LEVELS,
        "base_map": maps.base_map(request.app.state.doorstep.settings),
    }
    return render_for(request, principal, "agency_admin.html", context)


@router.post("/admin/agencies/{agency_id}/{decision}")
def admin_decide(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    agency_id: str,
    decision: str,
    level: Short = "",
) -> Response:
    """Verify or reject an application."""
    if principal is None:
        return login_redirect(request)
    _staff(principal)
    if decision not in ("verify", "reject"):
        raise InvalidInput("decide verify or reject", field="decision")
    verify = decision == "verify"
    service.decide(db, agency_id, principal.user, verify=verify, level=level or None)
    return RedirectResponse("/admin/agencies", status_code=303)


# --- the agency dashboard ------------------------------------------------------------------------


def dashboard_page(
    request: Request,
    principal: Principal,
    db: DbDep,
    k: int,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The agency dashboard, with whatever a form just answered (``extra``)."""
    context = {
        **service.dashboard(db, principal.user, k),
        "form": {},
        "area_limits": (MIN_AREA_SQ_MI, MAX_AREA_SQ_MI),
        "offence_categories": OFFENCE_CATEGORIES,
        "base_map": maps.base_map(request.app.state.doorstep.settings),
        **extra,
    }
    return render_for(request, principal, "agency_dashboard.html", context, status=status)


@router.get("/agency")
def dashboard(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep
) -> Response:
    """The agency's camera map, its requests with counts, and the request form."""
    if principal is None:
        return login_redirect(request)
    return dashboard_page(request, principal, db, state.settings.camera_map_k)


@router.post("/agency/members")
def invite(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, email: Short
) -> Response:
    """Invite someone to the agency; they join only if they accept (the same answer either way)."""
    if principal is None:
        return login_redirect(request)
    agency = service.agency_of(db, principal.user, admin=True)
    k = state.settings.camera_map_k
    try:
        with db.begin_nested():
            sent = service.invite(db, agency, principal.user, email)
    except DoorstepError as err:
        if isinstance(err, Forbidden):
            raise
        return dashboard_page(request, principal, db, k, status=err.status, invite_error=err)
    # The code is shown on this answer only (never stored, never in a URL): no redirect.
    return dashboard_page(
        request, principal, db, k, invited_email=sent.invitation.email, invited_code=sent.code
    )
