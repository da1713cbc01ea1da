"""The demo's streets under a live server's maps: its base map archive and its gazetteer."""

from __future__ import annotations

import functools

from playwright.sync_api import Page

from doorstep.demo import streets
from doorstep.demo.run import CENTRE
from doorstep.maps import service_basemap
from doorstep.settings import Settings
from tests.maps.conftest import install_demo_map


@functools.cache
def _archive() -> bytes:
    # Drawn once per test run: every browser test that wants streets gets the same bytes.
    return service_basemap.build(streets.plan(CENTRE))


def lay_streets(settings: Settings) -> None:
    """Put the demo's base map and gazetteer in the data folder of the server on ``settings``."""
    install_demo_map(settings, _archive())


def wait_for_streets(page: Page, map_id: str) -> None:
    """Wait until the map ``map_id`` has drawn every base map tile it shows."""
    page.wait_for_function(
        """id => {
            const tiles = document.querySelectorAll('#' + id + ' .leaflet-tile');
            const drawn = document.querySelectorAll('#' + id + ' .leaflet-tile-loaded');
            return tiles.length > 0 && tiles.length === drawn.length;
        }""",
        arg=map_id,
    )
