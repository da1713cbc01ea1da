"""Lost-pet pages: post a notice on the map, see notices near one's cameras, share or withdraw."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.errors import DoorstepError
from doorstep.maps import service as maps
from doorstep.neighbors.rules import MAX_PHOTO_BYTES
from doorstep.pets import service
from doorstep.pets.rules import MAX_AREA_SQ_MI, NoticeDraft, Species
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.middleware import body_limit
from doorstep.platform.http.render import login_redirect, render_for
from doorstep.platform.http.times import required_instant
from doorstep.requests.rules import form_area

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]


def _list(
    request: Request, principal: Principal, db: DbDep, *, status: int = 200, **extra: Any
) -> Response:
    mine, near = service.list_notices(db, principal.user)
    context = {
        "mine": mine,
        "near": near,
        "species": [s.value for s in Species],
        "form": {},
        "map": {"outline": [], "cells": []},
        "max_sq_mi": MAX_AREA_SQ_MI,
        "base_map": maps.base_map(request.app.state.doorstep.settings),
        **extra,
    }
    return render_for(request, principal, "pets/notices.html", context, status=status)


@router.get("/pets")
def notices_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """One's lost-pet notices, the form for a new one, and open notices near one's cameras."""
    if principal is None:
        return login_redirect(request)
    return _list(request, principal, db)


def _draft(form: dict[str, str]) -> NoticeDraft:
    return NoticeDraft(
        species=form["species"],
        name=form["name"],
        description=form["description"],
        area=form_area(form["polygon"], form["centre"], form["radius_m"]),
        start=required_instant(form["window_start"], form["time_zone"], "window_start"),
        end=required_instant(form["window_end"], form["time_zone"], "window_end"),
    )


@router.post("/pets", openapi_extra=body_limit(MAX_PHOTO_BYTES + 256 * 1024))
async def post_notice(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    species: Short,
    description: Text,
    window_start: Short,
    window_end: Short,
    name: Short = "",
    centre: Short = "",
    radius_m: Short = "",
    polygon: Annotated[str, Form(max_length=100_000)] = "",
    time_zone: Short = "UTC",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Post a notice; a refusal comes back in the form with its reason."""
    if principal is None:
        return login_redirect(request)
    form = {
        "species": species,
        "name": name,
        "description": description,
        "window_start": window_start,
        "window_end": window_end,
        "centre": centre,
        "radius_m": radius_m,
        "polygon": polygon,
        "time_zone": time_zone,
    }
    try:
        data = None
        if photo is not None and photo.filename:
            data = await photo.read(MAX_PHOTO_BYTES + 1)
        notice = await run_in_threadpool(
            lambda: service.post_notice(
                db,
                state.blobs,
                principal.user,
                _draft(form),
                cell_resolution=state.settings.public_cell_resolution,
                photo=data,
            )
        )
    except DoorstepError as err:
        if err.status >= 500:
            raise
        db.rollback()
        return _list(request, principal, db, status=err.status, error=err, form=form)
    return RedirectResponse(f"/pets/{notice.id}", status_code=303)


@router.get("/pets/{notice_id}")
def notice_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, notice_id: str
) -> Response:
    """A notice: its poster sees what was shared; an owner, only their own animal clips."""
    if principal is None:
        return login_redirect(request)
    notice = service.get_notice(db, principal.user, notice_id)
    return render_for(request, principal, "pets/notice.html", {"notice": notice})


@router.post("/pets/{notice_id}/close")
def close_notice(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, notice_id: str
) -> Response:
    """Close one's notice: every copy shared with it is shredded."""
    if principal is None:
        return login_redirect(request)
    service.close_notice(db, state.keys, principal.user, notice_id)
    return RedirectResponse(f"/pets/{notice_id}", status_code=303)


@router.post("/pets/{notice_id}/shares")
def share_clip(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    notice_id: str,
    clip_id: Annotated[str, Form(max_length=32)],
) -> Response:
    """Share one of one's own animal clips with the notice (faces redacted)."""
    if principal is None:
        return login_redirect(request)
    service.share_clip(db, state.keys, principal.user, notice_id, clip_id)
    return RedirectResponse(f"/pets/{notice_id}?shared=1", status_code=303)


@router.post("/pets/{notice_id}/shares/{share_id}/withdraw")
def withdraw_share(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    notice_id: str,
    share_id: str,
) -> Response:
    """Withdraw one's share: its copy is shredded."""
    if principal is None:
        return login_redirect(request)
    service.withdraw_share(db, state.keys, principal.user, notice_id, share_id)
    return RedirectResponse(f"/pets/{notice_id}", status_code=303)
