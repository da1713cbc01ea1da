"""The home map's pages: only with the map library installed, the exact point only to its owner."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from doorstep.platform.http import render
from tests.factories import resident

HOME = {"lat": 45.5236, "lon": -122.6771}


def _maps(monkeypatch: pytest.MonkeyPatch, installed: bool) -> None:
    monkeypatch.setitem(render._env.globals, "maps_installed", lambda: installed)


def test_without_the_map_library_the_pages_keep_the_text_field(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _maps(monkeypatch, installed=False)
    page = client.get("/signup").text
    assert 'name="home"' in page
    assert "/static/vendor/" not in page
    assert "data-home-picker" not in page


def test_the_map_loads_only_our_files_and_asks_for_location_on_two_pages(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _maps(monkeypatch, installed=True)
    signup = client.get("/signup")
    assert '<script src="/static/vendor/leaflet/leaflet.js" defer>' in signup.text
    assert '<script src="/static/js/map_home.js" defer>' in signup.text
    assert all(src.startswith("/static/") for src in re.findall(r'src="([^"]+)"', signup.text))
    assert "geolocation=(self)" in signup.headers["permissions-policy"]
    assert "geolocation=()" in client.get("/login").headers["permissions-policy"]
    assert "geolocation=()" in client.get("/agencies").headers["permissions-policy"]


def test_the_owner_alone_gets_the_exact_point_beside_the_public_cell(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _maps(monkeypatch, installed=True)
    resident(client, home=HOME)
    account = client.get("/account")
    assert "geolocation=(self)" in account.headers["permissions-policy"]
    block = re.search(
        r'<script type="application/json" id="home-map-data">(.*?)</script>', account.text
    )
    assert block is not None
    data = json.loads(block.group(1))
    assert data["home"] == [HOME["lat"], HOME["lon"]]
    assert len(data["cell"]) == 6
    # The public cell's corners are not the home: the cell is all anyone else ever gets.
    assert [HOME["lat"], HOME["lon"]] not in data["cell"]
