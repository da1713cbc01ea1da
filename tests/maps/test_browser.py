"""The demo base map drawn by the vendored protomaps-leaflet in a real browser, streets named."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import LiveServer, TrackedPage
from tests.maps.conftest import install_demo_map

pytestmark = pytest.mark.browser

#: A bare page with only the vendored scripts: the map itself, not any Doorstep page around it.
PAGE = """<!doctype html><html><head><title>Base map</title>
<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">
<link rel="stylesheet" href="/__map.css"></head><body><div id="map"></div>
<script src="/static/vendor/leaflet/leaflet.js"></script>
<script src="/static/vendor/protomaps-leaflet/protomaps-leaflet.js"></script>
<script src="/__map.js"></script></body></html>"""
STYLE = "html, body, #map { margin: 0; height: 100%; }"
SCRIPT = """
var map = L.map("map").setView([45.5231, -122.6765], 17);
var layer = protomapsL.leafletLayer({url: "/maps/base.pmtiles", flavor: "light", lang: "en"});
layer.addTo(map);
window.baseLayer = layer;
"""
#: A point on SE Elm St, three streets north of the centre (which is on SE Juniper St).
ON_ELM = (45.5231 + 0.003, -122.6765 + 0.0015)


def _fulfil(body: str, content_type: str) -> Any:
    return lambda route: route.fulfill(body=body, content_type=content_type)


def test_the_demo_map_draws_named_streets(
    live_server: LiveServer, tracked_page: TrackedPage, demo_archive: bytes
) -> None:
    install_demo_map(live_server.settings, demo_archive)
    page = tracked_page.page
    ranges: list[str] = []
    page.on(
        "response",
        lambda r: (
            ranges.append(r.headers.get("content-range", ""))
            if r.url.endswith("/maps/base.pmtiles")
            else None
        ),
    )
    origin = live_server.url
    routes: dict[str, Any] = {
        "/__map.html": _fulfil(PAGE, "text/html"),
        "/__map.css": _fulfil(STYLE, "text/css"),
        "/__map.js": _fulfil(SCRIPT, "text/javascript"),
    }
    for path, handler in routes.items():
        page.route(origin + path, handler)
    page.goto(origin + "/__map.html")
    page.wait_for_function("document.querySelectorAll('canvas.leaflet-tile-loaded').length >= 4")
    page.wait_for_timeout(300)
    features = page.evaluate(
        """([lat, lon]) => {
            var found = [];
            window.baseLayer.queryTileFeaturesDebug(lon, lat, 8).forEach(function (hits) {
                hits.forEach(function (hit) {
                    found.push([hit.layerName, hit.feature.props.kind, hit.feature.props.name]);
                });
            });
            return found;
        }""",
        list(ON_ELM),
    )
    assert ["roads", "major_road", "SE Elm St"] in features
    colours = page.evaluate(
        """() => {
            var seen = new Set();
            document.querySelectorAll("canvas.leaflet-tile-loaded").forEach(function (tile) {
                var pixels = tile.getContext("2d").getImageData(0, 0, tile.width, tile.height).data;
                for (var i = 0; i < pixels.length; i += 4 * 97) {
                    seen.add(pixels[i] + "," + pixels[i + 1] + "," + pixels[i + 2]);
                }
            });
            return seen.size;
        }"""
    )
    # Land, streets, houses and the grey of street names: far more than one flat colour.
    assert colours > 20
    assert any(value.startswith("bytes 0-") for value in ranges)
    assert tracked_page.foreign_requests(origin) == []
    page.screenshot(path=str(live_server.settings.data_dir / "base-map.png"))
