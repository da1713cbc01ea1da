"""Bystander pages: the public form and status link, and the owner's inbox of these requests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.accounts.throttling import client_address
from doorstep.bystanders import service
from doorstep.bystanders.rules import (
    DESCRIPTION_MAX_LENGTH,
    MAX_AREA_SQ_MI,
    BystanderDraft,
)
from doorstep.bystanders.schemas import MAX_CLIPS_PER_ANSWER, ClipChoice
from doorstep.errors import DoorstepError, InvalidInput
from doorstep.geo.svg import areas_geo
from doorstep.maps import service as maps
from doorstep.platform.http.deps import CsrfDep, DbDep, StateDep, check_anonymous_csrf
from doorstep.platform.http.render import login_redirect, render_for
from doorstep.platform.http.state import AppState
from doorstep.platform.http.times import required_instant
from doorstep.requests.rules import form_area

router = APIRouter(include_in_schema=False)

Short = Annotated[str, Form(max_length=200)]


def _form_page(
    request: Request,
    principal: Principal | None,
    state: AppState,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    context = {
        "form": {},
        "max_sq_mi": MAX_AREA_SQ_MI,
        "description_max": DESCRIPTION_MAX_LENGTH,
        "base_map": maps.base_map(state.settings),
        **extra,
    }
    return render_for(request, principal, "bystanders/ask.html", context, status=status)


@router.get("/bystanders")
def ask_page(request: Request, principal: OptionalPrincipal, state: StateDep) -> Response:
    """Ask owners nearby to blur or delete footage of you: no account, no name."""
    return _form_page(request, principal, state)


def _draft(form: dict[str, str]) -> BystanderDraft:
    return BystanderDraft(
        area=form_area(form["polygon"], form["centre"], form["radius_m"]),
        start=required_instant(form["window_start"], form["time_zone"], "window_start"),
        end=required_instant(form["window_end"], form["time_zone"], "window_end"),
        description=form["description"],
    )


@router.post("/bystanders")
def ask(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    csrf: CsrfDep,
    window_start: Short,
    window_end: Short,
    description: Annotated[str, Form(max_length=DESCRIPTION_MAX_LENGTH)] = "",
    centre: Short = "",
    radius_m: Short = "",
    polygon: Annotated[str, Form(max_length=100_000)] = "",
    time_zone: Short = "UTC",
) -> Response:
    """Send the request; a refusal is shown in the form, the status link on success."""
    if principal is None:
        check_anonymous_csrf(request, csrf)
    form = {
        "description": description,
        "window_start": window_start,
        "window_end": window_end,
        "centre": centre,
        "radius_m": radius_m,
        "polygon": polygon,
        "time_zone": time_zone,
    }
    try:
        service.admit(db, state, client_address(request))
        created = service.create_request(db, state, _draft(form))
    except DoorstepError as err:
        if err.status >= 500:
            raise
        return _form_page(request, principal, state, status=err.status, error=err, form=form)
    # See the status page, so that reloading it does not send the request again.
    return RedirectResponse(f"{created.status_url}?sent=1", status_code=303)


@router.get("/bystanders/status/{bystander_token}")
def status_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, bystander_token: str
) -> Response:
    """What the requester may see: the request and its counts, never who."""
    shown = service.status(db, bystander_token, state.settings.camera_map_k)
    context = {"status": shown, "map_geo": areas_geo([("Your request", shown.area)])}
    context["sent"] = request.query_params.get("sent") == "1"
    context["base_map"] = maps.base_map(state.settings)
    return render_for(request, principal, "bystanders/status.html", context)


# --- owners --------------------------------------------------------------------------------------


@router.get("/bystander-requests")
def inbox(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Bystander requests that reached the owner's cameras."""
    if principal is None:
        return login_redirect(request)
    items = service.inbox(db, principal.user)
    return render_for(request, principal, "bystanders/inbox.html", {"items": items})


def _detail(
    request: Request,
    principal: Principal,
    db: DbDep,
    bystander_id: str,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    state: AppState = request.app.state.doorstep
    item = service.inbox_request(db, principal.user, bystander_id)
    context = {
        "item": item,
        "map_geo": areas_geo([("The request's area", item.area)]),
        "base_map": maps.base_map(state.settings),
        **extra,
    }
    return render_for(request, principal, "bystanders/detail.html", context, status=status)


@router.get("/bystander-requests/{bystander_id}")
def detail(
    request: Request, principal: OptionalPrincipal, db: DbDep, bystander_id: str
) -> Response:
    """One request: the owner's clips in its window; delete or blur each, or decline."""
    if principal is None:
        return login_redirect(request)
    return _detail(request, principal, db, bystander_id)


@router.post("/bystander-requests/{bystander_id}/answer")
def answer(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    bystander_id: str,
    choice: Annotated[list[str], Form(max_length=MAX_CLIPS_PER_ANSWER)] = [],  # noqa: B006
) -> Response:
    """Apply the owner's choice per clip (``keep:<id>``, ``delete:<id>`` or ``blur:<id>``)."""
    if principal is None:
        return login_redirect(request)
    try:
        choices = _choices(choice)
        with db.begin_nested():
            service.answer(db, state, principal.user, bystander_id, choices)
    except DoorstepError as err:
        if err.status >= 500:
            raise
        return _detail(request, principal, db, bystander_id, status=err.status, error=err)
    return RedirectResponse(f"/bystander-requests/{bystander_id}?answered=1", status_code=303)


def _choices(values: list[str]) -> list[ClipChoice]:
    choices = []
    for value in values:
        action, _, clip_id = value.partition(":")
        if action == "keep":
            continue
        if action not in ("delete", "blur") or not clip_id or len(clip_id) > 32:
            raise InvalidInput("choose keep, delete or blur for each clip", field="choice")
        choices.append(
            ClipChoice(clip_id=clip_id, action="delete" if action == "delete" else "blur")
        )
    return choices
