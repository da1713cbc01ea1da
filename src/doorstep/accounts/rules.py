"""Password strength rules, applied at sign-up and password change."""

from __future__ import annotations

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
