"""The account pages: landing, sign up, log in, log out, account settings."""

from __future__ import annotations

import base64
import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts import service as accounts
from doorstep.accounts import service_email, service_targets
from doorstep.accounts._http import clear_session_cookie, start_browser_session
from doorstep.accounts.auth import OptionalPrincipal
from doorstep.errors import DoorstepError, InvalidInput, NotAuthenticated
from doorstep.geo.cells import Coordinates, cell_location, parse_coordinates
from doorstep.geo.jurisdiction import cell_boundary
from doorstep.geo.svg import latlon_ring
from doorstep.maps import service as maps
from doorstep.platform.http.deps import (
    SESSION_COOKIE,
    CsrfDep,
    DbDep,
    StateDep,
    check_anonymous_csrf,
)
from doorstep.platform.http.render import render
from doorstep.transparency import service_receipts as receipts

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=400)]
OptionalText = Annotated[str, Form(max_length=400)]
FORM_ERRORS = (InvalidInput, NotAuthenticated)
#: What a redirect back to the account page may say (``?notice=``): fixed texts only.
NOTICES = {
    "link-sent": "A new confirmation link is on its way to your email.",
    "link-not-sent": "No link was sent: follow one of the links already sent, or try later.",
    "target-added": "Notification target added.",
    "target-removed": "Notification target removed.",
}


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so a crafted link cannot bounce a fresh login to another site.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/account"


def _retry_after(err: DoorstepError) -> dict[str, str] | None:
    return {"Retry-After": str(err.extra["retry_after"])} if "retry_after" in err.extra else None


#: The sign-up and account pages may ask the browser where it is ("Use my location"), for this
#: origin only; every other page keeps the site-wide "no geolocation" policy.
HOME_PERMISSIONS = "camera=(), microphone=(), geolocation=(self), interest-cohort=()"


def _home_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"permissions-policy": HOME_PERMISSIONS, **(extra or {})}


def _home_from_text(text: str) -> Coordinates | None:
    return parse_coordinates(text) if text.strip() else None


@router.get("/")
def landing(request: Request, principal: OptionalPrincipal) -> Response:
    """What Doorstep is, and the way in."""
    request.state.principal = principal
    return render(request, "landing.html")


@router.get("/signup")
def signup_page(request: Request, principal: OptionalPrincipal, state: StateDep) -> Response:
    """The sign-up form."""
    request.state.principal = principal
    email_on = service_email.email_on(state.settings)
    context = {"form": {}, "email_on": email_on, "base_map": maps.base_map(state.settings)}
    return render(request, "signup.html", context, headers=_home_headers())


@router.post("/signup")
def signup(
    request: Request,
    db: DbDep,
    state: StateDep,
    csrf: CsrfDep,
    email: Text,
    password: Text,
    display_name: Text,
    home: OptionalText = "",
) -> Response:
    """Create the account, then ask to log in (the same answer for a taken email)."""
    check_anonymous_csrf(request, csrf)
    form = {"email": email, "display_name": display_name, "home": home}
    try:
        accounts.sign_up(
            db,
            request,
            state,
            email=email,
            password=password,
            display_name=display_name,
            home=_home_from_text(home),
        )
    except DoorstepError as err:
        if err.status >= 500:
            raise
        request.state.principal = None
        context = {
            "form": form,
            "error": err,
            "email_on": service_email.email_on(state.settings),
            "base_map": maps.base_map(state.settings),
        }
        headers = _home_headers(_retry_after(err))
        return render(request, "signup.html", context, status=err.status, headers=headers)
    # The same answer whether or not the email was taken, and no session either way: a
    # session here would tell a new address from a taken one. The holder logs in next.
    return _see_other("/login?signed_up=1&next=" + quote("/account?welcome=1", safe=""))


@router.get("/login")
def login_page(
    request: Request, principal: OptionalPrincipal, next: str = "", signed_up: str = ""
) -> Response:
    """The log-in form."""
    request.state.principal = principal
    context = {"form": {}, "next": _safe_next(next), "signed_up": signed_up == "1"}
    return render(request, "login.html", context)


@router.post("/login")
def login(
    request: Request,
    db: DbDep,
    state: StateDep,
    csrf: CsrfDep,
    email: Text,
    password: Text,
    next: OptionalText = "",
) -> Response:
    """Check the password and start a session."""
    check_anonymous_csrf(request, csrf)
    try:
        signed_in = accounts.log_in(db, request, state, email, password)
    except DoorstepError as err:
        if err.status >= 500:
            raise
        request.state.principal = None
        context = {"form": {"email": email}, "error": err, "next": _safe_next(next)}
        return render(request, "login.html", context, status=err.status, headers=_retry_after(err))
    response = _see_other(_safe_next(next))
    start_browser_session(response, state, signed_in)
    return response


