"""Accounts: sign up, log in and out, the caller's own profile, password, tokens, deletion."""

from __future__ import annotations

import functools
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.background import BackgroundTask

from doorstep.accounts import store as accounts
from doorstep.accounts import throttling
from doorstep.accounts.export import export_account
from doorstep.accounts.models import ApiToken, User
from doorstep.accounts.sign_up import create_account
from doorstep.accounts.store import NewSession
from doorstep.geo.cells import Coordinates, cell_location
from doorstep.platform.http import problems
from doorstep.platform.http.deps import (
    SESSION_COOKIE,
    AccountReader,
    BrowserPrincipal,
    CurrentUser,
    DbDep,
    OptionalPrincipal,
    StateDep,
)
from doorstep.platform.http.state import AppState

router = APIRouter(prefix="/api/v1", tags=["accounts"])

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


def _refuse_nul(value: object, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"text may not contain NUL characters ({where or 'body'})")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, where)
            _refuse_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{where}.{index}" if where else str(index))


class Strict(BaseModel):
    """Request bodies refuse unknown fields so typos are errors, not silent no-ops.

    They refuse NUL characters anywhere too: no text column can store one (PostgreSQL fails).
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _refuse_nul(data, "")
        return data


class HomeLocation(Strict):
    """An exact position, as the owner gives it."""

    lat: Latitude
    lon: Longitude


class UserCreate(Strict):
    """Sign-up form."""

    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=256)]
    display_name: Annotated[str, Field(max_length=80)]
    home: HomeLocation | None = None


class PublicCell(BaseModel):
    """A location as anyone but its owner may see it: an H3 cell and its centre."""

    # Frozen, so one instance per cell can be shared by every response that shows the cell.
    model_config = ConfigDict(frozen=True)

    cell: str
    resolution: int
    lat: float
    lon: float


# A feed page shows dozens of posts from a few hundred cells, on every read.
@functools.lru_cache(maxsize=4096)
def public_cell_of(cell: str) -> PublicCell:
    """A cell and its rounded centre."""
    return PublicCell(**asdict(cell_location(cell)))


class UserPrivate(BaseModel):
    """The caller's own account, exact home included: only ever sent to the account itself."""

    id: str
    email: str
    display_name: str
    role: str
    home: HomeLocation | None
    home_cell: PublicCell | None
    created_at: datetime


class ProfileUpdate(Strict):
    """Changes to the caller's profile; omitted fields stay as they are."""

    display_name: Annotated[str | None, Field(max_length=80)] = None
    home: HomeLocation | None = None


class LoginRequest(Strict):
    """Email and password."""

    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=256)]


class SessionPublic(BaseModel):
    """A new browser session: send ``csrf_token`` as X-CSRF-Token on every change."""

    csrf_token: str
    expires_at: datetime
    user: UserPrivate


class PasswordChange(Strict):
    """Current and new password."""

    current_password: Annotated[str, Field(max_length=256)]
    new_password: Annotated[str, Field(max_length=256)]


class AccountDelete(Strict):
    """The password, to confirm deleting the account and all its data."""

    password: Annotated[str, Field(max_length=256)]


class TokenCreate(Strict):
    """A new API token for a script or device."""

    name: Annotated[str, Field(max_length=80)]
    scopes: Annotated[list[str], Field(max_length=10)]
    expires_in_days: Annotated[int | None, Field(ge=1, le=3650)] = 90


class TokenPublic(BaseModel):
    """An API token as listed; the secret is never shown again."""

    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    """A token just created, with its secret shown this once."""

    token: str


def user_private(user: User) -> UserPrivate:
    """The owner's own view of their account."""
    home = None
    if user.home_lat is not None and user.home_lon is not None:
        home = HomeLocation(lat=user.home_lat, lon=user.home_lon)
    cell = public_cell_of(user.home_cell) if user.home_cell else None
    return UserPrivate(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        home=home,
        home_cell=cell,
        created_at=user.created_at,
    )


