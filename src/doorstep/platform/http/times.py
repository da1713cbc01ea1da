"""Times on pages: shown in the viewer's own zone, and read from forms in the zone they were typed.

The server cannot know a browser's zone, so a page says every instant in UTC, inside a
``<time datetime="…Z">`` that ``static/js/times.js`` rewrites into the viewer's zone with the zone
named. A form with ``datetime-local`` inputs carries a hidden ``time_zone`` field that the same
script fills with the browser's IANA zone (it stays "UTC" without JavaScript), and the route reads
the inputs in that zone with :func:`local_instant`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup, escape

from doorstep.errors import InvalidInput

#: The longest IANA zone name is 32 characters ("America/Argentina/ComodRivadavia").
ZONE_MAX = 64
#: How each style of :func:`time_tag` prints in UTC; times.js prints the same fields in the
#: viewer's zone ("time" and the minute and second styles name the zone, a bare date does not).
_STYLES = {
    "minute": "%Y-%m-%d %H:%M UTC",
    "second": "%Y-%m-%d %H:%M:%S UTC",
    "time": "%H:%M:%S UTC",
    "date": "%Y-%m-%d",
}


#: The styles that print seconds; the others carry the instant to the minute.
_SECONDS = frozenset({"second", "time"})


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    # Doorstep stores aware UTC instants; a naive one (an old row, a string without zone) is UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def time_tag(value: datetime | str | None, style: str = "minute") -> Markup:
    """``<time datetime="…Z">2026-05-01 14:30 UTC</time>``, for times.js to show in local time."""
    if value is None:
        return Markup("")
    try:
        moment = _utc(value)
    except ValueError:
        # A stamp read back from a signed record is shown as it was written, never a 500.
        return escape(str(value))
    # The instant to the precision the style shows, and no finer: a page says no more than it
    # prints (two invitations made a second apart read the same, as their dates do).
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ" if style in _SECONDS else "%Y-%m-%dT%H:%MZ")
    text = moment.strftime(_STYLES[style])
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(
        stamp, style, escape(text)
    )


def zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone ``name`` a form was filled in; an unknown or malformed name is refused."""
    name = name.strip() or "UTC"
    if len(name) > ZONE_MAX:
        raise InvalidInput("the time zone is not one we know", field=field)
    try:
        return ZoneInfo(name)
    # ValueError: a name that is not a zone key at all ("../x", "a//b"); the rest: unknown zones.
    except (ZoneInfoNotFoundError, ValueError, OSError) as err:
        raise InvalidInput(
            f"the time zone {name!r} is not one we know; use an IANA name such as "
            "America/Los_Angeles, or UTC",
            field=field,
        ) from err


def local_instant(text: str, time_zone: str, field: str) -> datetime | None:
    """The UTC instant of a form's date and time, typed in ``time_zone``; None when left empty.

    A value that names its own offset ("2026-05-01T14:30Z", "…-07:00") keeps it: scripts and
    older forms send those.
    """
    if not text.strip():
        return None
    where = zone(time_zone)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise InvalidInput("give a date and time such as 2026-05-01T14:30", field=field) from err
    if value.tzinfo is None:
        value = value.replace(tzinfo=where)
    return value.astimezone(UTC)


def local_day(text: str, time_zone: str, field: str) -> datetime | None:
    """The UTC instant a date picked in ``time_zone`` begins (its local midnight); None if empty."""
    if not text.strip():
        return None
    where = zone(time_zone)
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as err:
        raise InvalidInput("use a date like 2026-11-23", field=field) from err
    return datetime.combine(day, time(), tzinfo=where).astimezone(UTC)


def required_instant(text: str, time_zone: str, field: str) -> datetime:
    """``local_instant`` for a field that must be filled in."""
    value = local_instant(text, time_zone, field)
    if value is None:
        raise InvalidInput("give a date and time such as 2026-11-23T14:30", field=field)
    return value
