"""The throttles as requests meet them: the client's address, the known-device cookie, the limits.

The client address is the one in the ASGI scope. The server puts the socket's peer there, or,
for requests from a proxy named in DOORSTEP_TRUSTED_PROXIES only, the address that proxy
forwards (``serving.uvicorn_options``); a forwarding header from anyone else is not believed.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy.orm import Session

from doorstep.accounts import _store_email as email_links
from doorstep.accounts import store as accounts
from doorstep.accounts import throttle_store as throttles
from doorstep.accounts.models import User
from doorstep.accounts.store import SignIn
from doorstep.accounts.throttle_rules import (
    client_source,
    device_proof,
    parse_device_cookie,
    source_key,
)
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow

#: The cookie that tells the sign-in throttle this browser signed in to an account before.
DEVICE_COOKIE = "doorstep_device"
#: How long a browser stays known without signing in again (the most browsers keep a cookie).
DEVICE_COOKIE_DAYS = 400
#: Counters untouched this long are removed: longer than any window the settings allow.
FORGET_AFTER = timedelta(days=1)


def client_address(request: Request) -> str:
    """The throttled unit of the caller's address (an IPv6 caller's /64)."""
    return client_source(request.client.host if request.client else "")


def sign_in_origin(request: Request, state: AppState) -> SignIn:
    """Where a login attempt comes from: its address and, if any, its known-device cookie.

    A cookie Doorstep would not have set (another shape, other characters) is no cookie.
    """
    device_id, proof = parse_device_cookie(request.cookies.get(DEVICE_COOKIE, "")) or (None, None)
    return SignIn(
        secret=state.throttle_secret,
        address=client_address(request),
        device_id=device_id or None,
        device_proof=proof or None,
    )


def remember_device(response: Response, state: AppState, origin: SignIn, user: User) -> None:
    """Mark this browser as one that signed in to ``user``: nobody else's failures hold it up.

    The cookie proves nothing but that; it signs no one in. A browser keeps its device id, and
    the proof names the account it last signed in to and when its password last changed: a
    cookie from before a change is worth nothing.
    """
    device_id = origin.device_id or secrets.token_urlsafe(16)
    proof = device_proof(state.throttle_secret, device_id, user.id, user.password_changed_at)
    response.set_cookie(
        DEVICE_COOKIE,
        f"{device_id}.{proof}",
        max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=state.settings.secure_cookies,
        path="/",
    )


def count_sign_up(db: Session, request: Request, state: AppState) -> None:
    """Count a sign-up attempt from the caller's address, or refuse it (429) over the limit."""
    key = source_key(state.throttle_secret, "sign-up-address", client_address(request))
    throttles.take(db, key, state.limits.sign_up_address, utcnow(), "too many sign-ups from here")
    # Kept even if this sign-up fails: trying many is what the limit is for.
    db.commit()


def count_forgot(db: Session, request: Request, state: AppState) -> None:
    """Count a forgotten-password request from the caller's address, as sign-ups are (429)."""
    key = source_key(state.throttle_secret, "forgot-address", client_address(request))
    throttles.take(db, key, state.limits.sign_up_address, utcnow(), "too many requests from here")
    db.commit()


def count_place_search(db: Session, request: Request, state: AppState) -> None:
    """Count an address search from the caller's address, or refuse it (429) over the limit."""
    key = source_key(state.throttle_secret, "place-search-address", client_address(request))
    throttles.take(
        db, key, state.limits.place_search_address, utcnow(), "too many address searches from here"
    )


def count_pairing(db: Session, request: Request, state: AppState) -> str:
    """Count a pairing attempt from the caller's address; give it back (``paired``) if it works."""
    key = source_key(state.throttle_secret, "pairing-address", client_address(request))
    throttles.take(
        db, key, state.limits.pairing_address, utcnow(), "too many wrong pairing codes from here"
    )
    db.commit()
    return key


def paired(db: Session, key: str) -> None:
    """A pairing code worked: it does not count against the address."""
    throttles.give_back(db, key)


def forget_stale_counters(state: AppState) -> int:
    """Remove counters no rule remembers any more, stale known addresses and dead mailed links."""
    now = utcnow()
    with state.db.session() as db:
        return (
            throttles.forget_stale(db, now, FORGET_AFTER)
            + accounts.forget_stale_addresses(db, now)
            + email_links.forget_old_links(db, now - FORGET_AFTER)
        )
