"""Accounts repository: sign-up, login within the throttles, sessions, API tokens, deletion."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from doorstep.accounts import throttle_store as throttles
from doorstep.accounts.models import ApiToken, BrowserSession, KnownAddress, User
from doorstep.accounts.roles import Role
from doorstep.accounts.rules import MAX_EMAIL, MAX_NAME, check_password
from doorstep.accounts.throttle_rules import (
    KNOWN_ADDRESS_DAYS,
    KNOWN_ADDRESSES_PER_ACCOUNT,
    Limits,
    device_proof,
    known_address_key,
    source_key,
)
from doorstep.cameras.models import Camera, PairingCode
from doorstep.clips.store import shred_owner
from doorstep.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TokenExpired,
)
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.platform.keys import Keys
from doorstep.platform.security import (
    digest,
    hash_password,
    needs_rehash,
    new_api_token,
    new_secret,
    same,
    verify_password,
)
from doorstep.platform.types import utcnow

#: Stand in for the account of an email that has none, so both take the same steps.
_NO_ACCOUNT = ""
_NEVER = datetime(2000, 1, 1, tzinfo=UTC)

#: What an API token may be allowed to do.
#: How stale a token's ``last_used_at`` may be before a request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_SCOPES = frozenset({"account:read", "device", "clips:read", "clips:write", "feed:write"})


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


@dataclass(frozen=True, slots=True)
class SignIn:
    """Where a login attempt comes from, as the throttles see it."""

    #: The key of the throttle counters' hashes and of known-device proofs.
    secret: bytes
    #: The client address (``domain.throttle.client_source``).
    address: str
    #: From the known-device cookie, when the browser sent one as Doorstep sets it
    #: (``domain.throttle.parse_device_cookie``).
    device_id: str | None = None
    device_proof: str | None = None

    def from_device_of(self, user: User | None) -> bool:
        """Whether this browser signed in to ``user`` since its password last changed.

        An email without an account takes the same steps and is never known.
        """
        account_id = user.id if user else _NO_ACCOUNT
        changed = user.password_changed_at if user else _NEVER
        expected = device_proof(self.secret, self.device_id or "", account_id, changed)
        return same(self.device_proof or "", expected) and bool(self.device_id) and bool(user)

    def from_address_of(self, db: Session, user: User | None, now: datetime) -> bool:
        """Whether this client address signed in to ``user`` lately (``remember_address``)."""
        key = known_address_key(self.secret, user.id if user else _NO_ACCOUNT, self.address)
        seen = db.scalar(select(KnownAddress.last_seen_at).where(KnownAddress.key == key))
        return seen is not None and now - seen < timedelta(days=KNOWN_ADDRESS_DAYS) and bool(user)


def remember_address(db: Session, origin: SignIn, user: User) -> None:
    """Keep the caller's address as one that signed in to ``user``; the account keeps a few."""
    now = utcnow()
    key = known_address_key(origin.secret, user.id, origin.address)
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(
        insert(KnownAddress)
        .values(key=key, user_id=user.id, last_seen_at=now)
        .on_conflict_do_update(index_elements=["key"], set_={"last_seen_at": now})
    )
    oldest = (
        select(KnownAddress.key)
        .where(KnownAddress.user_id == user.id)
        .order_by(KnownAddress.last_seen_at.desc(), KnownAddress.key)
        .offset(KNOWN_ADDRESSES_PER_ACCOUNT)
    )
    forgotten = list(db.scalars(oldest))
    if forgotten:
        db.execute(
            delete(KnownAddress)
            .where(KnownAddress.key.in_(forgotten))
            .execution_options(synchronize_session=False)
        )


