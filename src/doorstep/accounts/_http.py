"""What accounts' API and pages both write into responses: the session cookie."""

from __future__ import annotations

from fastapi import Response

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
