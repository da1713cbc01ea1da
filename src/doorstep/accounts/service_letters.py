"""The words of accounts' email, written when the job runs (a link's secret exists only then)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from doorstep.accounts import service_email as email
from doorstep.accounts import store
from doorstep.accounts.rules import LINK_LIFETIME, LinkPurpose, LinkState, link_state
from doorstep.platform.mail import Letter
from doorstep.platform.types import utcnow
from doorstep.settings import Settings

_SIGN_OFF = "\n\n-- \nDoorstep at {base}\nYou get this because of your Doorstep account.\n"


def _lifetime(purpose: LinkPurpose) -> str:
    seconds = int(LINK_LIFETIME[purpose].total_seconds())
    return f"{seconds // 3600} hour" if seconds == 3600 else f"{seconds // 86400} days"


def _link_letter(db: Session, settings: Settings, master_key: bytes, link_id: str) -> Letter | None:
    link = email.link_or_none(db, link_id)
    # A link used, expired or gone before its job ran is not worth a mail.
    if link is None or link_state(link.expires_at, link.used_at, utcnow()) is not LinkState.GOOD:
        return None
    url = email.link_url(settings, master_key, link)
    base = email.base_url(settings)
    if link.purpose == LinkPurpose.VERIFY:
        text = (
            "Someone (we hope you) signed up to Doorstep with this address.\n\n"
            f"To confirm the address, open this link:\n\n  {url}\n\n"
            f"It works once, for {_lifetime(LinkPurpose.VERIFY)}. If it was not you, ignore this "
            "mail: nothing is sent to this address until it is confirmed."
        )
        return Letter(
            link.email, "Confirm your email for Doorstep", text + _SIGN_OFF.format(base=base)
        )
    text = (
        "Someone (we hope you) asked to reset the password of the Doorstep account with this "
        f"address.\n\nTo choose a new password, open this link:\n\n  {url}\n\n"
        f"It works once, for {_lifetime(LinkPurpose.RESET)}. Choosing a new password signs "
        "every other browser out and revokes the account's API tokens.\n\n"
        "If it was not you, ignore this mail: your password stays as it is."
    )
    return Letter(link.email, "Reset your Doorstep password", text + _SIGN_OFF.format(base=base))


def _account_texts(kind: str, at: str, base: str) -> tuple[str, str]:
    when = datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M UTC")
    if kind == email.NEW_SIGN_IN:
        return "New sign-in to your Doorstep account", (
            f"A browser that had not signed in to your account before signed in at {when}.\n\n"
            "If it was you, there is nothing to do. If not, reset your password at once:\n\n"
            f"  {base}/forgot\n\nA new password signs every other browser out."
        )
    if kind == email.PASSWORD_CHANGED:
        return "Your Doorstep password was changed", (
            f"The password of your Doorstep account was changed at {when}. Every other browser "
            "was signed out and the account's API tokens were revoked.\n\n"
            f"If it was not you, reset it at once:\n\n  {base}/forgot"
        )
    return "Someone tried to sign up with your address", (
        f"At {when} someone tried to open a Doorstep account with this address, which already "
        "has one; nothing was changed.\n\nIf it was you, sign in, or if you forgot your "
        f"password:\n\n  {base}/forgot"
    )


def account_letter(
    db: Session, settings: Settings, master_key: bytes, kind: str, subject_id: str, at: str
) -> Letter | None:
    """The mail of one ``ACCOUNT_MAIL`` job, or None when it should no longer go out."""
    if kind in (email.VERIFY, email.RESET):
        return _link_letter(db, settings, master_key, subject_id)
    user = store.find_user(db, subject_id)
    # Notices go only to an address its holder proved.
    if user is None or user.email_verified_at is None:
        return None
    base = email.base_url(settings)
    subject, text = _account_texts(kind, at, base)
    return Letter(user.email, subject, text + _SIGN_OFF.format(base=base))
