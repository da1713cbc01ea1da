"""The files of maps in the data folder: the base map archive and the demo's gazetteer.

Both are written whole to a temporary file beside the target and renamed over it, so a reader
never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from doorstep.maps.models import Place
from doorstep.platform.folders import private_folder
from doorstep.settings import Settings

#: The gazetteer the demo writes and the address search reads when no geocoder is configured.
GAZETTEER = Path("maps") / "gazetteer.json"
#: A gazetteer larger than this is not read (a demo one is a few hundred KiB).
GAZETTEER_MAX_BYTES = 32 * 1024 * 1024
#: The largest piece of the archive read in one go while it is served.
CHUNK = 256 * 1024


def archive_path(settings: Settings) -> Path:
    """Where the base map archive is (whether or not there is one)."""
    return settings.base_map_path


def gazetteer_path(settings: Settings) -> Path:
    """Where the gazetteer is (whether or not there is one)."""
    return settings.data_dir / GAZETTEER


def write_whole(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` at once: a reader sees the old file or the new one.

    As everything Doorstep writes in its data folder, the file is 0600 in a 0700 folder.
    """
    private_folder(path.parent)
    # mkstemp makes the file 0600.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def stat(path: Path) -> os.stat_result | None:
    """The file's size and times, or None when there is no regular file there."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found if path.is_file() else None


def read_at(path: Path, offset: int, length: int) -> bytes:
    """``length`` bytes of the file from ``offset`` (fewer at its end)."""
    with path.open("rb") as source:
        source.seek(offset)
        return source.read(length)


def iter_range(path: Path, start: int, end: int) -> Iterator[bytes]:
    """The bytes ``start`` to ``end`` (inclusive) of the file, a chunk at a time."""
    with path.open("rb") as source:
        source.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = source.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def write_gazetteer(settings: Settings, places: list[Place]) -> Path:
    """Write the gazetteer: every place as a label and a point."""
    body = {"places": [{"label": p.label, "lat": p.lat, "lon": p.lon} for p in places]}
    path = gazetteer_path(settings)
    write_whole(path, json.dumps(body, separators=(",", ":")).encode())
    return path


def read_gazetteer(path: Path) -> list[Place]:
    """The places of a gazetteer file; ValueError when it is not one."""
    found = stat(path)
    if found is None:
        raise FileNotFoundError(path)
    if found.st_size > GAZETTEER_MAX_BYTES:
        raise ValueError(f"it is over {GAZETTEER_MAX_BYTES // (1024 * 1024)} MiB")
    body = json.loads(path.read_bytes())
    if not isinstance(body, dict) or not isinstance(body.get("places"), list):
        raise ValueError('it is not {"places": [...]}')
    places = []
    for item in body["places"]:
        try:
            places.append(Place(str(item["label"]), float(item["lat"]), float(item["lon"])))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"a place is not a label, lat and lon: {item!r:.80}") from err
    return places
