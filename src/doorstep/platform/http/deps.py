"""Typed dependencies: the app state, a database session, and who is calling.

Platform knows no feature: who a credential belongs to is answered by an ``Authenticator`` the
app wires in at startup (``app.state.authenticator``, the accounts feature's), so a session cookie
or an API token becomes a ``Principal`` here without this module importing accounts. The
dependency functions that check a caller live here; the typed shortcuts routes name them by
(``CurrentUser``, ``ClipReader``, ``ReviewerUser`` ...) are ``accounts/auth.py``'s, where the
caller's account, session and token have their real types.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Generic, Protocol, TypeAlias, TypeVar

from anyio import CancelScope
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.orm import Session

from doorstep.errors import CsrfRejected, Forbidden, NotAuthenticated
from doorstep.platform.bus.memory import take_pending
from doorstep.platform.http.state import AppState
from doorstep.platform.security import same

SESSION_COOKIE = "doorstep_session"
CSRF_COOKIE = "doorstep_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIX = "/api/"
DEVICE_PREFIX = "/api/v1/devices/"
CLIP_UPLOAD_PATH = DEVICE_PREFIX + "clips"

Page = TypeVar("Page", bound=BaseModel)
#: The account, browser session and API token of a caller: accounts.models' ``User``,
#: ``BrowserSession`` and ``ApiToken``, which platform may not import (``accounts.auth.Principal``
#: is this class with those three filled in).
AccountT = TypeVar("AccountT")
SessionT = TypeVar("SessionT")
TokenT = TypeVar("TokenT")


# Dependencies that do no I/O are coroutines: FastAPI runs a plain function on a thread,
# and every such hop costs CPU and, when the event loop holds the GIL, waiting.


async def get_state(request: Request) -> AppState:
    """The state of the app serving this request."""
    state: AppState = request.app.state.doorstep
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def is_clip_upload(request: Request) -> bool:
    """Whether the request is a camera uploading a clip (a lane of its own)."""
    # The matched route, not the URL: behind a proxy prefix the path starts with it.
    route = request.scope.get("route")
    return request.method == "POST" and getattr(route, "path", None) == CLIP_UPLOAD_PATH


async def get_db(request: Request, state: StateDep) -> AsyncIterator[Session]:
    """A session committed when the handler returns, before the response is sent.

    The request waits for a database permit first (see ``platform/http/admission.py``); clip uploads
    wait in a lane of their own. Committing and closing the session run on a thread.
    """
    admission = state.upload_admission if is_clip_upload(request) else state.admission
    async with admission.permit():
        transaction = state.db.session()
        # Opening does no I/O (a session connects on its first query); closing does.
        session = transaction.__enter__()
        try:
            yield session
        except BaseException as err:
            with CancelScope(shield=True):
                handled = await run_in_threadpool(
                    transaction.__exit__, type(err), err, err.__traceback__
                )
            if not handled:
                raise
        else:
            with CancelScope(shield=True):
                await run_in_threadpool(transaction.__exit__, None, None, None)
    # Only after the commit: a page told about a clip must be able to fetch it.
    for account_id, event in take_pending(session):
        state.bus.publish(account_id, event)


# scope="function": commit before the response leaves, so a failed commit is never a 200.
DbDep = Annotated[Session, Depends(get_db, scope="function")]


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token the caller sent, in the header or as a form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.method in SAFE_METHODS:
        return None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


CsrfDep = Annotated[str | None, Depends(submitted_csrf)]


# Not slotted: the generic alias accounts.auth.Principal sets __orig_class__ on its instances.
@dataclass(frozen=True)
class Principal(Generic[AccountT, SessionT, TokenT]):
    """Who is calling and how: a browser session or an API token."""

    user: AccountT
    session: SessionT | None = None
    token: TokenT | None = None

    def require_scope(self, scope: str) -> None:
        """Refuse a token that was not given ``scope``; browser sessions have every scope."""
        scopes: Any = getattr(self.token, "scopes", ())
        if self.token is not None and scope not in scopes:
            raise Forbidden(f"this token lacks the '{scope}' scope")


#: A caller as platform sees it: of accounts' three types, whichever they are.
AnyPrincipal: TypeAlias = Principal[Any, Any, Any]


class Authenticator(Protocol):
    """Who a credential belongs to: the accounts feature answers, the app wires it in."""

    def by_token(self, db: Session, secret: str) -> AnyPrincipal:
        """The caller an API token speaks for; refuses (``NotAuthenticated``) an unknown one."""
        ...

    def by_session(self, db: Session, cookie: str) -> AnyPrincipal | None:
        """The caller a live browser session belongs to, or None for an unknown or stale one."""
        ...


def authenticator(request: Request) -> Authenticator:
    """The authenticator the app was built with (``create_app`` sets it)."""
    found: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if found is None:
        raise RuntimeError("the app has no authenticator: create_app wires the accounts one in")
    return found


@dataclass(frozen=True, slots=True)
class Viewer:
    """What a page's navigation shows of a signed-in browser, as plain values.

    Taken when the caller is resolved, while the database session is open: an error page is
    rendered after the request's session has rolled back and closed, when the account and
    browser session rows can no longer be read.
    """

    display_name: str
    role: str
    csrf_token: str

    @classmethod
    def of(cls, principal: AnyPrincipal) -> Viewer:
        """The viewer a browser-session principal shows as."""
        user: Any = principal.user
        session: Any = principal.session
        return cls(str(user.display_name), str(user.role), str(session.csrf_token))


def viewer(request: Request) -> Viewer | None:
    """The signed-in browser this request came from, if its caller was resolved as one."""
    found: Viewer | None = getattr(request.state, "viewer", None)
    return found


def resolve_principal(request: Request, csrf: str | None, db: Session) -> AnyPrincipal | None:
    """Resolve the caller from a bearer token or a session cookie; check CSRF for cookies."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated("use 'Authorization: Bearer <token>'")
        principal = authenticator(request).by_token(db, secret.strip())
        token: Any = principal.token
        # A camera's token speaks for the camera, never for its owner: it cannot consent,
        # read the owner's account or change anything outside the device API.
        # The matched route, not the URL: behind a proxy prefix the URL starts with the prefix.
        path = str(getattr(request.scope.get("route"), "path", request.url.path))
        if token.camera_id is not None and not path.startswith(DEVICE_PREFIX):
            raise Forbidden("a camera's device token only works for the device API")
        # The pages are for browsers; a token reaches the API routes of its scopes only.
        if not path.startswith(API_PREFIX):
            raise Forbidden("API tokens work only for the API; the pages need a logged-in browser")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = authenticator(request).by_session(db, cookie)
    if found is None:
        return None
    session: Any = found.session
    # Even a request refused below gets an error page with its account's navigation.
    request.state.viewer = Viewer.of(found)
    if request.method not in SAFE_METHODS and not (csrf and same(csrf, session.csrf_token)):
        raise CsrfRejected("reload the page and try again (missing or wrong CSRF token)")
    return found


