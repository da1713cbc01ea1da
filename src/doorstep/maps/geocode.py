"""Address search behind one interface: the data folder's gazetteer, or a Nominatim service.

A query is never logged here: it is where someone lives, or where they look.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, Protocol

import httpx

from doorstep import __version__
from doorstep.errors import Unavailable
from doorstep.maps import store
from doorstep.maps.models import Place
from doorstep.maps.rules import PLACES_LIMIT, QUERY_MAX_CHARS, matches, words

log = logging.getLogger(__name__)

#: What a caller is told when no search can answer; the map still takes a click.
UNAVAILABLE = "Address search is unavailable; click the map instead"
#: How long a Nominatim service may take: someone is waiting at the form.
TIMEOUT_SECONDS = 5.0
#: The most of a Nominatim answer read (five places are a few KiB).
MAX_ANSWER_BYTES = 256 * 1024


class Geocoder(Protocol):
    """Finds places by address."""

    def search(self, query: str) -> list[Place]:
        """At most five places matching ``query``, best first; Unavailable when it cannot."""
        ...


class Gazetteer:
    """A list of places in a JSON file, searched by words: every word must start a word."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded: tuple[int, int, list[tuple[list[str], Place]]] | None = None

    def _places(self) -> list[tuple[list[str], Place]]:
        found = store.stat(self.path)
        if found is None:
            raise Unavailable(UNAVAILABLE)
        stamp = (found.st_mtime_ns, found.st_size)
        if self._loaded is None or self._loaded[:2] != stamp:
            try:
                places = store.read_gazetteer(self.path)
            except (OSError, ValueError) as err:
                log.warning("the gazetteer %s cannot be read: %s", self.path, err)
                raise Unavailable(UNAVAILABLE) from err
            self._loaded = (*stamp, [(words(place.label), place) for place in places])
        return self._loaded[2]

    def search(self, query: str) -> list[Place]:
        """Places whose label has every word of the query, the shortest labels first."""
        wanted = words(query)
        found = [place for label, place in self._places() if matches(wanted, label)]
        found.sort(key=lambda place: (len(place.label), place.label))
        return found[:PLACES_LIMIT]


class Nominatim:
    """A Nominatim-compatible service: ``GET {url}/search?q=...&format=jsonv2&limit=5``."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/") + "/search"
        self.timeout = timeout
        # Nominatim's usage policy asks every application to name itself.
        self.headers = {
            "user-agent": f"Doorstep/{__version__} (self-hosted doorbell platform)",
            "accept": "application/json",
        }

    def search(self, query: str) -> list[Place]:
        """The service's places for ``query``; Unavailable when it fails or answers nonsense."""
        params = {"q": query, "format": "jsonv2", "limit": str(PLACES_LIMIT)}
        try:
            with httpx.stream(
                "GET",
                self.url,
                params=params,
                headers=self.headers,
                timeout=self.timeout,
                follow_redirects=False,
            ) as response:
                response.raise_for_status()
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise ValueError("the answer is too long")
        except (httpx.HTTPError, ValueError) as err:
            # The error's text may hold the URL, and the URL the query: name its kind only, and
            # chain nothing to the 503 (whose log line would print the cause).
            log.warning("address search failed: %s", type(err).__name__)
            raise Unavailable(UNAVAILABLE) from None
        return _places(bytes(body))


def _places(body: bytes) -> list[Place]:
    try:
        answer: Any = json.loads(body)
    except ValueError:
        log.warning("address search answered with something other than JSON")
        raise Unavailable(UNAVAILABLE) from None
    if not isinstance(answer, list):
        log.warning("address search answered with something other than a list of places")
        raise Unavailable(UNAVAILABLE)
    places: list[Place] = []
    for item in answer[:PLACES_LIMIT]:
        try:
            label = str(item["display_name"]).strip()
            lat, lon = float(item["lat"]), float(item["lon"])
        except (KeyError, TypeError, ValueError):
            continue
        on_earth = math.isfinite(lat + lon) and abs(lat) <= 90 and abs(lon) <= 180
        if label and on_earth:
            places.append(Place(label[:QUERY_MAX_CHARS], lat, lon))
    return places
