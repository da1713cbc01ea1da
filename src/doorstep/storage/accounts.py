"""Accounts repository: sign-up, login with throttling, sessions, API tokens, deletion."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from doorstep.domain.geo import Coordinates, public_cell
from doorstep.domain.passwords import check_password
from doorstep.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TokenExpired,
    TooManyRequests,
)
from doorstep.security import (
    digest,
    hash_password,
    needs_rehash,
    new_api_token,
    new_secret,
    verify_password,
)
from doorstep.storage.clips import Keys, shred_owner
from doorstep.storage.models import ApiToken, BrowserSession, LoginThrottle, Role, User
from doorstep.storage.types import utcnow

MAX_EMAIL = 254
MAX_NAME = 80

#: What an API token may be allowed to do.
#: How stale a token's ``last_used_at`` may be before a request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_SCOPES = frozenset({"account:read", "device", "clips:read", "clips:write", "feed:write"})


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failed logins an email may have, and for how long it is then locked."""

    max_failures: int
    lockout: timedelta


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just created: the cookie secret is shown once and only its digest is kept."""

    secret: str
    csrf_token: str
    expires_at: datetime


def normalise_email(email: str) -> str:
    """Lower-case and trim an email, refusing what cannot be one."""
    value = email.strip().lower()
    if len(value) > MAX_EMAIL:
        raise InvalidInput(f"an email has at most {MAX_EMAIL} characters", field="email")
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or domain.startswith("."):
        raise InvalidInput("enter an email address like name@example.org", field="email")
    return value


def clean_display_name(name: str) -> str:
    """Trim a display name and check its length."""
    value = " ".join(name.split())
    if not value:
        raise InvalidInput("enter a display name", field="display_name")
    if len(value) > MAX_NAME:
        raise InvalidInput(
            f"a display name has at most {MAX_NAME} characters", field="display_name"
        )
    return value


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
    """Create an account; the exact home stays on the row, the public cell beside it."""
    email = normalise_email(email)
    display_name = clean_display_name(display_name)
    check_password(password, email=email, display_name=display_name)
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("an account with that email already exists", field="email")
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name,
        role=role.value,
    )
    set_home(user, home, cell_resolution)
    db.add(user)
    try:
        db.flush()
    except IntegrityError as err:
        # Two sign-ups with the same email raced past the check above.
        db.rollback()
        raise Conflict("an account with that email already exists", field="email") from err
    return user


def set_home(user: User, home: Coordinates | None, cell_resolution: int) -> None:
    """Store the exact home and the public cell derived from it (invariant I1)."""
    user.home_lat = home.lat if home else None
    user.home_lon = home.lon if home else None
    user.home_cell = public_cell(home, cell_resolution) if home else None


def _check_throttle(db: Session, email: str) -> LoginThrottle | None:
    row = db.get(LoginThrottle, email)
    now = utcnow()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        wait = int((row.locked_until - now).total_seconds()) + 1
        raise TooManyRequests(
            f"too many failed logins for this email; try again in {wait // 60 + 1} minutes",
            retry_after=wait,
        )
    return row


def _record_failure(db: Session, row: LoginThrottle | None, email: str, p: ThrottlePolicy) -> None:
    now = utcnow()
    if row is None:
        row = LoginThrottle(email=email, failures=0, first_failure_at=now)
        db.add(row)
    if now - row.first_failure_at > p.lockout:
        row.failures, row.first_failure_at = 0, now
    row.failures += 1
    if row.failures >= p.max_failures:
        row.locked_until = now + p.lockout
        row.failures, row.first_failure_at = 0, now


def authenticate(db: Session, email: str, password: str, policy: ThrottlePolicy) -> User:
    """Return the account for a correct email and password; count failures and lock on too many."""
    try:
        email = normalise_email(email)
    except InvalidInput as err:
        raise NotAuthenticated("wrong email or password") from err
    throttle = _check_throttle(db, email)
    user = db.scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        _record_failure(db, throttle, email, policy)
        # Commit the failure even though the caller's request fails.
        db.commit()
        raise NotAuthenticated("wrong email or password")
    if throttle is not None:
        db.delete(throttle)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(db: Session, user: User, ttl: timedelta) -> NewSession:
    """Create a browser session for ``user``."""
    secret, csrf = new_secret(), new_secret()
    expires = utcnow() + ttl
    db.add(BrowserSession(id=digest(secret), user_id=user.id, csrf_token=csrf, expires_at=expires))
    return NewSession(secret=secret, csrf_token=csrf, expires_at=expires)


# Every signed-in request runs one of these two: built once, they are only run after that.
@functools.lru_cache(maxsize=1)
def _session_query() -> Select[BrowserSession]:
    # The account comes in the same query: every signed-in request needs both.
    return (
        select(BrowserSession)
        .where(BrowserSession.id == bindparam("id"))
        .options(joinedload(BrowserSession.user))
    )


@functools.lru_cache(maxsize=1)
def _token_query() -> Select[ApiToken]:
    return (
        select(ApiToken)
        .where(ApiToken.token_hash == bindparam("hash"))
        # A camera's every request needs its camera next (cameras.device_camera finds it here).
        .options(joinedload(ApiToken.user), joinedload(ApiToken.camera))
    )


def session_for(db: Session, secret: str) -> BrowserSession | None:
    """Return the live session behind a cookie secret, or ``None``."""
    row = db.scalars(_session_query(), {"id": digest(secret)}).first()
    if row is None:
        return None
    if row.expires_at <= utcnow():
        db.delete(row)
        return None
    return row


def end_session(db: Session, secret: str) -> None:
    """Log a browser out."""
    db.execute(delete(BrowserSession).where(BrowserSession.id == digest(secret)))


def change_password(db: Session, user: User, current: str, new: str) -> None:
    """Change a password after checking the current one; every other session is ended."""
    if not verify_password(user.password_hash, current):
        raise InvalidInput("the current password is wrong", field="current_password")
    check_password(new, email=user.email, display_name=user.display_name)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    db.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))


def issue_token(
    db: Session, user: User, *, name: str, scopes: list[str], ttl: timedelta | None
) -> tuple[ApiToken, str]:
    """Create an API token; the secret is returned once and only its digest is kept."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"name the token (1 to {MAX_NAME} characters)", field="name")
    unknown = sorted(set(scopes) - TOKEN_SCOPES)
    if unknown or not scopes:
        raise InvalidInput(
            f"scopes must be some of {', '.join(sorted(TOKEN_SCOPES))}", field="scopes"
        )
    secret = new_api_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(secret),
        scopes=sorted(set(scopes)),
        expires_at=utcnow() + ttl if ttl else None,
    )
    db.add(token)
    db.flush()
    return token, secret


def token_for(db: Session, secret: str) -> ApiToken:
    """Return the live token behind a bearer secret, or raise."""
    token = db.scalars(_token_query(), {"hash": digest(secret)}).first()
    if token is None or token.revoked_at is not None:
        raise NotAuthenticated("the token is not valid")
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenExpired("the token has expired; create a new one")
    # Kept to the minute: a camera uploading every second would otherwise update its token's
    # row on every request, a write that tells the owner nothing a minute's precision does not.
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token


def revoke_token(db: Session, user: User, token_id: str) -> None:
    """Revoke one of the user's tokens."""
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("no such token")
    token.revoked_at = token.revoked_at or utcnow()


def delete_account(db: Session, user: User, password: str, keys: Keys) -> None:
    """Delete an account: its data key and clips are shredded, then every row goes by cascade."""
    if not verify_password(user.password_hash, password):
        raise InvalidInput("the password is wrong", field="password")
    shred_owner(db, keys, user.id)
    db.delete(user)
    db.flush()
