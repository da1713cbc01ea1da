"""Location privacy (invariant I1): exact positions stay with their owner; others see H3 cells.

``public_cell`` is the one function every part of Doorstep uses to turn an exact position into
what may be shown to anyone other than its owner.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import h3

from doorstep.errors import InvalidInput

#: The finest H3 resolution any non-owner may ever see (res 9 cells average ~0.1 km²).
FINEST_PUBLIC_RESOLUTION = 9


@dataclass(frozen=True, slots=True)
class Coordinates:
    """An exact WGS84 position; private to its owner."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        for name, value, limit in (("lat", self.lat, 90.0), ("lon", self.lon, 180.0)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"{name} must be a number", field=name)
            try:
                finite = math.isfinite(value)
            except OverflowError:
                # An integer too large to be a float is not a coordinate either.
                finite = False
            if not finite:
                raise InvalidInput(f"{name} must be a finite number", field=name)
            if not -limit <= value <= limit:
                raise InvalidInput(f"{name} must be between -{limit:g} and {limit:g}", field=name)


@dataclass(frozen=True, slots=True)
class PublicLocation:
    """What a non-owner may know of a position: an H3 cell and its centre."""

    cell: str
    resolution: int
    lat: float
    lon: float


def parse_coordinates(text: str) -> Coordinates:
    """Parse ``"lat, lon"`` as typed by a person into coordinates, with a clear error."""
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    if len(parts) != 2 or not all(parts):
        raise InvalidInput("type the address as 'latitude, longitude', e.g. 51.5072, -0.1276")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError as err:
        raise InvalidInput("latitude and longitude must be numbers") from err
    return Coordinates(lat, lon)


def _check_resolution(resolution: int) -> None:
    if not 0 <= resolution <= FINEST_PUBLIC_RESOLUTION:
        raise ValueError(
            f"public locations are at H3 resolution 0..{FINEST_PUBLIC_RESOLUTION}, not {resolution}"
        )


def public_cell(position: Coordinates, resolution: int) -> str:
    """Return the H3 cell that stands for ``position`` in front of anyone but its owner."""
    _check_resolution(resolution)
    return str(h3.latlng_to_cell(position.lat, position.lon, resolution))


def public_location(position: Coordinates, resolution: int) -> PublicLocation:
    """Return the cell of ``position`` and the cell's centre, rounded to what the cell reveals."""
    return cell_location(public_cell(position, resolution))


def cell_location(cell: str) -> PublicLocation:
    """Return a cell with its centre; the centre reveals nothing finer than the cell."""
    resolution = h3.get_resolution(cell)
    _check_resolution(resolution)
    lat, lon = h3.cell_to_latlng(cell)
    return PublicLocation(cell=cell, resolution=resolution, lat=round(lat, 5), lon=round(lon, 5))


def coarsen(cell: str, resolution: int) -> str:
    """Return the parent of ``cell`` at a coarser ``resolution``."""
    _check_resolution(resolution)
    return str(h3.cell_to_parent(cell, resolution))


def k_anonymous_counts(cells: Iterable[str], k: int) -> dict[str, int]:
    """Count items per cell, dropping cells with fewer than ``k`` (small counts identify homes)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    counts = Counter(cells)
    return {cell: n for cell, n in counts.items() if n >= k}


def k_anonymous_count(n: int, k: int) -> int | None:
    """Return ``n`` when it is at least ``k``, else None: a small count points at households.

    Zero is withheld too: "nobody" next to "fewer than k" would single out the rest.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    return n if n >= k else None


def cells_in_area(area_m2: float, resolution: int, near: Iterable[tuple[float, float]]) -> float:
    """Estimate how many cells at ``resolution`` have their centre inside an area (none listed).

    Cells differ in size by a quarter either way across the globe, so the area is divided by the
    largest of the cells at the (lat, lon) points ``near`` it: the estimate errs low, never high.
    """
    _check_resolution(resolution)
    sizes = [h3.cell_area(h3.latlng_to_cell(lat, lon, resolution), unit="m^2") for lat, lon in near]
    size = max(sizes, default=h3.average_hexagon_area(resolution, unit="m^2"))
    return max(area_m2, 0.0) / float(size)


def cells_along(length_m: float, resolution: int) -> float:
    """Estimate, erring low, how many cells at ``resolution`` a line of ``length_m`` runs through.

    A hexagon is two edges across at its widest, so a line meets about one cell or more per two
    edge lengths; the cells beside it, which a covering includes too, are not counted.
    """
    _check_resolution(resolution)
    edge = float(h3.average_hexagon_edge_length(resolution, unit="m"))
    return max(length_m, 0.0) / (2 * edge)


def distance_m(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance in metres."""
    return float(h3.great_circle_distance((a.lat, a.lon), (b.lat, b.lon), unit="m"))
