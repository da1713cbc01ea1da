"""Legal pages: the reviewer console, the agency's emergency desk and the owner's history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.accounts.models import User
from doorstep.accounts.roles import REVIEWERS
from doorstep.errors import DoorstepError, Forbidden, InvalidInput
from doorstep.legal import service, service_locker
from doorstep.legal.rules import EmergencyCategory
from doorstep.legal.schemas import REASON_MAX, DemandCreate, EmergencyCreate
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.render import login_redirect, render_for
from doorstep.platform.http.times import local_instant

router = APIRouter(include_in_schema=False)

Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=20_000)]


def _reviewer(principal: Principal) -> User:
    if principal.user.role not in REVIEWERS:
        raise Forbidden("only Doorstep reviewers may open the review console")
    reviewer: User = principal.user
    return reviewer


def _when(text: str, field: str, time_zone: str) -> datetime | None:
    return local_instant(text, time_zone, field)


def _ids(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _category(text: str) -> EmergencyCategory:
    try:
        return EmergencyCategory(text)
    except ValueError as err:
        raise InvalidInput("choose the kind of emergency from the list", field="category") from err


# --- the reviewer console ------------------------------------------------------------------------


def _console(
    request: Request, principal: Principal, db: DbDep, *, status: int = 200, **extra: Any
) -> Response:
    _reviewer(principal)
    context = {
        **service.console(db),
        "me": principal.user.id,
        "form": {},
        **extra,
    }
    return render_for(request, principal, "review.html", context, status=status)


@router.get("/review")
def console(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Record demands, disclose within their scope, and decide emergency requests."""
    if principal is None:
        return login_redirect(request)
    return _console(request, principal, db)


@router.post("/review/demands")
def record_demand(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    kind: Short,
    agency_id: Short,
    court: Short,
    reference: Short,
    document_sha256: Short,
    account_email: Short,
    device_ids: Short = "",
    indoor_device_ids: Short = "",
    window_start: Short = "",
    window_end: Short = "",
    time_zone: Short = "UTC",
    allows_unredacted: Annotated[bool, Form()] = False,
) -> Response:
    """Record a demand from the console's form."""
    if principal is None:
        return login_redirect(request)
    reviewer = _reviewer(principal)
    form = {
        "kind": kind,
        "agency_id": agency_id,
        "court": court,
        "reference": reference,
        "document_sha256": document_sha256,
        "account_email": account_email,
        "device_ids": device_ids,
        "indoor_device_ids": indoor_device_ids,
        "window_start": window_start,
        "window_end": window_end,
    }
    try:
        with db.begin_nested():
            account_id = service.account_id_by_email(db, account_email)
            body = DemandCreate(
                kind=kind,
                agency_id=agency_id,
                court=court,
                reference=reference,
                document_sha256=document_sha256,
                account_id=account_id,
                device_ids=_ids(device_ids),
                window_start=_when(window_start, "window_start", time_zone),
                window_end=_when(window_end, "window_end", time_zone),
                covers_footage=kind != "subpoena",
                allows_unredacted=allows_unredacted,
                indoor_device_ids=_ids(indoor_device_ids),
            )
            service.record_demand(db, state, reviewer, body)
    except (DoorstepError, ValueError) as err:
        problem = err if isinstance(err, DoorstepError) else InvalidInput(str(err), field="kind")
        status = problem.status if problem.status < 500 else 422
        return _console(request, principal, db, status=status, error=problem, form=form)
    return RedirectResponse("/review", status_code=303)


def _act(request: Request, principal: Principal | None, db: DbDep, action: Any) -> Response:
    if principal is None:
        return login_redirect(request)
    reviewer = _reviewer(principal)
    try:
        with db.begin_nested():
            action(reviewer)
    except DoorstepError as err:
        if err.status >= 500:
            raise
        return _console(request, principal, db, status=err.status, error=err)
    return RedirectResponse("/review", status_code=303)


@router.post("/review/demands/{demand_id}/disclose")
def disclose(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    demand_id: str,
    unredacted: Annotated[bool, Form()] = False,
) -> Response:
    """Disclose every clip inside the demand's scope."""
    return _act(
        request,
        principal,
        db,
        lambda user: service.disclose_footage(
            db, state, user, demand_id, [], unredacted=unredacted
        ),
    )


