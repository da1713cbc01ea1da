"""Maps as the rest of Doorstep uses them: the base map, serving it, and address search."""

from __future__ import annotations

import gzip
import html
import io
import json
import logging
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from doorstep.accounts import throttling
from doorstep.errors import NotFound, Unavailable
from doorstep.maps import service_basemap, store
from doorstep.maps.geocode import UNAVAILABLE, Gazetteer, Geocoder, Nominatim
from doorstep.maps.models import BaseMap, Place, StreetPlan
from doorstep.maps.rules import HEADER_BYTES, ArchiveHeader, NotAnArchive, clean_query, parse_header
from doorstep.platform.http.deps import check_anonymous_csrf, resolve_principal
from doorstep.platform.http.state import AppState
from doorstep.settings import Settings

log = logging.getLogger(__name__)

#: Metadata larger than this is not read for the attribution.
MAX_METADATA_BYTES = 1024 * 1024
_TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Archive:
    """The base map file as it is served: where, how big, and its validators."""

    path: Path
    size: int
    etag: str
    modified: float


_lock = threading.Lock()
#: path -> (mtime_ns, size, what it holds or why not), read again when the file changes.
_headers: dict[Path, tuple[int, int, tuple[ArchiveHeader, str] | str]] = {}
_gazetteers: dict[Path, Gazetteer] = {}


def _attribution(path: Path, header: ArchiveHeader) -> str:
    """The archive's attribution as plain text (Protomaps builds give HTML links)."""
    if not 0 < header.metadata_length <= MAX_METADATA_BYTES:
        return ""
    raw = store.read_at(path, header.metadata_offset, header.metadata_length)
    try:
        if header.internal_gzip:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as packed:
                raw = packed.read(MAX_METADATA_BYTES + 1)
        metadata = json.loads(raw)
    except (OSError, EOFError, ValueError, zlib.error):
        return ""
    given = metadata.get("attribution") if isinstance(metadata, dict) else None
    if not isinstance(given, str):
        return ""
    return " ".join(html.unescape(_TAGS.sub("", given)).split())[:300]


def _read(path: Path) -> tuple[ArchiveHeader, str] | str:
    """The archive's header and attribution, or why it cannot be served."""
    found = store.stat(path)
    if found is None:
        return "there is no base map"
    key = (found.st_mtime_ns, found.st_size)
    with _lock:
        cached = _headers.get(path)
    if cached is not None and cached[:2] == key:
        return cached[2]
    result: tuple[ArchiveHeader, str] | str
    try:
        header = parse_header(store.read_at(path, 0, HEADER_BYTES), found.st_size)
        result = (header, _attribution(path, header))
    except NotAnArchive as err:
        log.warning("the base map %s is not served: %s", path, err)
        result = f"the base map is not a PMTiles archive Doorstep can serve: {err}"
    except OSError as err:
        log.warning("the base map %s cannot be read: %s", path, err.strerror or err)
        result = "the base map cannot be read"
    with _lock:
        _headers[path] = (*key, result)
    return result


def base_map(settings: Settings) -> BaseMap | None:
    """The base map pages draw under their maps, or None when there is none (or it is broken)."""
    found = _read(store.archive_path(settings))
    if isinstance(found, str):
        return None
    header, attribution = found
    return BaseMap(
        min_zoom=header.min_zoom,
        max_zoom=header.max_zoom,
        bounds=header.bounds,
        centre=header.centre,
        tile_type=header.tile_type,
        attribution=attribution,
    )


def archive(settings: Settings) -> Archive:
    """The base map file to serve; NotFound when there is none or it is not one."""
    path = store.archive_path(settings)
    found = _read(path)
    if isinstance(found, str):
        raise NotFound(found)
    current = store.stat(path)
    if current is None:
        raise NotFound("there is no base map")
    etag = f'"{current.st_mtime_ns:x}-{current.st_size:x}"'
    return Archive(path, current.st_size, etag, current.st_mtime)


def archive_bytes(found: Archive, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start`` to ``end`` of the archive, as they are streamed."""
    return store.iter_range(found.path, start, end)


def write_base_map(settings: Settings, plan: StreetPlan) -> Path:
    """Draw ``plan`` as the base map archive (the demo's own streets)."""
    path = store.archive_path(settings)
    store.write_whole(path, service_basemap.build(plan))
    return path


def write_gazetteer(settings: Settings, places: list[Place]) -> Path:
    """Write the gazetteer address search reads when no geocoder is configured."""
    return store.write_gazetteer(settings, places)


def geocoder(settings: Settings) -> Geocoder | None:
    """The configured address search: Nominatim, else the data folder's gazetteer, else none."""
    if settings.geocoder_url:
        return Nominatim(settings.geocoder_url)
    path = store.gazetteer_path(settings)
    if store.stat(path) is None:
        return None
    with _lock:
        return _gazetteers.setdefault(path, Gazetteer(path))


def search_places(settings: Settings, query: str) -> list[Place]:
    """At most five places for an address; InvalidInput for a bad query, Unavailable if none."""
    text = clean_query(query)
    found = geocoder(settings)
    if found is None:
        raise Unavailable(UNAVAILABLE)
    return found.search(text)


def admit_search(request: Request, state: AppState, csrf: str | None) -> None:
    """Let an address search through: its CSRF token, then the per-address throttle (429).

    A signed-in browser sends its session's token, a signed-out one the double-submit cookie's
    (the sign-up form's); a script's bearer token needs none.
    """
    with state.db.session() as db:
        if resolve_principal(request, csrf, db) is None:
            check_anonymous_csrf(request, csrf)
        throttling.count_place_search(db, request, state)