def forget_stale_addresses(db: Session, now: datetime) -> int:
    """Remove known addresses unused for ``KNOWN_ADDRESS_DAYS``."""
    result = db.execute(
        delete(KnownAddress).where(
            KnownAddress.last_seen_at < now - timedelta(days=KNOWN_ADDRESS_DAYS)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def authenticate(db: Session, email: str, password: str, origin: SignIn, limits: Limits) -> User:
    """Return the account for a correct email and password, within the sign-in throttles.

    A device that signed in to the account before counts only its own failures: nobody else's
    can hold it up. Any other attempt counts against its client address (a hard limit only its
    own address feels) and, unless that address signed in to the account before, against the
    email (short growing waits, never a lockout). An email without an account takes the same
    steps as one with: the answers and the counting cannot tell them apart.
    """
    try:
        email = normalise_email(email)
    except InvalidInput:
        email = ""
    user = db.scalar(select(User).where(User.email == email)) if email else None
    now = utcnow()
    known_device = origin.from_device_of(user)
    known_address = origin.from_address_of(db, user, now)
    account = source_key(origin.secret, "sign-in-account", email)
    if known_device:
        source = source_key(origin.secret, "sign-in-device", origin.device_id or "")
        throttles.take(
            db, source, limits.sign_in_source, now, "too many failed logins from this device"
        )
    else:
        source = source_key(origin.secret, "sign-in-address", origin.address)
        # The address first: an attempt it refuses must not count against the email (only
        # against the caller's own address, should the caller keep what was counted).
        throttles.take(
            db, source, limits.sign_in_source, now, "too many failed logins from this address"
        )
        if email and not known_address:
            throttles.take(
                db, account, limits.sign_in_account, now, "too many failed logins for this email"
            )
    # Counted before the password is checked, and kept: parallel guesses all count, and a
    # failure stays counted though the request fails.
    db.commit()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise NotAuthenticated("wrong email or password")
    throttles.give_back(db, source)
    throttles.clear(db, account)
    remember_address(db, origin, user)
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


def change_password(db: Session, user: User, current: str, new: str, origin: SignIn) -> None:
    """Change a password after checking the current one; whoever held the old one is cut off.

    Every session ends, every API token the account made is revoked, and unused pairing codes
    go: a code made with the old password must not pair an agent afterwards. Cameras stay
    paired: a device token works only on its own camera's device routes, and pairing again
    (with a new code) revokes it. Known devices and addresses are forgotten (device cookies
    name the time of the change), but for ``origin``'s address, where the owner is now: the
    caller sets its device cookie again.
    """
    if not verify_password(user.password_hash, current):
        raise InvalidInput("the current password is wrong", field="current_password")
    replace_password(db, user, new, origin)


def replace_password(db: Session, user: User, new: str, origin: SignIn) -> None:
    """Set a new password and cut off whoever held the old one (see ``change_password``)."""
    check_password(new, email=user.email, display_name=user.display_name)
    now = utcnow()
    user.password_hash = hash_password(new)
    user.password_changed_at = now
    db.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))
    for token in user.tokens:
        if token.camera_id is None:
            token.revoked_at = token.revoked_at or now
    cameras = select(Camera.id).where(Camera.owner_id == user.id)
    db.execute(delete(PairingCode).where(PairingCode.camera_id.in_(cameras)))
    db.execute(delete(KnownAddress).where(KnownAddress.user_id == user.id))
    remember_address(db, origin, user)


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


# --- looked up and added by the demo -------------------------------------------------------------


def find_user(db: Session, user_id: str) -> User | None:
    """An account by id, or None."""
    return db.get(User, user_id)


def user_by_email(db: Session, email: str) -> User | None:
    """The account whose stored email is exactly ``email``, or None."""
    return db.scalar(select(User).where(User.email == email))


def count_by_email_suffix(db: Session, suffix: str) -> int:
    """How many accounts have an email ending in ``suffix``."""
    query = select(func.count()).select_from(User).where(User.email.like(f"%{suffix}"))
    return int(db.scalar(query) or 0)


def add_users(db: Session, users: Sequence[User]) -> list[User]:
    """Store accounts made in one go, as they are (their passwords already hashed)."""
    db.add_all(users)
    db.flush()
    return list(users)