# ``csrf`` before ``db``: dependencies resolve in order, and a form body still arriving (slowly,
# perhaps on purpose) must be read before the request holds one of the few database permits.
def optional_principal(request: Request, csrf: CsrfDep, db: DbDep) -> AnyPrincipal | None:
    """The caller, if signed in (see ``resolve_principal``)."""
    return resolve_principal(request, csrf, db)


OptionalPrincipal = Annotated[AnyPrincipal | None, Depends(optional_principal)]


async def current_principal(principal: OptionalPrincipal) -> AnyPrincipal:
    """The caller, who must be logged in."""
    if principal is None:
        raise NotAuthenticated("log in or send an API token")
    return principal


CurrentPrincipal = Annotated[AnyPrincipal, Depends(current_principal)]


async def read_in_one_hop(
    request: Request, model: type[Page], read: Callable[[Session, AnyPrincipal], Page]
) -> Response:
    """Answer a signed-in GET with ``read``'s page as JSON, all its blocking work on one thread hop.

    The dependencies above take four hops to the thread pool for a read: who is calling, the
    handler, checking its result, the commit. Under load each hop waits for the GIL behind the
    event loop and the other threads, which is where a busy server's slow reads come from. The
    hottest reads (the feed, the timeline) go through here instead: in one hop and one
    transaction, under the same database permit, the caller is resolved by the same rules and
    the page is read and written out as ``model`` (the route's ``response_model``: only its
    fields leave, whatever ``read`` returns). A route using this lists ``problems.ONE_HOP_READ``.
    """
    if request.method not in SAFE_METHODS:
        raise RuntimeError("read_in_one_hop is for reads; a write needs the CSRF check")
    state: AppState = request.app.state.doorstep
    async with state.admission.permit():
        body, pending = await run_in_threadpool(_read_as_caller, state, request, model, read)
    # As after get_db: whatever the read queued is told only once it has committed.
    for account_id, event in pending:
        state.bus.publish(account_id, event)
    return Response(body, media_type="application/json")