@router.post("/logout")
def logout(request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep) -> Response:
    """End the session and go back to the landing page."""
    accounts.log_out(db, principal, request.cookies.get(SESSION_COOKIE))
    response = _see_other("/")
    clear_session_cookie(response, state)
    return response


def account_view(request: Request, principal: OptionalPrincipal, **extra: object) -> Response:
    """The account page with ``extra`` (an error, a notice), or the way to log in."""
    if principal is None:
        return _see_other("/login?next=" + quote(request.url.path))
    request.state.principal = principal
    user = principal.user
    cell = cell_location(user.home_cell) if user.home_cell else None
    home = f"{user.home_lat}, {user.home_lon}" if user.home_lat is not None else ""
    status = extra.pop("status", 200)
    assert isinstance(status, int)
    settings = request.app.state.doorstep.settings
    context = {
        "home": home,
        "cell": cell,
        # The exact point for its owner only, beside the public cell everyone else sees (I1).
        "home_map": {
            "home": [user.home_lat, user.home_lon] if user.home_lat is not None else None,
            "cell": latlon_ring(cell_boundary(user.home_cell)) if user.home_cell else None,
        },
        "base_map": maps.base_map(settings),
        "tokens": user.tokens,
        "email_on": service_email.email_on(settings),
        "targets_on": service_targets.targets_on(settings),
        "targets": service_targets.list_targets(user),
        "receipts": receipts.listed_for(user),
        **extra,
    }
    return render(request, "account.html", context, status=status, headers=_home_headers())


@router.get("/account")
def account_page(
    request: Request, principal: OptionalPrincipal, welcome: int = 0, notice: str = ""
) -> Response:
    """Account settings: profile, home, email, notification targets, password, tokens."""
    return account_view(request, principal, welcome=bool(welcome), notice=NOTICES.get(notice))


@router.post("/account/profile")
def update_profile(
    request: Request,
    principal: OptionalPrincipal,
    state: StateDep,
    display_name: Text,
    home: OptionalText = "",
) -> Response:
    """Change the display name and home."""
    if principal is None:
        return _see_other("/login")
    try:
        accounts.update_profile(
            principal.user,
            state,
            display_name=display_name,
            home=_home_from_text(home),
            change_home=True,
        )
    except FORM_ERRORS as err:
        return account_view(request, principal, profile_error=err, status=err.status)
    return account_view(request, principal, notice="Profile saved.")


@router.post("/account/password")
def change_password(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    current_password: Text,
    new_password: Text,
) -> Response:
    """Change the password; every other session ends."""
    if principal is None:
        return _see_other("/login")
    try:
        signed_in = accounts.change_password(
            db, request, state, principal.user, current_password, new_password
        )
    except FORM_ERRORS as err:
        return account_view(request, principal, password_error=err, status=err.status)
    response = _see_other("/account?changed=1")
    start_browser_session(response, state, signed_in)
    return response


@router.post("/account/tokens")
def create_token(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    name: Text,
    scopes: Annotated[list[str], Form()],
) -> Response:
    """Create an API token and show its secret once."""
    if principal is None:
        return _see_other("/login")
    try:
        secret = accounts.issue_page_token(db, principal.user, name=name, scopes=scopes)
    except FORM_ERRORS as err:
        return account_view(request, principal, token_error=err, status=err.status)
    return account_view(request, principal, new_token=secret)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, principal: OptionalPrincipal, db: DbDep, token_id: str
) -> Response:
    """Revoke a token."""
    if principal is None:
        return _see_other("/login")
    accounts.revoke_token(db, principal.user, token_id)
    return account_view(request, principal, notice="Token revoked.")


@router.post("/account/delete")
def delete_account(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, password: Text
) -> Response:
    """Delete the account and everything in it."""
    if principal is None:
        return _see_other("/login")
    try:
        receipt = accounts.delete_account(db, principal.user, password, state.keys)
    except FORM_ERRORS as err:
        return account_view(request, principal, delete_error=err, status=err.status)
    # The receipt is handed over on this page: the account it could be fetched with is gone.
    request.state.principal = None
    text = json.dumps(receipt, indent=2)
    context = {"receipt_text": text, "receipt_b64": base64.b64encode(text.encode()).decode()}
    response = render(request, "account_deleted.html", context)
    clear_session_cookie(response, state)
    return response
