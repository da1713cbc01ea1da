"""Accounts' use cases: signing up and in, the caller's profile, password, tokens, export.

The routes (api.py, pages.py) parse, call one of these and answer; the authenticator at the end
is how platform learns who is calling without importing accounts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from fastapi import Request
from sqlalchemy.orm import Session

from doorstep.accounts import (
    _store_locks,
    export,
    service_email,
    service_targets,
    store,
    throttling,
)
from doorstep.accounts.auth import Principal
from doorstep.accounts.models import ApiToken, OwnerKey, User
from doorstep.accounts.roles import Role
from doorstep.accounts.schemas import HomeLocation, TokenPublic, UserPrivate, public_cell_of
from doorstep.accounts.sign_up import create_account
from doorstep.accounts.store import NewSession as NewSession
from doorstep.accounts.store import SignIn
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.platform.crypto import owner_key_context
from doorstep.platform.http.state import AppState
from doorstep.platform.keys import Keys
from doorstep.platform.rewrap import rewrap_column
from doorstep.platform.types import new_id
from doorstep.transparency import service_receipts as receipts

#: How long a token made on the account page lasts.
PAGE_TOKEN_LIFETIME = timedelta(days=90)


class SignedIn(NamedTuple):
    """A browser just signed in: whose, its new session, and where from (for the throttle)."""

    user: User
    session: NewSession
    origin: SignIn


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
        email_verified_at=user.email_verified_at,
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


def create_user(
    db: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    home: Coordinates | None,
    cell_resolution: int,
    role: Role = Role.RESIDENT,
) -> User:
    """Create an account of any role, as an operator or the demo does (no throttle, no disguise)."""
    return store.create_user(
        db,
        email=email,
        password=password,
        display_name=display_name,
        home=home,
        cell_resolution=cell_resolution,
        role=role,
    )


def sign_up(
    db: Session,
    request: Request,
    state: AppState,
    *,
    email: str,
    password: str,
    display_name: str,
    home: Coordinates | None,
) -> User:
    """Count the try against the client's address, then create a resident account.

    A taken email gets a stand-in that is never stored (see ``sign_up.create_account``).
    """
    throttling.count_sign_up(db, request, state)
    made = create_account(
        db,
        email=email,
        password=password,
        display_name=display_name,
        home=home,
        cell_resolution=state.settings.public_cell_resolution,
    )
    service_email.after_sign_up(db, state, made)
    return made


def log_in(db: Session, request: Request, state: AppState, email: str, password: str) -> SignedIn:
    """Check the password within the sign-in throttles and start a browser session."""
    origin = throttling.sign_in_origin(request, state)
    user = store.authenticate(db, email, password, origin, state.limits)
    origin = service_email.after_sign_in(db, state, user, origin)
    return SignedIn(user, store.start_session(db, user, state.session_ttl), origin)


def log_out(db: Session, principal: Principal | None, secret: str | None) -> None:
    """End the caller's browser session, if the caller has one."""
    if principal is not None and principal.session is not None and secret:
        store.end_session(db, secret)


def update_profile(
    user: User,
    state: AppState,
    *,
    display_name: str | None,
    home: Coordinates | None,
    change_home: bool,
) -> None:
    """Change the display name (unless None) and, if ``change_home``, the home."""
    if display_name is not None:
        user.display_name = store.clean_display_name(display_name)
    if change_home:
        store.set_home(user, home, state.settings.public_cell_resolution)


def change_password(
    db: Session, request: Request, state: AppState, user: User, current: str, new: str
) -> SignedIn:
    """Change the password; every session ends and this browser's goes on as a new one."""
    origin = throttling.sign_in_origin(request, state)
    store.change_password(db, user, current, new, origin)
    service_email.after_password_change(db, state, user)
    return SignedIn(user, store.start_session(db, user, state.session_ttl), origin)


def reset_password(
    db: Session, request: Request, state: AppState, secret: str, new_password: str
) -> SignedIn:
    """Set a new password by a mailed reset link, once, and sign this browser in."""
    user, origin = service_email.reset_password(db, request, state, secret, new_password)
    return SignedIn(user, store.start_session(db, user, state.session_ttl), origin)


