"""Accountability pages: reviewer console, emergency form, partnerships, transparency, audit log."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import REVIEWERS
from doorstep.agencies import service as agencies
from doorstep.agencies.models import MemberRole
from doorstep.errors import DoorstepError, Forbidden, InvalidInput, NotFound
from doorstep.legal import api as legal_api
from doorstep.legal import store as legal
from doorstep.partnerships import api as partnership_api
from doorstep.partnerships.rules import Condition, ProgrammeKind
from doorstep.platform.http.deps import DbDep, OptionalPrincipal, Principal, StateDep
from doorstep.platform.http.render import render
from doorstep.transparency import api as report_api
from doorstep.transparency import audit_store as audit
from doorstep.transparency.merkle import key_fingerprint

router = APIRouter(include_in_schema=False)

Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=20_000)]
CHART_WIDTH = 480
BAR_HEIGHT = 22
LATEST_ENTRIES = 25
_CHARTED = [
    ("rfas", "Requests for assistance"),
    ("owners_reached", "Owners reached"),
    ("warrants_received", "Warrants received"),
    ("subpoenas_received", "Subpoenas received"),
    ("court_orders_received", "Court orders received"),
    ("emergency_received", "Emergency requests received"),
    ("emergency_granted", "Emergency requests granted"),
    ("agencies_onboarded", "Agencies onboarded"),
]


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


def _reviewer(principal: Principal) -> User:
    if principal.user.role not in REVIEWERS:
        raise Forbidden("only Doorstep reviewers may open the review console")
    return principal.user


def _when(text: str, field: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise InvalidInput("give a date and time such as 2026-05-01T14:30Z", field=field) from err
    if value.tzinfo is None:
        raise InvalidInput("give the time zone too, such as Z for UTC", field=field)
    return value


def _ids(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


# --- the reviewer console ------------------------------------------------------------------------


def _console(
    request: Request, principal: Principal, db: Session, *, status: int = 200, **extra: Any
) -> Response:
    _reviewer(principal)
    context = {
        "demands": [legal_api.demand_public(db, d) for d in legal.demands(db)],
        "emergencies": [legal_api.emergency_public(db, e) for e in legal.emergencies(db)],
        "agencies": agencies.verified_agencies(db),
        "me": principal.user.id,
        "form": {},
        **extra,
    }
    return _page(request, principal, "review.html", context, status=status)


@router.get("/review")
def console(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Record demands, disclose within their scope, and decide emergency requests."""
    if principal is None:
        return _login(request)
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
    window_start: Short = "",
    window_end: Short = "",
    allows_unredacted: Annotated[bool, Form()] = False,
) -> Response:
    """Record a demand from the console's form."""
    if principal is None:
        return _login(request)
    reviewer = _reviewer(principal)
    form = {
        "kind": kind,
        "agency_id": agency_id,
        "court": court,
        "reference": reference,
        "document_sha256": document_sha256,
        "account_email": account_email,
        "device_ids": device_ids,
        "window_start": window_start,
        "window_end": window_end,
    }
    try:
        with db.begin_nested():
            account = db.scalar(select(User).where(User.email == account_email.strip().lower()))
            if account is None:
                raise NotFound("no account has that email", field="account_email")
            body = legal_api.DemandCreate(
                kind=kind,
                agency_id=agency_id,
                court=court,
                reference=reference,
                document_sha256=document_sha256,
                account_id=account.id,
                device_ids=_ids(device_ids),
                window_start=_when(window_start, "window_start"),
                window_end=_when(window_end, "window_end"),
                covers_footage=kind != "subpoena",
                allows_unredacted=allows_unredacted,
            )
            legal_api.record_demand(db, state, reviewer, body)
    except (DoorstepError, ValueError) as err:
        problem = err if isinstance(err, DoorstepError) else InvalidInput(str(err), field="kind")
        status = problem.status if problem.status < 500 else 422
        return _console(request, principal, db, status=status, error=problem, form=form)
    return RedirectResponse("/review", status_code=303)


def _act(request: Request, principal: Principal | None, db: Session, action: Any) -> Response:
    if principal is None:
        return _login(request)
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
        lambda user: legal_api.disclose_footage(
            db, state, user, legal.get_demand(db, demand_id), [], unredacted=unredacted
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
        lambda user: legal_api.disclose_account(db, state, user, legal.get_demand(db, demand_id)),
    )


@router.post("/review/demands/{demand_id}/order")
def record_order(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    demand_id: str,
    ends_at: Short = "",
) -> Response:
    """Record a non-disclosure order with its end date."""
    return _act(
        request,
        principal,
        db,
        lambda user: legal_api.record_order(db, state, user, demand_id, _when(ends_at, "ends_at")),
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
        lambda user: legal_api.close_demand(db, state, user, demand_id, outcome),
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
        lambda user: legal_api.approve_emergency(db, state, user, request_id),
    )


