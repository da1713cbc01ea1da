"""Invitations page: the invitations waiting for the signed-in person, to accept or decline."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.api.deps import DbDep, OptionalPrincipal
from doorstep.api.routers.invitations import invitation_for_you
from doorstep.domain.invitations import INVITATION_LIFETIME
from doorstep.storage import invitations
from doorstep.web.render import render

router = APIRouter(include_in_schema=False)


def _login(request: Request) -> RedirectResponse:
    return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)


@router.get("/invitations")
def invitations_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Who invites the caller to what; nothing happens until they accept."""
    if principal is None:
        return _login(request)
    request.state.principal = principal
    rows = [invitation_for_you(row) for row in invitations.addressed_to(db, principal.user)]
    context = {
        "invitations": rows,
        "lifetime_days": INVITATION_LIFETIME.days,
        "answered": request.query_params.get("answered", ""),
    }
    return render(request, "invitations.html", context)


@router.post("/invitations/{invitation_id}/accept")
def accept(
    request: Request, principal: OptionalPrincipal, db: DbDep, invitation_id: str
) -> Response:
    """Accept an invitation: only now does the caller join."""
    if principal is None:
        return _login(request)
    invitations.accept(db, principal.user, invitation_id)
    return RedirectResponse("/invitations?answered=accepted", status_code=303)


@router.post("/invitations/{invitation_id}/decline")
def decline(
    request: Request, principal: OptionalPrincipal, db: DbDep, invitation_id: str
) -> Response:
    """Decline an invitation; nothing changes."""
    if principal is None:
        return _login(request)
    invitations.decline(db, principal.user, invitation_id)
    return RedirectResponse("/invitations?answered=declined", status_code=303)
