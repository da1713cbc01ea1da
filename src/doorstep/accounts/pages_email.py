"""The email pages: forgot password, reset by link, verify by link, and the account's targets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts import service as accounts
from doorstep.accounts import service_email, service_targets
from doorstep.accounts._http import start_browser_session
from doorstep.accounts.auth import OptionalPrincipal
from doorstep.accounts.pages import account_view
from doorstep.accounts.rules import MAX_EMAIL, MAX_LENGTH, MAX_TARGET_URL, LinkState
from doorstep.errors import Conflict, DoorstepError, Forbidden, InvalidInput, NotFound
from doorstep.platform.http.deps import CsrfDep, DbDep, StateDep, check_anonymous_csrf
from doorstep.platform.http.render import render

router = APIRouter(include_in_schema=False)

#: What a refused link's page says, by why.
REFUSED = {
    LinkState.USED: "This link was used already. Each link works once.",
    LinkState.EXPIRED: "This link has expired.",
}
UNKNOWN_LINK = "This link is not one this Doorstep sent (or it was cut short by the mail program)."
#: Secrets are 43 URL-safe characters; anything much longer is not one.
MAX_SECRET = 100


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _forgot(request: Request, state: StateDep, status: int = 200, **extra: object) -> Response:
    request.state.principal = None
    context = {"form": {}, "email_on": service_email.email_on(state.settings), **extra}
    return render(request, "forgot.html", context, status=status)


@router.get("/forgot")
def forgot_page(request: Request, state: StateDep) -> Response:
    """Ask for a password reset link (or learn that this Doorstep sends no email)."""
    return _forgot(request, state)


@router.post("/forgot")
def forgot(
    request: Request,
    db: DbDep,
    state: StateDep,
    csrf: CsrfDep,
    email: Annotated[str, Form(max_length=MAX_EMAIL + 40)],
) -> Response:
    """Send a reset link if the email has an account; the answer is the same either way."""
    check_anonymous_csrf(request, csrf)
    try:
        service_email.forgot_password(db, request, state, email)
    except DoorstepError as err:
        if err.status >= 500:
            raise
        # Only the throttle refuses here, and it counts the caller's address, never the email.
        return _forgot(request, state, err.status, error=err, form={"email": email})
    return _forgot(request, state, sent=email.strip()[:MAX_EMAIL])


def _reset_page(request: Request, secret: str, status: int = 200, **extra: object) -> Response:
    request.state.principal = getattr(request.state, "principal", None)
    return render(request, "reset.html", {"secret": secret, **extra}, status=status)


@router.get("/reset/{secret}")
def reset_page(request: Request, principal: OptionalPrincipal, db: DbDep, secret: str) -> Response:
    """The new-password form of a reset link, or why the link does not work."""
    request.state.principal = principal
    try:
        state = service_email.reset_link_state(db, secret[:MAX_SECRET])
    except NotFound:
        return _reset_page(request, "", 404, refused=UNKNOWN_LINK)
    if state is not LinkState.GOOD:
        return _reset_page(request, "", 410, refused=REFUSED[state])
    # The form posts as a signed-out one does (the double-submit cookie), whoever is signed in.
    request.state.principal = None
    return _reset_page(request, secret)


@router.post("/reset/{secret}")
def reset(
    request: Request,
    db: DbDep,
    state: StateDep,
    csrf: CsrfDep,
    secret: str,
    new_password: Annotated[str, Form(max_length=MAX_LENGTH + 1)],
) -> Response:
    """Set the new password, once, and sign this browser in."""
    check_anonymous_csrf(request, csrf)
    try:
        signed_in = accounts.reset_password(db, request, state, secret[:MAX_SECRET], new_password)
    except NotFound:
        return _reset_page(request, "", 404, refused=UNKNOWN_LINK)
    except InvalidInput as err:
        if err.field == "link":
            return _reset_page(request, "", 410, refused=err.detail)
        return _reset_page(request, secret, err.status, error=err)
    response = _see_other("/account?reset=1")
    start_browser_session(response, state, signed_in)
    return response


@router.get("/verify/{secret}")
def verify_page(request: Request, principal: OptionalPrincipal, db: DbDep, secret: str) -> Response:
    """A verification link's page: its button confirms; a mail scanner opening it proves nothing."""
    request.state.principal = principal
    try:
        state = service_email.verification_link_state(db, secret[:MAX_SECRET])
    except NotFound:
        return render(request, "email_verified.html", {"refused": UNKNOWN_LINK}, status=404)
    if state is not LinkState.GOOD:
        return render(request, "email_verified.html", {"refused": REFUSED[state]}, status=410)
    return render(request, "email_verified.html", {"secret": secret[:MAX_SECRET], "ask": True})


@router.post("/verify/{secret}")
def verify(
    request: Request, principal: OptionalPrincipal, db: DbDep, csrf: CsrfDep, secret: str
) -> Response:
    """Confirm the address by its link's button: the address is proven, once.

    A signed-in browser's token was checked with its session; a signed-out one posts with the
    double-submit cookie (the link may be opened on another device than the account's).
    """
    if principal is None:
        check_anonymous_csrf(request, csrf)
    request.state.principal = principal
    try:
        state = service_email.follow_verification(db, secret[:MAX_SECRET])
    except NotFound:
        return render(request, "email_verified.html", {"refused": UNKNOWN_LINK}, status=404)
    if state is not LinkState.GOOD:
        return render(request, "email_verified.html", {"refused": REFUSED[state]}, status=410)
    return render(request, "email_verified.html", {})


@router.post("/account/email/verify")
def send_verification(principal: OptionalPrincipal, db: DbDep, state: StateDep) -> Response:
    """Send the confirmation link again."""
    if principal is None:
        return _see_other("/login")
    sent = service_email.send_verification(db, state, principal.user)
    return _see_other("/account?notice=" + ("link-sent" if sent else "link-not-sent"))


@router.post("/account/targets")
def add_target(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    url: Annotated[str, Form(max_length=MAX_TARGET_URL + 100)],
) -> Response:
    """Add an Apprise URL as a notification target."""
    if principal is None:
        return _see_other("/login")
    try:
        service_targets.add_target(db, state.settings, state.master_key, principal.user, url)
    except (InvalidInput, Conflict, Forbidden) as err:
        return account_view(request, principal, target_error=err, status=err.status)
    return _see_other("/account?notice=target-added")


@router.post("/account/targets/{target_id}/remove")
def remove_target(principal: OptionalPrincipal, db: DbDep, target_id: str) -> Response:
    """Remove a notification target."""
    if principal is None:
        return _see_other("/login")
    service_targets.remove_target(db, principal.user, target_id)
    return _see_other("/account?notice=target-removed")
