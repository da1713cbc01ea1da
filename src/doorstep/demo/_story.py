"""Who and what the demo's public-safety record is about: its departments, cases and times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from doorstep.agencies.models import AgencyKind
from doorstep.geo.cells import Coordinates


@dataclass(frozen=True, slots=True)
class DemoAgency:
    """A department of the demo town and the account that applied for it (not a demo login)."""

    name: str
    kind: AgencyKind
    contact: str
    chief_email: str
    chief_name: str
    #: The jurisdiction's corners as (north, east) offsets in degrees from the demo centre.
    outline: tuple[tuple[float, float], ...]

    def jurisdiction(self, centre: Coordinates) -> dict[str, Any]:
        """The jurisdiction as a GeoJSON Polygon around ``centre``."""
        ring = [
            [round(centre.lon + east, 6), round(centre.lat + north, 6)]
            for north, east in self.outline
        ]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


POLICE = DemoAgency(
    name="Alder Park Police Department",
    kind=AgencyKind.LAW_ENFORCEMENT,
    contact="Records unit, records@alderpark-police.example, non-emergency line 555-0144",
    chief_email="chief@police.demo.doorstep.test",
    chief_name="Chief R. Morgan",
    outline=(
        (-0.0150, -0.0230),
        (-0.0150, 0.0180),
        (-0.0040, 0.0240),
        (0.0160, 0.0200),
        (0.0160, -0.0200),
        (0.0050, -0.0260),
    ),
)
FIRE = DemoAgency(
    name="Alder Park Fire & Rescue",
    kind=AgencyKind.FIRE,
    contact="Fire marshal's office, marshal@alderpark-fire.example, 555-0190",
    chief_email="chief@fire.demo.doorstep.test",
    chief_name="Chief T. Okafor",
    outline=(
        (-0.0250, -0.0120),
        (-0.0250, 0.0150),
        (-0.0100, 0.0330),
        (0.0120, 0.0330),
        (0.0240, 0.0120),
        (0.0240, -0.0150),
        (0.0100, -0.0330),
        (-0.0120, -0.0330),
    ),
)

RFA_CASE = "PD26-004187"
RFA_RADIUS_M = 330.0
RFA_INCIDENT = "Package theft"
RFA_DESCRIPTION = (
    "Two parcels were taken from porches on Alder St and 13th Ave during this window. A person "
    "in a dark rain jacket with a grey backpack was seen carrying boxes east along Alder St. If "
    "your camera faces the sidewalk or the street, footage from this window may help. Please do "
    "not approach anyone; call the non-emergency line with anything else you saw."
)
FIRE_CASE = "FM26-0312"
FIRE_INCIDENT = "Suspicious fire"
FIRE_DESCRIPTION = (
    "A recycling bin beside a garage on Birch St was set alight during this window. It was put "
    "out quickly and nobody was hurt. The fire marshal is looking for anyone seen walking or "
    "cycling along Birch St or the alley behind it."
)
WARRANT_REFERENCE = "SW 26-0913"
WARRANT_COURT = "Circuit Court of Alder County"
WARRANT_DOCUMENT = (
    b"Search warrant SW 26-0913, Circuit Court of Alder County: footage of the side gate camera "
    b"at the named account for the stated window, burglary investigation PD26-003950."
)
EMERGENCY_CASE = "PD26-004262"
EMERGENCY_ATTESTATION = (
    "A seven-year-old child was reported missing from the Alder Park playground at the start of "
    "this window and may have walked past this camera along 14th Ave. There is a danger to the "
    "child's life that cannot wait for a warrant."
)


@dataclass(frozen=True, slots=True)
class Times:
    """When the demo's events happened, fixed relative to the hour the demo was first seeded."""

    hour: datetime

    @property
    def rfa_window(self) -> tuple[datetime, datetime]:
        """Yesterday evening, two hours."""
        return self.hour - timedelta(hours=26), self.hour - timedelta(hours=24)

    @property
    def fire_window(self) -> tuple[datetime, datetime]:
        """Overlapping the evening of the theft: a different incident on the next street."""
        return self.hour - timedelta(hours=25, minutes=45), self.hour - timedelta(hours=23)

    @property
    def warrant_window(self) -> tuple[datetime, datetime]:
        """A night four days ago."""
        return self.hour - timedelta(days=4, hours=3), self.hour - timedelta(days=4, hours=1)

    @property
    def emergency_window(self) -> tuple[datetime, datetime]:
        """Earlier today."""
        return self.hour - timedelta(hours=5), self.hour - timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class Cast:
    """Ids of the demo accounts the story needs."""

    owner: str
    officer: str
    reviewer: str
    second_reviewer: str
