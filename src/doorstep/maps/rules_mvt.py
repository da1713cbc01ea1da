"""A Mapbox Vector Tile (version 2.1) encoder for the few shapes a base map needs.

Points, lines and polygons already in tile coordinates (integers, 0..extent, y down) go in;
the protobuf bytes of one tile come out. The protobuf wire format is written by hand: four
message types (Tile, Layer, Feature, Value) with a handful of fields each are less code than a
generated module and a protobuf runtime would be.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

#: The grid of a tile's coordinates, as Protomaps' own tiles use.
EXTENT = 4096

Point = tuple[int, int]
Value = str | int | float | bool


class GeomType(IntEnum):
    """A feature's geometry type, as the MVT specification numbers them."""

    POINT = 1
    LINE = 2
    POLYGON = 3


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature: for a polygon, ``parts`` is its outer ring and then its holes (unclosed)."""

    geom_type: GeomType
    parts: Sequence[Sequence[Point]]
    properties: Mapping[str, Value] = field(default_factory=dict)


_VARINT, _FIXED64, _BYTES = 0, 1, 2
_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _bytes(number: int, payload: bytes) -> bytes:
    return _key(number, _BYTES) + _varint(len(payload)) + payload


def _uint(number: int, value: int) -> bytes:
    return _key(number, _VARINT) + _varint(value)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _command(command: int, count: int) -> int:
    return (command & 0x7) | (count << 3)


def _distinct(points: Sequence[Point]) -> list[Point]:
    """The points without repeats in a row (a repeated point is a zero-length segment)."""
    kept: list[Point] = []
    for point in points:
        if not kept or kept[-1] != point:
            kept.append(point)
    return kept


def _signed_area(ring: Sequence[Point]) -> int:
    return sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, [*ring[1:], ring[0]], strict=True)
    )


def _geometry(feature: Feature) -> list[int]:
    """The command stream of a feature; empty when nothing drawable is left."""
    commands: list[int] = []
    cursor = (0, 0)

    def moves(points: Sequence[Point], command: int) -> None:
        nonlocal cursor
        commands.append(_command(command, len(points)))
        for x, y in points:
            commands.extend((_zigzag(x - cursor[0]), _zigzag(y - cursor[1])))
            cursor = (x, y)

    if feature.geom_type is GeomType.POINT:
        points = [point for part in feature.parts for point in part]
        if points:
            moves(points, _MOVE_TO)
        return commands
    for index, part in enumerate(feature.parts):
        points = _distinct(part)
        if feature.geom_type is GeomType.LINE:
            if len(points) >= 2:
                moves(points[:1], _MOVE_TO)
                moves(points[1:], _LINE_TO)
            continue
        if len(points) > 1 and points[0] == points[-1]:
            points.pop()
        area = _signed_area(points) if len(points) >= 3 else 0
        if area == 0:
            if index == 0:
                return []
            continue
        # The outer ring turns clockwise on screen (positive area with y down), holes the other way.
        if (area > 0) != (index == 0):
            points.reverse()
        moves(points[:1], _MOVE_TO)
        moves(points[1:], _LINE_TO)
        commands.append(_command(_CLOSE_PATH, 1))
    return commands


def _value(value: Value) -> bytes:
    if isinstance(value, bool):
        return _uint(7, int(value))
    if isinstance(value, int):
        return _uint(6, _zigzag(value))
    if isinstance(value, float):
        return _key(3, _FIXED64) + struct.pack("<d", value)
    return _bytes(1, value.encode())


def _packed(values: Sequence[int]) -> bytes:
    return b"".join(_varint(value) for value in values)


def encode_layer(name: str, features: Sequence[Feature], extent: int = EXTENT) -> bytes:
    """One layer's bytes (without the tile's wrapping); empty if no feature is drawable."""
    keys: dict[str, int] = {}
    values: dict[tuple[type, Value], int] = {}
    encoded: list[bytes] = []
    for feature in features:
        geometry = _geometry(feature)
        if not geometry:
            continue
        tags: list[int] = []
        for key, value in feature.properties.items():
            tags.append(keys.setdefault(key, len(keys)))
            tags.append(values.setdefault((type(value), value), len(values)))
        body = _bytes(2, _packed(tags)) if tags else b""
        body += _uint(3, feature.geom_type) + _bytes(4, _packed(geometry))
        encoded.append(_bytes(2, body))
    if not encoded:
        return b""
    layer = _uint(15, 2) + _bytes(1, name.encode()) + b"".join(encoded)
    layer += b"".join(_bytes(3, key.encode()) for key in keys)
    layer += b"".join(_bytes(4, _value(value)) for _kind, value in values)
    return layer + _uint(5, extent)


def encode_tile(layers: Mapping[str, Sequence[Feature]], extent: int = EXTENT) -> bytes:
    """The bytes of a tile holding ``layers`` in order; layers with nothing to draw are left out."""
    parts = (encode_layer(name, features, extent) for name, features in layers.items())
    return b"".join(_bytes(3, part) for part in parts if part)
