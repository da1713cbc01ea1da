"""Password strength, and the rules of mailed links and sign-in notices."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256
#: The longest email address an account may have (RFC 5321's limit).
MAX_EMAIL = 254
#: The longest display name, or API token name.
MAX_NAME = 80

# The most common passwords in public breach corpora, lower-cased; anything in here is refused.
_COMMON = frozenset(
    """
    password password1 password12 password123 password1234 passw0rd 123456789 1234567890
    12345678910 qwertyuiop qwerty12345 qwerty123456 1q2w3e4r5t 1qaz2wsx3edc iloveyou12
    letmein123 welcome123 administrator changeme123 football123 baseball123 abc1234567
    sunshine123 princess123 dragon1234 monkey1234 trustno1234 doorstep123 doorbell123
    """.split()
)


def check_password(password: str, *, email: str = "", display_name: str = "") -> None:
    """Raise ``InvalidInput`` naming what is wrong with a password; return if it is strong."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"use at least {MIN_LENGTH} characters", field="password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"use at most {MAX_LENGTH} characters", field="password")
    lowered = password.lower()
    if lowered in _COMMON:
        raise InvalidInput("that password is one of the most commonly used", field="password")
    if len(set(password)) < 4:
        raise InvalidInput("use more different characters", field="password")
    personal = {email.split("@")[0].lower(), display_name.lower().replace(" ", "")}
    if any(len(word) >= 4 and word in lowered for word in personal):
        raise InvalidInput("don't use your email or name in the password", field="password")


class LinkPurpose(StrEnum):
    """What a mailed link does when followed."""

    VERIFY = "verify"
    RESET = "reset"


#: How long a mailed link works: a reset link briefly (it is a key to the account).
LINK_LIFETIME = {LinkPurpose.VERIFY: timedelta(days=2), LinkPurpose.RESET: timedelta(hours=1)}
#: Unused links of one kind an account may have out at once; more are quietly not sent, so
#: nobody can fill a stranger's inbox from the forgot-password page.
MAX_OPEN_LINKS = 3
#: Browsers an account remembers for "new sign-in" mail; the least recent go first.
MAX_SEEN_BROWSERS = 50
#: Apprise targets one account may add, and the longest URL.
MAX_NOTICE_TARGETS = 10
MAX_TARGET_URL = 2000


class LinkState(StrEnum):
    """Whether a mailed link may still be followed."""

    GOOD = "good"
    USED = "used"
    EXPIRED = "expired"


def link_state(expires_at: datetime, used_at: datetime | None, now: datetime) -> LinkState:
    """A link works once, before it expires."""
    if used_at is not None:
        return LinkState.USED
    if now >= expires_at:
        return LinkState.EXPIRED
    return LinkState.GOOD


def tell_new_sign_in(*, seen_before: bool, account_has_seen_any: bool) -> bool:
    """Mail "new sign-in" for a browser the account has not seen, but not for its very first.

    The first browser ever is the one the account was made for: mailing it would only teach
    people to ignore the notice.
    """
    return not seen_before and account_has_seen_any
