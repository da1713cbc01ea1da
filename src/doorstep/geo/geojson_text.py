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
