"""How long an owner's clips are kept before they are crypto-shredded, and how they are read."""

from __future__ import annotations

from datetime import datetime, timedelta

from doorstep.errors import InvalidInput

#: The retention periods an owner may choose, in days.
RETENTION_CHOICES: tuple[int, ...] = (1, 3, 7, 14, 21, 30, 60, 90, 120, 180)
DEFAULT_RETENTION_DAYS = 30
#: An announced event (its time and labels, to alert once) is remembered no longer than the
#: shortest retention: it must not outlive the clips it speaks of.
EVENT_MEMORY = timedelta(days=min(RETENTION_CHOICES))
#: A page that reconnects is sent the events it missed from this far back at most ...
REPLAY_WINDOW = timedelta(minutes=10)
#: ... and no more than this many, the newest.
REPLAY_MAX = 100
#: How long a browser waits before it reconnects a lost event stream (the ``retry:`` field).
RECONNECT_MS = 3000
#: EU and UK owners keep clips at most this long (data minimisation).
EU_UK_MAX_DAYS = 30
#: ISO 3166-1 alpha-2 codes under the GDPR or the UK GDPR.
_EU_UK_CODES = (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB"
)
EU_UK_COUNTRIES = frozenset(_EU_UK_CODES.split())


def allowed_choices(country: str) -> tuple[int, ...]:
    """Return the retention periods an owner in ``country`` may choose."""
    if country.upper() in EU_UK_COUNTRIES:
        return tuple(days for days in RETENTION_CHOICES if days <= EU_UK_MAX_DAYS)
    return RETENTION_CHOICES


def check_retention(days: int, country: str) -> int:
    """Return ``days`` if an owner in ``country`` may choose it, or raise ``InvalidInput``."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidInput("retention is a whole number of days", field="retention_days")
    choices = allowed_choices(country)
    if days not in choices:
        listed = ", ".join(str(d) for d in choices)
        raise InvalidInput(f"choose a retention of {listed} days", field="retention_days")
    return days


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must carry a time zone", field=name)
    return value


def expires_at(recorded_at: datetime, days: int) -> datetime:
    """Return the moment a clip recorded at ``recorded_at`` must be shredded."""
    if days not in RETENTION_CHOICES:
        raise InvalidInput(f"{days} is not a retention choice", field="retention_days")
    return _aware(recorded_at, "recorded_at") + timedelta(days=days)


def is_expired(recorded_at: datetime, days: int, now: datetime) -> bool:
    """Return whether a clip is past its retention at ``now``."""
    return _aware(now, "now") >= expires_at(recorded_at, days)