def delete_account(db: Session, user: User, password: str, keys: Keys) -> dict[str, Any]:
    """Delete the account and all its data, once the password is confirmed; returns the receipt.

    The receipt is all the owner keeps of it: nothing remains to fetch it with later.
    """
    owner_id = user.id
    store.delete_account(db, user, password, keys)
    return receipts.account_deleted(db, keys.master, owner_id)


def issue_token(
    db: Session, user: User, *, name: str, scopes: list[str], ttl: timedelta | None
) -> tuple[ApiToken, str]:
    """Create an API token; its secret is returned this once."""
    return store.issue_token(db, user, name=name, scopes=scopes, ttl=ttl)


def issue_page_token(db: Session, user: User, *, name: str, scopes: list[str]) -> str:
    """Create a token from the account page and return its secret; ``user.tokens`` shows it."""
    _, secret = store.issue_token(db, user, name=name, scopes=scopes, ttl=PAGE_TOKEN_LIFETIME)
    db.refresh(user)
    return secret


def revoke_token(db: Session, user: User, token_id: str) -> None:
    """Revoke one of the user's tokens."""
    store.revoke_token(db, user, token_id)


def gather_export(db: Session, keys: Keys, user: User) -> export.Contents:
    """Read everything the export holds, in the request's transaction (see ``stream_export``)."""
    return export.gather(db, keys, user)


def stream_export(contents: export.Contents, keys: Keys) -> Iterator[bytes]:
    """The export's ZIP in pieces: blobs only, no database (nor its permit)."""
    return export.stream_zip(contents, keys.blobs)


class SessionsAndTokens:
    """The app's authenticator: browser sessions and API tokens, as accounts keeps them."""

    def by_token(self, db: Session, secret: str) -> Principal:
        """The caller a live API token speaks for (refuses an unknown, revoked or expired one)."""
        token = store.token_for(db, secret)
        return Principal(user=token.user, token=token)

    def by_session(self, db: Session, cookie: str) -> Principal | None:
        """The caller a live browser session belongs to, or None."""
        session = store.session_for(db, cookie)
        if session is None:
            return None
        return Principal(user=session.user, session=session)


#: What ``create_app`` wires into ``app.state.authenticator``.
AUTHENTICATOR = SessionsAndTokens()


# --- accounts nobody signs up for: the demo's residents ------------------------------------------


@dataclass(frozen=True, slots=True)
class NewResident:
    """A resident's account made without signing up: email, name and home (if any)."""

    email: str
    display_name: str
    home: Coordinates | None = None


def add_residents(
    db: Session, residents: Sequence[NewResident], *, password_hash: str, cell_resolution: int
) -> list[User]:
    """Add residents sharing one already-hashed password (hashing each would be slow), in order."""
    users = [
        User(
            id=new_id(),
            email=resident.email,
            password_hash=password_hash,
            display_name=resident.display_name,
            role=Role.RESIDENT.value,
            home_lat=resident.home.lat if resident.home is not None else None,
            home_lon=resident.home.lon if resident.home is not None else None,
            home_cell=(
                public_cell(resident.home, cell_resolution) if resident.home is not None else None
            ),
        )
        for resident in residents
    ]
    return store.add_users(db, users)


def lock_account(db: Session, user: User) -> None:
    """Hold the account until the transaction ends.

    A count and an add (of push devices, say) asked for at once by two requests of the account
    are then made one after the other.
    """
    _store_locks.lock_account(db, user.id)


def find_user(db: Session, user_id: str) -> User | None:
    """An account by id, or None."""
    return store.find_user(db, user_id)


def find_user_by_email(db: Session, email: str) -> User | None:
    """The account whose stored email is exactly ``email``, or None."""
    return store.user_by_email(db, email)


def count_users_by_email_suffix(db: Session, suffix: str) -> int:
    """How many accounts have an email ending in ``suffix`` (the demo's homes share one)."""
    return store.count_by_email_suffix(db, suffix)


def rewrap_keys(db: Session, old: bytes, new: bytes) -> dict[str, int]:
    """Move the owners' data keys and the sealed notification targets to a new master key."""
    return {
        "owner data keys": rewrap_column(
            db, OwnerKey, "wrapped_key", lambda row: owner_key_context(row.user_id), old, new
        ),
        "notification targets": service_targets.reseal_targets(db, old, new),
    }