def token_public(token: ApiToken) -> TokenPublic:
    """A token without its secret."""
    return TokenPublic(
        id=token.id,
        name=token.name,
        scopes=list(token.scopes),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def set_session_cookie(response: Response, state: AppState, new: NewSession) -> None:
    """Put the session secret in an HttpOnly, SameSite cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        new.secret,
        max_age=int(state.session_ttl.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, state: AppState) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=state.settings.secure_cookies
    )


def _coordinates(home: HomeLocation | None) -> Coordinates | None:
    return Coordinates(home.lat, home.lon) if home else None


@router.post("/accounts", status_code=status.HTTP_201_CREATED, responses=problems.responses(429))
def sign_up(body: UserCreate, request: Request, db: DbDep, state: StateDep) -> UserPrivate:
    """Create a resident account; each client address may try a few times per window.

    An email that already has an account gets the same answer (201, the same fields, a fresh
    id) while nothing is created or changed: sign-up never tells whether an address is taken.
    Log in next with the email and password just chosen.
    """
    throttling.count_sign_up(db, request, state)
    user = create_account(
        db,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        home=_coordinates(body.home),
        cell_resolution=state.settings.public_cell_resolution,
    )
    return user_private(user)


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
    origin = throttling.sign_in_origin(request, state)
    user = accounts.authenticate(db, body.email, body.password, origin, state.limits)
    new = accounts.start_session(db, user, state.session_ttl)
    set_session_cookie(response, state, new)
    throttling.remember_device(response, state, origin, user)
    return SessionPublic(
        csrf_token=new.csrf_token, expires_at=new.expires_at, user=user_private(user)
    )


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def log_out(request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep) -> Response:
    """End this browser session."""
    secret = request.cookies.get(SESSION_COOKIE)
    if principal is not None and principal.session is not None and secret:
        accounts.end_session(db, secret)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, state)
    return response


@router.get("/me")
def me(principal: AccountReader) -> UserPrivate:
    """The caller's own account."""
    return user_private(principal.user)


@router.patch("/me")
def update_me(body: ProfileUpdate, user: CurrentUser, state: StateDep) -> UserPrivate:
    """Change the display name or home."""
    if body.display_name is not None:
        user.display_name = accounts.clean_display_name(body.display_name)
    if "home" in body.model_fields_set:
        accounts.set_home(user, _coordinates(body.home), state.settings.public_cell_resolution)
    return user_private(user)


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
    origin = throttling.sign_in_origin(request, state)
    accounts.change_password(db, principal.user, body.current_password, body.new_password, origin)
    new = accounts.start_session(db, principal.user, state.session_ttl)
    set_session_cookie(response, state, new)
    throttling.remember_device(response, state, origin, principal.user)
    return SessionPublic(
        csrf_token=new.csrf_token, expires_at=new.expires_at, user=user_private(principal.user)
    )


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
def delete_me(body: AccountDelete, user: CurrentUser, db: DbDep, state: StateDep) -> Response:
    """Delete the account and all its data."""
    accounts.delete_account(db, user, body.password, state.keys)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, state)
    return response


@router.get("/me/tokens")
def list_tokens(user: CurrentUser) -> list[TokenPublic]:
    """The caller's API tokens."""
    return [token_public(token) for token in user.tokens]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, user: CurrentUser, db: DbDep) -> TokenCreated:
    """Create an API token; only a browser session may mint tokens."""
    ttl = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, secret = accounts.issue_token(db, user, name=body.name, scopes=body.scopes, ttl=ttl)
    return TokenCreated(**token_public(token).model_dump(), token=secret)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, user: CurrentUser, db: DbDep) -> Response:
    """Revoke one of the caller's tokens."""
    accounts.revoke_token(db, user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/export", responses={200: {"content": {"application/zip": {}}}})
def export(principal: AccountReader, db: DbDep, state: StateDep) -> FileResponse:
    """Everything Doorstep holds about the caller, as one ZIP (clips decrypted).

    A token needs clips:read as well as account:read: the export holds the clips themselves.
    """
    principal.require_scope("clips:read")
    path = export_account(db, state.keys, principal.user, state.settings.data_dir / "exports")
    return FileResponse(
        path,
        media_type="application/zip",
        filename="doorstep-export.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
        headers={"cache-control": "no-store"},
    )
