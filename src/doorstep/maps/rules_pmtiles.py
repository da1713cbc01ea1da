"""Writing a PMTiles v3 archive: tiles by z/x/y in, the bytes of one file out.

The tile ids (a Hilbert curve per zoom), the directory and header encodings come from the
``pmtiles`` package, the format's reference implementation; Doorstep only lays the parts out.
A demo base map has a few hundred tiles, so the root directory always holds them all.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pmtiles.tile import (
    Compression,
    Entry,
    HeaderDict,
    TileType,
    serialize_directory,
    serialize_header,
    zxy_to_tileid,
)

from doorstep.maps.rules import HEADER_BYTES

#: The root directory and the header share the first 16 KiB, which readers fetch in one go.
ROOT_LIMIT = 16384 - HEADER_BYTES


@dataclass(frozen=True, slots=True)
class Extent:
    """Where an archive's tiles are: zooms, the west/south/east/north box and a centre."""

    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]
    centre: tuple[float, float]
    centre_zoom: int


def _e7(degrees: float) -> int:
    return round(degrees * 1e7)


def build_archive(
    tiles: Mapping[tuple[int, int, int], bytes], extent: Extent, metadata: dict[str, Any]
) -> bytes:
    """A whole PMTiles archive of vector ``tiles`` (uncompressed MVT, gzipped here)."""
    by_id = sorted((zxy_to_tileid(z, x, y), data) for (z, x, y), data in tiles.items())
    entries: list[Entry] = []
    offsets: dict[bytes, int] = {}
    blob = bytearray()
    for tile_id, data in by_id:
        packed = gzip.compress(data, mtime=0)
        offset = offsets.get(packed)
        last = entries[-1] if entries else None
        repeat = offset is not None and last is not None and last.offset == offset
        if repeat and last is not None and last.tile_id + last.run_length == tile_id:
            last.run_length += 1
            continue
        if offset is None:
            offset = offsets[packed] = len(blob)
            blob += packed
        entries.append(Entry(tile_id, offset, len(packed), 1))
    root = serialize_directory(entries)
    if len(root) > ROOT_LIMIT:
        raise ValueError(f"{len(entries)} tile entries do not fit a root directory")
    meta = gzip.compress(json.dumps(metadata, sort_keys=True).encode(), mtime=0)
    west, south, east, north = extent.bounds
    header: HeaderDict = {
        "version": 3,
        "root_offset": HEADER_BYTES,
        "root_length": len(root),
        "metadata_offset": HEADER_BYTES + len(root),
        "metadata_length": len(meta),
        "leaf_directory_offset": HEADER_BYTES + len(root) + len(meta),
        "leaf_directory_length": 0,
        "tile_data_offset": HEADER_BYTES + len(root) + len(meta),
        "tile_data_length": len(blob),
        "addressed_tiles_count": len(by_id),
        "tile_entries_count": len(entries),
        "tile_contents_count": len(offsets),
        "clustered": True,
        "internal_compression": Compression.GZIP,
        "tile_compression": Compression.GZIP,
        "tile_type": TileType.MVT,
        "min_zoom": extent.min_zoom,
        "max_zoom": extent.max_zoom,
        "min_lon_e7": _e7(west),
        "min_lat_e7": _e7(south),
        "max_lon_e7": _e7(east),
        "max_lat_e7": _e7(north),
        "center_zoom": extent.centre_zoom,
        "center_lon_e7": _e7(extent.centre[1]),
        "center_lat_e7": _e7(extent.centre[0]),
    }
    head: bytes = serialize_header(header)
    return head + root + meta + bytes(blob)
