"""The demo draws its streets at start: a base map and a gazetteer in its data folder."""

from __future__ import annotations

import random

from doorstep.demo import streets
from doorstep.demo.neighbourhood import HOMES, home_positions
from doorstep.demo.run import CENTRE, DEMO_LOGINS, draw_streets
from doorstep.maps import service
from doorstep.settings import Settings


def test_the_demo_writes_a_base_map_and_a_gazetteer(settings: Settings) -> None:
    draw_streets(settings)
    found = service.base_map(settings)
    assert found is not None
    assert found.attribution == "Alder Park streets: invented for the Doorstep demo"
    places = service.search_places(settings, "13 maple")
    assert places
    assert all("SE Maple St" in place.label for place in places)


def test_every_home_of_the_demo_is_at_a_lot_on_a_named_street() -> None:
    fronts = {(lot.lat, lot.lon): lot for lot in streets.lots(CENTRE)}
    for home in home_positions(CENTRE, HOMES, random.Random(7)):
        nearest = min(fronts, key=lambda f: (f[0] - home.lat) ** 2 + (f[1] - home.lon) ** 2)
        # Within about 15 m: the home stands on that lot, on that street.
        assert abs(nearest[0] - home.lat) < 0.0001
        assert abs(nearest[1] - home.lon) < 0.00015
    for login in DEMO_LOGINS:
        if login.home is not None:
            assert streets.address_of(CENTRE, login.home).split()[-1] == "St"


def test_the_maps_files_are_private_as_the_rest_of_the_data_folder(settings: Settings) -> None:
    draw_streets(settings)
    for path in (settings.base_map_path, settings.data_dir / "maps" / "gazetteer.json"):
        assert path.stat().st_mode & 0o777 == 0o600
    assert (settings.data_dir / "maps").stat().st_mode & 0o777 == 0o700


def test_an_empty_base_map_setting_is_the_data_folders_and_a_relative_one_is_absolute(
    settings: Settings,
) -> None:
    empty = Settings(data_dir=settings.data_dir, base_map="")
    assert empty.base_map_path == settings.data_dir / "maps" / "base.pmtiles"
    relative = Settings(data_dir=settings.data_dir, base_map="streets.pmtiles")
    assert relative.base_map_path.is_absolute()
