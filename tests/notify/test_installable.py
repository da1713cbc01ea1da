"""The installable app's files: the manifest and its icons, the service worker, the offline page."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
CSS = (ROOT / "src" / "doorstep" / "static" / "css" / "doorstep.css").read_text()


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (and that it is a PNG at all)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _css_colour(name: str) -> str:
    match = re.search(rf"--{name}:\s*(#[0-9a-f]{{6}})", CSS)
    assert match is not None
    return match.group(1)


def test_the_manifest_names_the_app_and_every_icon_has_its_stated_size(
    client: TestClient,
) -> None:
    answer = client.get("/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/manifest+json"
    manifest = answer.json()
    assert manifest["name"] == manifest["short_name"] == "Doorstep"
    assert (manifest["id"], manifest["start_url"], manifest["scope"]) == ("/", "/", "/")
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == _css_colour("header-bg")
    assert manifest["background_color"] == _css_colour("bg")
    sizes = {}
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200
        assert image.headers["content-type"] == icon["type"] == "image/png"
        width, height = _png_size(image.content)
        assert icon["sizes"] == f"{width}x{height}"
        sizes[icon.get("purpose", "any"), width] = icon["src"]
    assert set(sizes) == {("any", 192), ("any", 512), ("maskable", 512)}


def test_every_page_links_the_manifest_the_touch_icon_and_the_theme(client: TestClient) -> None:
    page = client.get("/login").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    # The light theme's colours come first in the stylesheet; the dark theme has its own bar.
    light = _css_colour("header-bg")
    assert (
        f'<meta name="theme-color" content="{light}" media="(prefers-color-scheme: light)">' in page
    )
    assert '<script src="/static/js/app.js" defer></script>' in page
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', page)
    assert touch is not None
    assert _png_size(client.get(touch.group(1)).content) == (180, 180)


def test_the_service_worker_comes_from_the_root_never_stale(client: TestClient) -> None:
    answer = client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.headers["cache-control"] == "no-cache"
    # Its cache is named for this release's files; the placeholder never reaches a browser.
    assert re.search(r'var CACHE = "doorstep-[0-9a-f]{16}";', answer.text)
    offline = client.get("/offline")
    assert offline.status_code == 200
    assert "You are offline" in offline.text
    # Kept for everyone, so it offers no "Log in" that a signed-in person would take as signed out.
    assert 'href="/login"' not in offline.text
    assert "Being offline does not sign you out." in offline.text
    assert "set-cookie" not in offline.headers


def test_the_icons_are_what_the_committed_script_draws(tmp_path: Path) -> None:
    drawn = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_icons.py"), "--out", str(tmp_path)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert drawn.returncode == 0
    committed = ROOT / "src" / "doorstep" / "static" / "icons"
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(path.name for path in committed.iterdir())
    for name in names:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
