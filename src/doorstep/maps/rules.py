"""The rules of maps: what an address query may be, how a PMTiles header reads, and tile maths.

Pure: bytes and numbers in, values out. The archive's header is read with the ``pmtiles``
package (the format's reference implementation) and its errors become ``NotAnArchive``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from pmtiles.tile import (
    Compression,
    MagicNumberNotFound,
    SpecVersionUnsupported,
    TileType,
    deserialize_header,
)

from doorstep.errors import InvalidInput

#: The longest address query accepted, in characters.
QUERY_MAX_CHARS = 200
#: The most places an address search answers with.
PLACES_LIMIT = 5
#: Every PMTiles v3 archive starts with a header of exactly this many bytes.
HEADER_BYTES = 127
#: Web Mercator stops short of the poles.
MAX_LATITUDE = 85.0511287798

#: Tile types a base map may hold, by the name BaseMap gives them.
TILE_TYPES = {TileType.MVT: "mvt", TileType.PNG: "png"}

_SPACES = re.compile(r"\s+")


def clean_query(text: str) -> str:
    """The query with its spaces tidied, or InvalidInput if it is empty, too long or not text."""
    if any(unicodedata.category(c) in {"Cc", "Cf", "Cs"} and not c.isspace() for c in text):
        raise InvalidInput("an address is plain text, without control characters", field="query")
    tidy = _SPACES.sub(" ", text).strip()
    if not tidy:
        raise InvalidInput("type an address, or click the map instead", field="query")
    if len(tidy) > QUERY_MAX_CHARS:
        raise InvalidInput(f"an address is at most {QUERY_MAX_CHARS} characters", field="query")
    return tidy


def words(text: str) -> list[str]:
    """The words of a label or query, lower-cased, for matching one against the other."""
    return re.findall(r"[^\W_]+", text.casefold())


def matches(query: list[str], label: list[str]) -> bool:
    """Whether every query word starts some word of the label ("12 ald" finds "1234 SE Alder")."""
    return all(any(word.startswith(part) for word in label) for part in query)


class NotAnArchive(ValueError):
    """The bytes are not a PMTiles v3 archive Doorstep can serve."""


@dataclass(frozen=True, slots=True)
class ArchiveHeader:
    """What a PMTiles v3 header says about its archive."""

    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]
    centre: tuple[float, float]
    tile_type: str
    internal_gzip: bool
    metadata_offset: int
    metadata_length: int


def parse_header(raw: bytes, size: int) -> ArchiveHeader:
    """Read a PMTiles v3 header from the first bytes of an archive of ``size`` bytes."""
    if len(raw) < HEADER_BYTES:
        raise NotAnArchive(f"{len(raw)} bytes is shorter than a PMTiles header")
    if raw[:7] != b"PMTiles":
        raise NotAnArchive("it does not start with 'PMTiles'")
    try:
        header = deserialize_header(raw[:HEADER_BYTES])
    except MagicNumberNotFound as err:
        raise NotAnArchive("it does not start with 'PMTiles'") from err
    except SpecVersionUnsupported as err:
        raise NotAnArchive(f"it is PMTiles version {raw[7]}; only version 3 is read") from err
    except ValueError as err:
        raise NotAnArchive(f"its header is damaged ({err})") from err
    tile_type = TILE_TYPES.get(header["tile_type"])
    if tile_type is None:
        raise NotAnArchive(f"it holds {header['tile_type'].name} tiles, not vector or PNG tiles")
    ends = (
        header["root_offset"] + header["root_length"],
        header["metadata_offset"] + header["metadata_length"],
        header["tile_data_offset"] + header["tile_data_length"],
    )
    if max(ends) > size or header["root_length"] == 0:
        raise NotAnArchive("it is cut short (its header points past its end)")
    if not 0 <= header["min_zoom"] <= header["max_zoom"] <= 30:
        raise NotAnArchive("its zoom levels are out of order")
    west, south = header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7
    east, north = header["max_lon_e7"] / 1e7, header["max_lat_e7"] / 1e7
    lat, lon = header["center_lat_e7"] / 1e7, header["center_lon_e7"] / 1e7
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise NotAnArchive("its bounds are not a box on the Earth")
    if not (south <= lat <= north and west <= lon <= east):
        lat, lon = (south + north) / 2, (west + east) / 2
    return ArchiveHeader(
        min_zoom=header["min_zoom"],
        max_zoom=header["max_zoom"],
        bounds=(west, south, east, north),
        centre=(lat, lon),
        tile_type=tile_type,
        internal_gzip=header["internal_compression"] is Compression.GZIP,
        metadata_offset=header["metadata_offset"],
        metadata_length=header["metadata_length"],
    )


def world_xy(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator: a point as fractions of the world square, x east and y south from 0 to 1."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    sin = math.sin(math.radians(lat))
    y = 0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)
    return (lon + 180.0) / 360.0, y


def tiles_over(bounds: tuple[float, float, float, float], zoom: int) -> Iterator[tuple[int, int]]:
    """The (x, y) of every tile at ``zoom`` that the west, south, east, north box touches."""
    west, south, east, north = bounds
    scale = 1 << zoom
    left, top = world_xy(west, north)
    right, bottom = world_xy(east, south)
    for x in range(int(left * scale), min(int(right * scale), scale - 1) + 1):
        for y in range(int(top * scale), min(int(bottom * scale), scale - 1) + 1):
            yield x, y
