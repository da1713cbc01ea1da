"""Accounts' email: verifying the address, resetting a forgotten password, sign-in notices.

Mail goes out as a background job after the commit (``ACCOUNT_MAIL``), never while a request
waits. A link's secret is never stored nor put on the queue: the job makes it again from the
link's id with the master key, and only its SHA-256 is kept. Links are built on the configured
``public_url`` (else the listening address), never on the request's Host header, which the
caller controls.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session

from doorstep.accounts import _store_email as links
from doorstep.accounts import store, throttling
from doorstep.accounts.models import EmailLink, User
from doorstep.accounts.rules import (
    LINK_LIFETIME,
    LinkPurpose,
    LinkState,
    link_state,
    tell_new_sign_in,
)
from doorstep.accounts.store import SignIn
from doorstep.accounts.throttle_rules import source_key
from doorstep.errors import InvalidInput, NotFound
from doorstep.platform import mail
from doorstep.platform.http.state import AppState
from doorstep.platform.queue.core import send_after_commit
from doorstep.platform.sealed import derived_secret
from doorstep.platform.security import new_secret
from doorstep.platform.types import new_id, utcnow
from doorstep.settings import Settings

log = logging.getLogger(__name__)

#: The background task that writes and sends one account email.
ACCOUNT_MAIL = "account_mail"
#: The purpose the links' secrets are derived for (``platform.sealed.derived_secret``).
LINK_SECRETS = "email-link/v1"
#: The kinds of account email.
VERIFY, RESET, TAKEN, NEW_SIGN_IN, PASSWORD_CHANGED = (
    "verify",
    "reset",
    "taken",
    "new-sign-in",
    "password-changed",
)


def email_on(settings: Settings) -> bool:
    """Whether this Doorstep sends email (``DOORSTEP_SMTP_HOST`` is set)."""
    return mail.enabled(settings)


def base_url(settings: Settings) -> str:
    """Where links in mail point: the public URL, else the address the server listens on."""
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


def _mail_later(db: Session, settings: Settings, kind: str, subject_id: str) -> None:
    if email_on(settings):
        send_after_commit(db, ACCOUNT_MAIL, kind, subject_id, utcnow().isoformat())


def _new_link(db: Session, master_key: bytes, user: User, purpose: LinkPurpose) -> EmailLink | None:
    link_id = new_id()
    now = utcnow()
    return links.add_link(
        db,
        user,
        purpose,
        link_id=link_id,
        secret=derived_secret(master_key, LINK_SECRETS, link_id),
        now=now,
        expires_at=now + LINK_LIFETIME[purpose],
    )


def send_verification(db: Session, state: AppState, user: User) -> bool:
    """Mail a link that proves the account's address; False when none goes (off, or too many)."""
    if not email_on(state.settings) or user.email_verified_at is not None:
        return False
    link = _new_link(db, state.master_key, user, LinkPurpose.VERIFY)
    if link is None:
        return False
    _mail_later(db, state.settings, VERIFY, link.id)
    return True


def after_sign_up(db: Session, state: AppState, made: User) -> None:
    """Mail the new account its verification link; a taken address's holder a heads-up instead.

    Both are jobs after the commit, so the answer to the sign-up is the same either way.
    """
    holder = store.user_by_email(db, made.email)
    if holder is not None and holder.id == made.id:
        send_verification(db, state, holder)
    elif holder is not None and holder.email_verified_at is not None:
        _mail_later(db, state.settings, TAKEN, holder.id)


def verification_link_state(db: Session, secret: str) -> LinkState:
    """Whether a verification link may still be used; opening it proves nothing yet.

    Mail scanners and link previews open links by themselves: only the page's button, a POST,
    confirms the address (``follow_verification``).
    """
    link = links.link_by_secret(db, LinkPurpose.VERIFY, secret)
    return link_state(link.expires_at, link.used_at, utcnow())


def follow_verification(db: Session, secret: str) -> LinkState:
    """Follow a verification link: the address is proven, once; used or expired links refuse."""
    link = links.lock_link(db, links.link_by_secret(db, LinkPurpose.VERIFY, secret))
    now = utcnow()
    state = link_state(link.expires_at, link.used_at, now)
    if state is LinkState.GOOD:
        link.used_at = now
        user = store.find_user(db, link.user_id)
        if user is not None and user.email == link.email:
            user.email_verified_at = user.email_verified_at or now
    return state


# --- forgotten passwords ------------------------------------------------------------------------


