"""The installable app: its manifest, the service worker from the site's root, the offline page."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from doorstep.platform.http.render import STATIC, TEMPLATES, render

router = APIRouter(include_in_schema=False)

#: doorstep.css's light --header-bg (the header) and --bg (the page), so the installed app's
#: title bar and splash screen are the site's own.
THEME_COLOUR = "#1f4e5f"
BACKGROUND_COLOUR = "#f7f5f0"
ICONS = "/static/icons"
#: What the service worker keeps for the offline page; it caches nothing else.
OFFLINE_ASSETS = ("/offline", "/static/css/doorstep.css", f"{ICONS}/icon-192.png")
DESCRIPTION = "Neighbourhood video doorbells that respect the people in front of the camera."
SERVICE_WORKER = STATIC / "js" / "sw.js"
#: The placeholder in sw.js that the served copy replaces with the name of this release's cache.
CACHE_PLACEHOLDER = "doorstep-cache-unversioned"


def manifest() -> dict[str, Any]:
    """The web app manifest: what a phone or desktop needs to install Doorstep."""
    return {
        "id": "/",
        "name": "Doorstep",
        "short_name": "Doorstep",
        "description": DESCRIPTION,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": f"{ICONS}/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": f"{ICONS}/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": f"{ICONS}/maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


@cache
def service_worker() -> bytes:
    """sw.js with its cache named after what it caches, so a new release replaces the old cache.

    Any change to the worker, the stylesheet or the offline page gives a new name (and, the
    worker's bytes changing, makes browsers install it again).
    """
    source = SERVICE_WORKER.read_text()
    digest = hashlib.sha256(source.encode())
    for path in (STATIC / "css" / "doorstep.css", TEMPLATES / "offline.html"):
        digest.update(path.read_bytes())
    return source.replace(CACHE_PLACEHOLDER, f"doorstep-{digest.hexdigest()[:16]}").encode()


@router.get("/manifest.webmanifest")
def manifest_file() -> Response:
    """The web app manifest."""
    return JSONResponse(manifest(), media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker_file() -> Response:
    """The service worker, from the root so that its scope is the whole site.

    ``no-cache``: browsers check for a new worker on every visit instead of keeping a stale one.
    """
    return Response(
        service_worker(),
        media_type="text/javascript; charset=utf-8",
        headers={"cache-control": "no-cache"},
    )


@router.get("/offline")
def offline_page(request: Request) -> Response:
    """The page the service worker shows when a page cannot be reached: nobody's data on it."""
    page = render(request, "offline.html")
    # The same for everyone and kept by the worker: it sets no cookie (no anonymous CSRF token).
    del page.headers["set-cookie"]
    return page
