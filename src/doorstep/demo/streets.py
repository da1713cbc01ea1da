"""The demo neighbourhood's street plan: named streets, lots with addresses, a park and a school.

East-west streets run every 0.001 degrees of latitude, where ``neighbourhood.home_positions``
puts the homes (just north and south of each street); north-south avenues cross them every
0.0028 degrees of longitude, between the homes (which stand every 0.00056 degrees). Each block
between two avenues has nine lots on each side of the street, numbered as in Portland: the
hundreds name the avenue to the west (1200 to 1299 lie between SE 12th and SE 13th Ave), even
numbers on the north side, odd on the south.

Every lot has an address, whether or not anyone lives there: the gazetteer lists them all, so
that finding an address tells nobody whether a Doorstep user lives at it (invariant I1).
"""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.geo.cells import Coordinates
from doorstep.maps.models import Area, Line, Place, Street, StreetPlan

#: Street names from north to south; Alder, Birch, Cedar, Elm and Maple are in the demo's posts.
STREET_NAMES = (
    "Alder",
    "Birch",
    "Cedar",
    "Dogwood",
    "Elm",
    "Fir",
    "Hazel",
    "Juniper",
    "Laurel",
    "Maple",
    "Oak",
    "Pine",
    "Spruce",
    "Walnut",
    "Willow",
    "Yew",
)
#: The first avenue, at the west end; the tenth (18th) is at the east end.
FIRST_AVENUE = 9
#: The street grid, in degrees.
STREET_STEP = 0.001
AVENUE_STEP = 0.0028
LOTS_PER_BLOCK = 9
LOT_STEP = AVENUE_STEP / (LOTS_PER_BLOCK + 1)
#: The avenues stand a lot east of the grid the homes are on, so that no home is in one.
AVENUE_OFFSET = LOT_STEP
#: A house's front door is this far north or south of its street's centre line.
FRONT = 0.00012
#: Streets busy enough to be drawn (and named) from further out.
MAJOR = frozenset({"SE Elm St", "SE 14th Ave"})


@dataclass(frozen=True, slots=True)
class Lot:
    """One lot: its address and its house's front door."""

    number: int
    street: str
    lat: float
    lon: float

    @property
    def label(self) -> str:
        """The address as people write it, e.g. "1234 SE Alder St"."""
        return f"{self.number} {self.street}"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10)
    return f"{number}{suffix or 'th'}"


def street_name(row: int) -> str:
    """The name of the east-west street ``row`` steps north of the centre (-8 to 7)."""
    return f"SE {STREET_NAMES[7 - row]} St"


ROWS = range(-8, 8)
COLUMNS = range(-5, 5)


def avenue_name(column: int) -> str:
    """The name of the avenue ``column`` steps east of the centre (-5 to 4)."""
    return f"SE {_ordinal(FIRST_AVENUE + column - COLUMNS[0])} Ave"


def avenue_lon(centre: Coordinates, column: int) -> float:
    """The longitude of the avenue ``column`` steps east of the centre."""
    return centre.lon + AVENUE_OFFSET + column * AVENUE_STEP


def lots(centre: Coordinates) -> list[Lot]:
    """Every lot of the neighbourhood, street by street from the north, west to east."""
    found: list[Lot] = []
    for row in reversed(ROWS):
        street_lat = centre.lat + row * STREET_STEP
        for column in COLUMNS[:-1]:
            hundred = 100 * (FIRST_AVENUE + column - COLUMNS[0])
            for index in range(1, LOTS_PER_BLOCK + 1):
                lon = round(avenue_lon(centre, column) + index * LOT_STEP, 6)
                for side, parity in ((1, 4), (-1, 5)):
                    lat = round(street_lat + side * FRONT, 6)
                    found.append(Lot(hundred + 10 * index + parity, street_name(row), lat, lon))
    return found


def address_of(centre: Coordinates, point: Coordinates) -> str:
    """The address of the lot nearest ``point``."""
    nearest = min(
        lots(centre), key=lambda lot: ((lot.lat - point.lat) ** 2, abs(lot.lon - point.lon))
    )
    return nearest.label