def forgot_password(db: Session, request: Request, state: AppState, email: str) -> None:
    """Mail a reset link if ``email`` has an account; the caller learns nothing either way.

    The same steps and the same answer with or without an account: the link's row and the
    job are all that differ, and both happen out of the caller's sight. An account has at
    most ``MAX_OPEN_LINKS`` reset links out; past that nothing more is sent, quietly.
    """
    throttling.count_forgot(db, request, state)
    if not email_on(state.settings):
        return
    try:
        address = store.normalise_email(email)
    except InvalidInput:
        return
    user = store.user_by_email(db, address)
    if user is None:
        return
    link = _new_link(db, state.master_key, user, LinkPurpose.RESET)
    if link is not None:
        _mail_later(db, state.settings, RESET, link.id)


def reset_link_state(db: Session, secret: str) -> LinkState:
    """Whether a reset link may still be used (the form is shown only for a good one)."""
    link = links.link_by_secret(db, LinkPurpose.RESET, secret)
    return link_state(link.expires_at, link.used_at, utcnow())


def reset_password(
    db: Session, request: Request, state: AppState, secret: str, new_password: str
) -> tuple[User, SignIn]:
    """Set a new password by a reset link, once; every session and API token is cut off.

    Following the link proves the address, so the account counts as verified too. This
    browser counts as one the account has seen; ``service.reset_password`` signs it in.
    """
    link = links.lock_link(db, links.link_by_secret(db, LinkPurpose.RESET, secret))
    now = utcnow()
    refused = link_state(link.expires_at, link.used_at, now)
    if refused is LinkState.USED:
        raise InvalidInput("this reset link was used already; ask for a new one", field="link")
    if refused is LinkState.EXPIRED:
        raise InvalidInput("this reset link has expired; ask for a new one", field="link")
    user = store.find_user(db, link.user_id)
    if user is None:
        raise NotFound("this link is not one Doorstep sent")
    origin = throttling.sign_in_origin(request, state)
    store.replace_password(db, user, new_password, origin)
    links.close_links(db, user, LinkPurpose.RESET, now)
    if user.email == link.email:
        user.email_verified_at = user.email_verified_at or now
    origin = _remember_browser(db, state, user, origin, now)
    _mail_later(db, state.settings, PASSWORD_CHANGED, user.id)
    return user, origin


# --- sign-in notices ----------------------------------------------------------------------------


def _remember_browser(
    db: Session, state: AppState, user: User, origin: SignIn, now: datetime
) -> SignIn:
    device_id = origin.device_id or new_secret(16)
    key = source_key(state.throttle_secret, "seen-browser", f"{user.id}\x00{device_id}")
    links.remember_browser(db, user, key, now)
    return replace(origin, device_id=device_id)


def after_sign_in(db: Session, state: AppState, user: User, origin: SignIn) -> SignIn:
    """Mail "new sign-in" when a browser the account has not seen signs in with the password.

    A browser is known by its device cookie only (a random id, kept as a keyed hash with the
    account): the mail names no address, no place and no browser, only the time. The
    account's first browser ever gets no mail, and only a proven address gets any. Returns
    the origin with the device id the browser's cookie is to carry.
    """
    key = source_key(state.throttle_secret, "seen-browser", f"{user.id}\x00{origin.device_id}")
    seen = origin.device_id is not None and links.browser_seen(db, key)
    if user.email_verified_at is not None and tell_new_sign_in(
        seen_before=seen, account_has_seen_any=links.has_seen_any(db, user)
    ):
        _mail_later(db, state.settings, NEW_SIGN_IN, user.id)
    return _remember_browser(db, state, user, origin, utcnow())


def after_password_change(db: Session, state: AppState, user: User) -> None:
    """Tell a proven address its password changed; reset links still out stop working.

    A reset link read by someone else must not outlive the new password chosen against them.
    """
    links.close_links(db, user, LinkPurpose.RESET, utcnow())
    if user.email_verified_at is not None:
        _mail_later(db, state.settings, PASSWORD_CHANGED, user.id)


def verification_state(user: User) -> str:
    """How the account page names the address's state."""
    return "verified" if user.email_verified_at is not None else "unverified"


def link_or_none(db: Session, link_id: str) -> EmailLink | None:
    """A mailed link by id, for the mail job."""
    return links.find_link(db, link_id)


def link_url(settings: Settings, master_key: bytes, link: EmailLink) -> str:
    """The link as mailed, its secret made again from its id."""
    secret = derived_secret(master_key, LINK_SECRETS, link.id)
    path = "verify" if link.purpose == LinkPurpose.VERIFY else "reset"
    return f"{base_url(settings)}/{path}/{secret}"