@router.post("/review/emergencies/{request_id}/refuse")
def refuse(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    request_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Refuse an emergency request with a reason."""
    return _act(
        request,
        principal,
        db,
        lambda user: legal_api.refuse_emergency(db, state, user, request_id, reason),
    )


# --- agencies: emergencies and partnerships ------------------------------------------------------


def _agency_page(
    request: Request, principal: Principal, db: Session, *, status: int = 200, **extra: Any
) -> Response:
    agency = agencies.agency_of(db, principal.user)
    member = agencies.membership(db, principal.user)
    context = {
        "agency": agency,
        "is_admin": member is not None and member.role == MemberRole.ADMIN.value,
        "emergencies": [
            legal_api.emergency_public(db, e) for e in legal.emergencies(db, agency.id)
        ],
        "received": [legal_api.disclosure_public(d) for d in legal.agency_disclosures(db, agency)],
        "partnerships": legal.all_partnerships(db, agency.id),
        "kinds": [k.value for k in ProgrammeKind],
        "conditions": [c.value for c in Condition],
        "form": {},
        **extra,
    }
    return _page(request, principal, "emergency.html", context, status=status)


@router.get("/agency/legal")
def agency_legal(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """The agency's emergency requests, what it received, and its partnership programmes."""
    if principal is None:
        return _login(request)
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
) -> Response:
    """File an emergency request."""
    if principal is None:
        return _login(request)
    form = {
        "case_number": case_number,
        "device_ids": device_ids,
        "window_start": window_start,
        "window_end": window_end,
        "attestation": attestation,
    }
    try:
        with db.begin_nested():
            start = _when(window_start, "window_start")
            end = _when(window_end, "window_end")
            if start is None or end is None:
                raise InvalidInput("give the window's start and end", field="window_start")
            body = legal_api.EmergencyCreate(
                case_number=case_number,
                device_ids=_ids(device_ids) or [""],
                window_start=start,
                window_end=end,
                attestation=attestation,
            )
            legal_api.file_emergency(db, state, principal.user, body)
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
        return _login(request)
    legal_api.end_emergency(db, state, principal.user, request_id)
    return RedirectResponse("/agency/legal", status_code=303)


@router.post("/agency/partnerships")
def publish_partnership(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    name: Short,
    kind: Short,
    terms_text: Text,
    conditions: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
) -> Response:
    """Publish a partnership programme, or show why it was refused."""
    if principal is None:
        return _login(request)
    form = {"name": name, "kind": kind, "terms_text": terms_text, "conditions": conditions}
    try:
        partnership_api.submit(
            db,
            state,
            principal.user,
            name=name,
            kind=kind,
            terms_text=terms_text,
            conditions=conditions,
        )
    except DoorstepError as err:
        if err.status >= 500:
            raise
        return _agency_page(
            request, principal, db, status=err.status, partnership_error=err, form=form
        )
    return RedirectResponse("/agency/legal", status_code=303)


@router.get("/agencies/{agency_id}/partnerships")
def partnerships_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, agency_id: str
) -> Response:
    """An agency's published partnership programmes with their full terms (no login)."""
    agency = agencies.public_agency(db, agency_id)
    context = {"agency": agency, "programmes": legal.published_partnerships(db, agency.id)}
    return _page(request, principal, "partnerships.html", context)


# --- owners --------------------------------------------------------------------------------------


@router.get("/disclosures/legal")
def owner_history(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Every disclosure of the owner's footage or account under legal process or an emergency."""
    if principal is None:
        return _login(request)
    items = [legal_api.owner_disclosure(db, d) for d in legal.owner_disclosures(db, principal.user)]
    return _page(request, principal, "legal_disclosures.html", {"items": items})


# --- the public report and log -------------------------------------------------------------------


def bar_chart(values: list[tuple[str, int]]) -> dict[str, Any]:
    """Horizontal bars drawn on the server, scaled to the largest value."""
    top = max((value for _, value in values), default=0) or 1
    label_width = 220
    span = CHART_WIDTH - label_width - 50
    bars = [
        {
            "label": label,
            "value": value,
            "y": index * BAR_HEIGHT,
            "text_y": index * BAR_HEIGHT + 15,
            "x": label_width,
            "width": round(span * value / top, 1),
            "value_x": label_width + round(span * value / top, 1) + 6,
        }
        for index, (label, value) in enumerate(values)
    ]
    return {"width": CHART_WIDTH, "height": BAR_HEIGHT * len(values), "bars": bars}


@router.get("/transparency")
def transparency(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep
) -> Response:
    """The transparency report: charts per half-year, a table per agency, CSV and JSON."""
    rows = report_api.report(db, state.settings.camera_map_k)
    names = report_api.agency_names(db)
    periods = [
        {
            "period": row.period,
            "counts": row,
            "chart": bar_chart([(label, int(getattr(row, name))) for name, label in _CHARTED]),
        }
        for row in rows
        if row.agency_id == "*"
    ]
    per_agency = [
        {"name": names.get(row.agency_id, row.agency_id), "counts": row}
        for row in rows
        if row.agency_id != "*"
    ]
    context = {"periods": periods, "per_agency": per_agency, "k": state.settings.camera_map_k}
    return _page(request, principal, "transparency.html", context)


@router.get("/audit")
def audit_log(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep
) -> Response:
    """The public audit log: the signed tree head, the latest entries and how to verify them."""
    head = legal.publish_head(db, state.master_key)
    size = audit.tree_head_size(db)
    latest = audit.entries(db, max(0, size - LATEST_ENTRIES), size)
    entries = [
        {"seq": e.seq, "body": json.loads(e.body), "leaf_hash": e.leaf_hash}
        for e in reversed(latest)
    ]
    public_key = audit.public_key(state.master_key)
    context = {
        "head": head,
        "entries": entries,
        "heads": legal.published_heads(db)[-10:],
        "base_url": str(request.base_url).rstrip("/"),
        "public_key": base64.b64encode(public_key).decode(),
        "fingerprint": key_fingerprint(public_key),
    }
    return _page(request, principal, "legal_audit.html", context)
