"""What accounts' API and pages both write into responses: the session cookie, a built file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from fastapi import Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.types import Receive, Scope, Send

from doorstep.accounts import throttling
from doorstep.accounts.service import NewSession, SignedIn
from doorstep.platform.http.deps import SESSION_COOKIE
from doorstep.platform.http.state import AppState


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


def start_browser_session(response: Response, state: AppState, signed_in: SignedIn) -> None:
    """Hand the browser its new session, and remember it as a device that signed in."""
    set_session_cookie(response, state, signed_in.session)
    throttling.remember_device(response, state, signed_in.origin, signed_in.user)


class BuiltFileResponse(Response):
    """A file built only once the handler has returned, then sent and removed.

    The request's database permit goes back when its handler returns (``DbDep`` commits
    then), before this response runs: slow work that needs no database (writing a ZIP of
    decrypted footage) belongs here, on a thread, rather than in the handler.
    """

    def __init__(
        self,
        build: Callable[[], Path],
        *,
        media_type: str,
        filename: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(media_type=media_type, headers=headers)
        self._build = build
        self._filename = filename
        self._extra_headers = dict(headers or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Build the file on a thread, send it, and remove it however the sending ends."""
        path = await run_in_threadpool(self._build)
        try:
            response = FileResponse(
                path,
                media_type=self.media_type,
                filename=self._filename,
                headers=self._extra_headers,
            )
            await response(scope, receive, send)
        finally:
            path.unlink(missing_ok=True)
