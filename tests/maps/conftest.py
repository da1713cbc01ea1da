"""The demo's base map and gazetteer, drawn once for the whole session."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.demo import streets
from doorstep.demo.run import CENTRE
from doorstep.maps import service, service_basemap
from doorstep.settings import Settings


@pytest.fixture(scope="session")
def demo_archive() -> bytes:
    """The demo's base map archive, as ``doorstep demo`` writes it."""
    return service_basemap.build(streets.plan(CENTRE))


def install_demo_map(settings: Settings, archive: bytes) -> Path:
    """Put the demo's base map and gazetteer in ``settings``' data folder."""
    path = settings.base_map_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(archive)
    service.write_gazetteer(settings, streets.gazetteer(CENTRE))
    return path
