"""Invitations page: the invitations waiting for the signed-in person, to accept or decline.

Accepting takes the one-time code the inviter handed over; a wrong one is refused and counted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.errors import Conflict, DoorstepError, InvalidInput
from doorstep.invitations import service as invitations
from doorstep.invitations.rules import INVITATION_LIFETIME, MAX_CODE_TRIES
from doorstep.invitations.schemas import MAX_CODE_LENGTH
from doorstep.platform.http.deps import DbDep
from doorstep.platform.http.render import login_redirect, render

router = APIRouter(include_in_schema=False)

Code = Annotated[str, Form(max_length=MAX_CODE_LENGTH)]


@router.get("/invitations")
def invitations_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Who invites the caller to what; nothing happens until they accept."""
    if principal is None:
        return login_redirect(request)
    return _page(request, principal, db)


def _page(
    request: Request,
    principal: Principal,
    db: DbDep,
    *,
    status: int = 200,
    error: DoorstepError | None = None,
    error_for: str = "",
) -> Response:
    request.state.principal = principal
    rows = invitations.for_you(db, principal.user)
    context = {
        "invitations": rows,
        "lifetime_days": INVITATION_LIFETIME.days,
        "max_tries": MAX_CODE_TRIES,
        "answered": request.query_params.get("answered", ""),
        "error": error,
        "error_for": error_for,
    }
    return render(request, "invitations.html", context, status=status)


@router.post("/invitations/{invitation_id}/accept")
def accept(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    invitation_id: str,
    code: Code = "",
) -> Response:
    """Accept an invitation with its code: only now does the caller join."""
    if principal is None:
        return login_redirect(request)
    try:
        invitations.accept(db, principal.user, invitation_id, code)
    except (InvalidInput, Conflict) as err:
        # A wrong code (counted already) or a closed invitation: say so beside the form.
        return _page(request, principal, db, status=err.status, error=err, error_for=invitation_id)
    return RedirectResponse("/invitations?answered=accepted", status_code=303)


@router.post("/invitations/{invitation_id}/decline")
def decline(
    request: Request, principal: OptionalPrincipal, db: DbDep, invitation_id: str
) -> Response:
    """Decline an invitation; nothing changes."""
    if principal is None:
        return login_redirect(request)
    invitations.decline(db, principal.user, invitation_id)
    return RedirectResponse("/invitations?answered=declined", status_code=303)