@router.post("/review/demands/{demand_id}/account")
def disclose_account(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, demand_id: str
) -> Response:
    """Disclose the named account's information."""
    return _act(
        request,
        principal,
        db,
        lambda user: service.disclose_account(db, state, user, demand_id),
    )


@router.post("/review/demands/{demand_id}/order")
def record_order(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    demand_id: str,
    ends_at: Short = "",
    time_zone: Short = "UTC",
) -> Response:
    """Record a non-disclosure order with its end date."""
    return _act(
        request,
        principal,
        db,
        lambda user: service.record_order(
            db, state, user, demand_id, _when(ends_at, "ends_at", time_zone)
        ),
    )


@router.post("/review/demands/{demand_id}/close")
def close_demand(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    demand_id: str,
    outcome: Short,
) -> Response:
    """Close a demand with its outcome."""
    return _act(
        request,
        principal,
        db,
        lambda user: service.close_demand(db, state, user, demand_id, outcome),
    )


@router.post("/review/emergencies/{request_id}/approve")
def approve(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, request_id: str
) -> Response:
    """Approve an emergency request."""
    return _act(
        request,
        principal,
        db,
        lambda user: service.approve_emergency(db, state, user, request_id),
    )


@router.post("/review/emergencies/{request_id}/refuse")
def refuse(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    request_id: str,
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
) -> Response:
    """Refuse an emergency request with a reason."""
    return _act(
        request,
        principal,
        db,
        lambda user: service.refuse_emergency(db, state, user, request_id, reason),
    )


# --- agencies: emergencies --------------------------------------------------------


def _agency_page(
    request: Request, principal: Principal, db: DbDep, *, status: int = 200, **extra: Any
) -> Response:
    categories = [category.value for category in EmergencyCategory]
    context = {
        **service.agency_desk(db, principal.user),
        "form": {},
        "emergency_categories": categories,
        **extra,
    }
    return render_for(request, principal, "emergency.html", context, status=status)


@router.get("/agency/legal")
def agency_legal(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """The agency's emergency requests, what it received, and its partnership programmes."""
    if principal is None:
        return login_redirect(request)
    return _agency_page(request, principal, db)


@router.post("/agency/emergencies")
def file_emergency(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    case_number: Short,
    device_ids: Short,
    window_start: Short,
    window_end: Short,
    attestation: Text,
    time_zone: Short = "UTC",
    category: Short = "other",
) -> Response:
    """File an emergency request."""
    if principal is None:
        return login_redirect(request)
    form = {
        "case_number": case_number,
        "device_ids": device_ids,
        "window_start": window_start,
        "window_end": window_end,
        "attestation": attestation,
        "category": category,
    }
    try:
        with db.begin_nested():
            start = _when(window_start, "window_start", time_zone)
            end = _when(window_end, "window_end", time_zone)
            if start is None or end is None:
                raise InvalidInput("give the window's start and end", field="window_start")
            body = EmergencyCreate(
                case_number=case_number,
                device_ids=_ids(device_ids) or [""],
                window_start=start,
                window_end=end,
                attestation=attestation,
                category=_category(category),
            )
            service.file_emergency(db, state, principal.user, body)
    except DoorstepError as err:
        if err.status >= 500:
            raise
        return _agency_page(request, principal, db, status=err.status, error=err, form=form)
    return RedirectResponse("/agency/legal", status_code=303)


@router.post("/agency/emergencies/{request_id}/over")
def end_emergency(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, request_id: str
) -> Response:
    """Mark an emergency over, so owners are told."""
    if principal is None:
        return login_redirect(request)
    service.end_emergency(db, state, principal.user, request_id)
    return RedirectResponse("/agency/legal", status_code=303)


# --- owners --------------------------------------------------------------------------------------


@router.get("/disclosures/legal")
def owner_history(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Every disclosure of the owner's footage or account under legal process or an emergency."""
    if principal is None:
        return login_redirect(request)
    items = service_locker.owner_disclosures(db, principal.user)
    return render_for(request, principal, "legal_disclosures.html", {"items": items})
