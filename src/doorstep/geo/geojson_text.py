"""GeoJSON pasted into a form, read safely: no number past a float, no nesting past any geometry."""

from __future__ import annotations

import json
from typing import Any

from doorstep.errors import InvalidInput


class _BadNumber(ValueError):
    """A number JSON allows to be written but no geometry can hold."""


def _json_int(text: str) -> int:
    value = int(text)
    if abs(value) > 10**300:
        # Past what a float holds: no coordinate, and the geometry checks would overflow on it.
        raise _BadNumber("a number in it is too large")
    return value


def _json_constant(name: str) -> Any:
    raise _BadNumber(f"{name} is not a number JSON allows")


def geojson_from_text(text: str, field: str) -> dict[str, Any]:
    """A GeoJSON object pasted into a form; ``InvalidInput`` on ``field`` when it is not one."""
    try:
        value = json.loads(text, parse_int=_json_int, parse_constant=_json_constant)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"that is not valid GeoJSON: {err.msg}", field=field) from err
    except _BadNumber as err:
        raise InvalidInput(f"that is not valid GeoJSON: {err}", field=field) from err
    except (ValueError, RecursionError) as err:
        # A number with thousands of digits, or arrays nested deeper than any geometry.
        raise InvalidInput(
            "that is not valid GeoJSON: a number is too long or it is nested too deeply",
            field=field,
        ) from err
    if not isinstance(value, dict):
        raise InvalidInput("paste a GeoJSON Polygon object", field=field)
    return value


#: The largest GeoJSON file a form takes: as much as its text field holds.
MAX_GEOJSON_FILE_BYTES = 200_000


def geojson_from_file(data: bytes, field: str) -> dict[str, Any]:
    """A GeoJSON file's geometry: a Polygon or MultiPolygon, bare or in a Feature(Collection).

    What a drawing program exports (a FeatureCollection of polygons) becomes one geometry, the
    polygons of every feature together; ``InvalidInput`` on ``field`` for anything else.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput("that file is not GeoJSON text (UTF-8)", field=field) from err
    return _geometry_of(geojson_from_text(text, field), field)


def _bare(value: object) -> dict[str, Any] | None:
    """A Polygon or MultiPolygon geometry, or the one a Feature holds; else None."""
    if not isinstance(value, dict):
        return None
    if value.get("type") == "Feature":
        value = value.get("geometry")
    if isinstance(value, dict) and value.get("type") in ("Polygon", "MultiPolygon"):
        return value
    return None


def _geometry_of(value: dict[str, Any], field: str) -> dict[str, Any]:
    bare = _bare(value)
    if bare is not None:
        return bare
    features = value.get("features") if value.get("type") == "FeatureCollection" else None
    if isinstance(features, list):
        polygons: list[Any] = []
        for feature in features:
            geometry = _bare(feature)
            if geometry is None:
                continue
            coordinates = geometry.get("coordinates")
            if geometry["type"] == "Polygon":
                polygons.append(coordinates)
            elif isinstance(coordinates, list):
                polygons.extend(coordinates)
        if len(polygons) == 1:
            return {"type": "Polygon", "coordinates": polygons[0]}
        if polygons:
            return {"type": "MultiPolygon", "coordinates": polygons}
    raise InvalidInput("the file holds no Polygon or MultiPolygon", field=field)
