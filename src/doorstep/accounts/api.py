"""Accounts: sign up, log in and out, the caller's own profile, password, tokens, deletion."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from doorstep.accounts import service as accounts
from doorstep.accounts._http import clear_session_cookie, start_browser_session
from doorstep.accounts.auth import AccountReader, BrowserPrincipal, CurrentUser, OptionalPrincipal
from doorstep.accounts.schemas import (
    AccountDelete,
    HomeLocation,
    LoginRequest,
    PasswordChange,
    ProfileUpdate,
    SessionPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPrivate,
)
from doorstep.geo.cells import Coordinates
from doorstep.platform.http import problems
from doorstep.platform.http.deps import SESSION_COOKIE, DbDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def _coordinates(home: HomeLocation | None) -> Coordinates | None:
    return Coordinates(home.lat, home.lon) if home else None


@router.post("/accounts", status_code=status.HTTP_201_CREATED, responses=problems.responses(429))
def sign_up(body: UserCreate, request: Request, db: DbDep, state: StateDep) -> UserPrivate:
    """Create a resident account; each client address may try a few times per window.

    An email that already has an account gets the same answer (201, the same fields, a fresh
    id) while nothing is created or changed: sign-up never tells whether an address is taken.
    Log in next with the email and password just chosen.
    """
    user = accounts.sign_up(
        db,
        request,
        state,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        home=_coordinates(body.home),
    )
    return accounts.user_private(user)


@router.post(
    "/session", status_code=status.HTTP_201_CREATED, responses=problems.responses(401, 429)
)
def log_in(
    body: LoginRequest, request: Request, db: DbDep, state: StateDep, response: Response
) -> SessionPublic:
    """Log in; the session travels in an HttpOnly cookie.

    Failures are throttled by client address and by email; a browser that signed in to the
    account before (its ``doorstep_device`` cookie says so) counts only its own failures, and
    an address that did is not held up by failures from elsewhere.
    """
    signed_in = accounts.log_in(db, request, state, body.email, body.password)
    start_browser_session(response, state, signed_in)
    new = signed_in.session
    return SessionPublic(
        csrf_token=new.csrf_token,
        expires_at=new.expires_at,
        user=accounts.user_private(signed_in.user),
    )


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def log_out(request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep) -> Response:
    """End this browser session."""
    accounts.log_out(db, principal, request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, state)
    return response


@router.get("/me")
def me(principal: AccountReader) -> UserPrivate:
    """The caller's own account."""
    return accounts.user_private(principal.user)


@router.patch("/me")
def update_me(body: ProfileUpdate, user: CurrentUser, state: StateDep) -> UserPrivate:
    """Change the display name or home."""
    accounts.update_profile(
        user,
        state,
        display_name=body.display_name,
        home=_coordinates(body.home),
        change_home="home" in body.model_fields_set,
    )
    return accounts.user_private(user)


@router.post("/me/password")
def change_password(
    body: PasswordChange,
    request: Request,
    principal: BrowserPrincipal,
    db: DbDep,
    state: StateDep,
    response: Response,
) -> SessionPublic:
    """Change the password; every session ends and this browser's goes on as a new one.

    Send the new session's ``csrf_token`` from now on: the old one went with the old session.
    Only this browser and its address stay known to the sign-in throttle.
    """
    signed_in = accounts.change_password(
        db, request, state, principal.user, body.current_password, body.new_password
    )
    start_browser_session(response, state, signed_in)
    new = signed_in.session
    return SessionPublic(
        csrf_token=new.csrf_token,
        expires_at=new.expires_at,
        user=accounts.user_private(principal.user),
    )


@router.delete("/me")
def delete_me(body: AccountDelete, user: CurrentUser, db: DbDep, state: StateDep) -> Response:
    """Delete the account and all its data; the body is the deletion's receipt, to keep."""
    receipt = accounts.delete_account(db, user, body.password, state.keys)
    response = Response(
        json.dumps(receipt, indent=2),
        media_type="application/json",
        headers={"content-disposition": 'attachment; filename="deletion-receipt-account.json"'},
    )
    clear_session_cookie(response, state)
    return response


@router.get("/me/tokens")
def list_tokens(user: CurrentUser) -> list[TokenPublic]:
    """The caller's API tokens."""
    return [accounts.token_public(token) for token in user.tokens]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, user: CurrentUser, db: DbDep) -> TokenCreated:
    """Create an API token; only a browser session may mint tokens."""
    ttl = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, secret = accounts.issue_token(db, user, name=body.name, scopes=body.scopes, ttl=ttl)
    return TokenCreated(**accounts.token_public(token).model_dump(), token=secret)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, user: CurrentUser, db: DbDep) -> Response:
    """Revoke one of the caller's tokens."""
    accounts.revoke_token(db, user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/export", responses={200: {"content": {"application/zip": {}}}})
def export(principal: AccountReader, db: DbDep, state: StateDep) -> Response:
    """Everything Doorstep holds about the caller, as one ZIP (clips decrypted).

    A token needs clips:read as well as account:read: the export holds the clips themselves.
    """
    principal.require_scope("clips:read")
    # Read here, under the request's database permit; the ZIP streams once it is back (DbDep
    # commits before the response starts), on the thread pool, at the client's pace.
    contents = accounts.gather_export(db, state.keys, principal.user)
    return StreamingResponse(
        accounts.stream_export(contents, state.keys),
        media_type="application/zip",
        headers={
            "cache-control": "no-store",
            "content-disposition": 'attachment; filename="doorstep-export.zip"',
        },
    )
