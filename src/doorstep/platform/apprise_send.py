"""Notices to Apprise URLs (ntfy, Gotify, Matrix, json:// ...), with Apprise's errors made ours."""

from __future__ import annotations

import functools
import warnings
from urllib.parse import urlsplit

import apprise

from doorstep.errors import InvalidInput, Unavailable


@functools.cache
def _load_plugins() -> None:
    # Apprise loads its plugins on first use, and its email plugin imports the standard
    # library's deprecated ``imghdr``: the warning is Apprise's to fix, not ours to raise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        apprise.Apprise.instantiate("json://localhost")


def check_url(url: str) -> str:
    """The URL trimmed, if Apprise knows its kind; ``InvalidInput`` otherwise."""
    _load_plugins()
    url = url.strip()
    if apprise.Apprise.instantiate(url) is None:
        raise InvalidInput(
            "not an Apprise URL Doorstep can send to (ntfy://, gotify://, json:// ...)", field="url"
        )
    return url


def masked(url: str) -> str:
    """What a page may show of the URL: its kind and host, nothing that could be a secret."""
    parts = urlsplit(url)
    try:
        host, number = parts.hostname or "", parts.port
    except ValueError:  # Telegram's "id:key" token is no port.
        host, number = "", None
    # Many kinds put a token where the host goes (ntfy's topic, Slack's, Telegram's): only a
    # name with a dot, an IP address or localhost is shown.
    if "." not in host and ":" not in host and host != "localhost":
        host, number = "", None
    port = f":{number}" if number else ""
    return f"{parts.scheme}://{host}{port}/…"[:200]


def send(url: str, *, title: str, body: str) -> None:
    """Deliver one notice; ``Unavailable`` when the target did not take it (the job retries)."""
    _load_plugins()
    sender = apprise.Apprise()
    if not sender.add(url):
        raise InvalidInput("not an Apprise URL Doorstep can send to", field="url")
    try:
        delivered = sender.notify(title=title, body=body)
    except Exception as err:  # Apprise's plugins raise their own libraries' errors.
        raise Unavailable(f"the notification target failed: {type(err).__name__}") from err
    if not delivered:
        raise Unavailable("the notification target did not take the notice")