@functools.cache
def _writer(model: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _read_as_caller(
    state: AppState,
    request: Request,
    model: type[Page],
    read: Callable[[Session, AnyPrincipal], Page],
) -> tuple[bytes, list[tuple[str, dict[str, Any]]]]:
    with state.db.session() as db:
        principal = resolve_principal(request, None, db)
        if principal is None:
            raise NotAuthenticated("log in or send an API token")
        # Written out inside the transaction: the page may still read from the session.
        body = _writer(model).dump_json(read(db, principal), by_alias=True)
    return body, take_pending(db)


def needs_scope(scope: str) -> Callable[[AnyPrincipal], Awaitable[AnyPrincipal]]:
    """A dependency that lets a browser session, or a token given ``scope``, through."""

    async def check(principal: CurrentPrincipal) -> AnyPrincipal:
        principal.require_scope(scope)
        return principal

    return check


async def browser_principal(principal: CurrentPrincipal) -> AnyPrincipal:
    """The caller, on a route that names no token scope: a browser session only.

    An API token does what its scopes name and nothing else: a route open to tokens names its
    scope in its signature (``accounts.auth.ClipReader`` and the others). Every other signed-in
    route (the account's settings, its tokens, every role's work) refuses a token here, as a
    dependency, so before the request body is even looked at.
    """
    if principal.token is not None:
        raise Forbidden("an API token only reaches the routes of its scopes; log in to do this")
    return principal


BrowserPrincipal = Annotated[AnyPrincipal, Depends(browser_principal)]


async def device_principal(principal: CurrentPrincipal) -> AnyPrincipal:
    """A camera's device token and nothing else, checked before the request body is."""
    token = principal.token
    if token is None or token.camera_id is None or "device" not in token.scopes:
        raise NotAuthenticated("this endpoint needs a camera's device token")
    return principal


DevicePrincipal = Annotated[AnyPrincipal, Depends(device_principal)]


async def current_user(principal: BrowserPrincipal) -> Any:
    """The logged-in account, in a browser (see ``browser_principal``)."""
    return principal.user


CurrentUser = Annotated[Any, Depends(current_user)]


def require_role(*roles: StrEnum) -> Callable[[Any], Awaitable[Any]]:
    """A dependency that lets only the given roles (accounts.roles ``Role`` members) through."""
    allowed = {role.value for role in roles}

    async def check(user: CurrentUser) -> Any:
        if user.role not in allowed:
            raise Forbidden("your account's role may not do this")
        return user

    return check


def check_anonymous_csrf(request: Request, submitted: str | None) -> None:
    """Check a logged-out form post (sign-up, log-in) against the double-submit CSRF cookie."""
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not same(expected, submitted):
        raise CsrfRejected("reload the page and try again (missing or wrong CSRF token)")