def _box(west: float, south: float, east: float, north: float) -> Line:
    return ((west, south), (east, south), (east, north), (west, north), (west, south))


def _building(lot: Lot, street_lat: float) -> Line:
    # The house stands back from its front door, away from the street.
    away = 1 if lot.lat > street_lat else -1
    middle = lot.lat + away * 0.0001
    return _box(lot.lon - 0.00007, middle - 0.00007, lot.lon + 0.00007, middle + 0.00007)


def plan(centre: Coordinates) -> StreetPlan:
    """The demo's streets, lots, park and school, ready to be drawn as a base map."""
    lat, lon = centre.lat, centre.lon
    # The park, garden and school lie either side of SE 14th Ave.
    avenue = avenue_lon(centre, 0)
    west, east = avenue_lon(centre, COLUMNS[0]), avenue_lon(centre, COLUMNS[-1])
    south, north = lat + (ROWS[0] - 1.5) * STREET_STEP, lat + (ROWS[-1] + 2.5) * STREET_STEP
    streets = [
        Street(name, ((west, lat + row * STREET_STEP), (east, lat + row * STREET_STEP)))
        for row in ROWS
        for name in [street_name(row)]
    ]
    streets += [
        Street(name, ((x, south), (x, north)))
        for column in COLUMNS
        for name, x in [(avenue_name(column), avenue_lon(centre, column))]
    ]
    streets = [
        Street(s.name, s.line, "major_road" if s.name in MAJOR else "minor_road") for s in streets
    ]
    park_south = lat + (ROWS[-1] + 0.4) * STREET_STEP
    park = Area(
        "Alder Park",
        _box(avenue - 2 * AVENUE_STEP + 0.0002, park_south, avenue - 0.0002, north - 0.0003),
    )
    garden = Area(
        "Community Garden",
        _box(avenue + 0.0002, park_south, avenue + AVENUE_STEP - 0.0002, north - 0.0003),
        kind="allotments",
    )
    pond = Area(
        "Alder Pond",
        _box(
            avenue - 1.4 * AVENUE_STEP,
            park_south + 0.0006,
            avenue - 0.9 * AVENUE_STEP,
            north - 0.0008,
        ),
        layer="water",
        kind="water",
    )
    school = Area(
        "Alder Park School",
        _box(avenue + 0.0002, south + 0.0002, avenue + AVENUE_STEP - 0.0002, south + 0.0007),
        kind="school",
    )
    walk = Street(
        "Pond Walk",
        (
            (avenue - 1.8 * AVENUE_STEP, park_south + 0.0003),
            (avenue - 0.3 * AVENUE_STEP, north - 0.0005),
        ),
        "path",
    )
    all_lots = lots(centre)
    street_lats = {street_name(row): lat + row * STREET_STEP for row in ROWS}
    # Land a little past the streets, so a map framed on them shows no edge.
    margin = 0.004
    return StreetPlan(
        name="Alder Park (Doorstep demo)",
        centre=(lat, lon),
        bounds=(west - margin, south - margin, east + margin, north + margin),
        streets=(*streets, walk),
        areas=(park, garden, pond, school),
        buildings=tuple(_building(lot, street_lats[lot.street]) for lot in all_lots),
        attribution="Alder Park streets: invented for the Doorstep demo",
        places=(Place("Alder Park", lat + 0.5 * STREET_STEP, lon + 0.5 * LOT_STEP),),
    )


def gazetteer(centre: Coordinates) -> list[Place]:
    """Every address, street and park of the neighbourhood, for the demo's address search."""
    street_plan = plan(centre)
    places = [Place(lot.label, lot.lat, lot.lon) for lot in lots(centre)]
    for street in street_plan.streets:
        (lon0, lat0), (lon1, lat1) = street.line[0], street.line[-1]
        places.append(Place(street.name, round((lat0 + lat1) / 2, 6), round((lon0 + lon1) / 2, 6)))
    for area in street_plan.areas:
        lons, lats = [p[0] for p in area.ring], [p[1] for p in area.ring]
        middle = (round((min(lats) + max(lats)) / 2, 6), round((min(lons) + max(lons)) / 2, 6))
        places.append(Place(area.name, *middle))
    return places
