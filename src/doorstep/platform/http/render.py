"""Template rendering shared by every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from doorstep import __version__
from doorstep.platform.http.deps import CSRF_COOKIE, viewer
from doorstep.platform.http.times import time_tag
from doorstep.platform.security import new_secret

TEMPLATES = Path(__file__).parents[2] / "templates"
STATIC = Path(__file__).parents[2] / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["version"] = __version__


def maps_installed() -> bool:
    """Whether the setup copied the map library into the static files (else pages keep SVG maps)."""
    return (STATIC / "vendor" / "leaflet" / "leaflet.js").is_file()


_env.globals["maps_installed"] = maps_installed


def sentence(text: str) -> str:
    """Turn an error detail ("use at least 10 characters") into a sentence for a page."""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


_env.filters["sentence"] = sentence
# {{ clip.started_at | when }}: a <time> in UTC that times.js shows in the viewer's own zone.
_env.filters["when"] = time_tag


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page; every form on it gets the CSRF token of this browser."""
    principal = getattr(request.state, "principal", None)
    csrf = None
    if principal is not None and principal.session is not None:
        csrf = principal.session.csrf_token
    user = principal.user if principal else None
    return _page(request, template, context, user, csrf, status=status, headers=headers)


def _page(
    request: Request,
    template: str,
    context: dict[str, Any] | None,
    user: object | None,
    csrf: str | None,
    *,
    status: int,
    headers: dict[str, str] | None,
) -> HTMLResponse:
    """The page for ``user`` (whose navigation it shows), its forms carrying ``csrf``.

    Without a session's token, a logged-out browser's double-submit cookie, made if missing.
    """
    new_anonymous_token = None
    if not csrf:
        csrf = request.cookies.get(CSRF_COOKIE) or ""
        if not csrf:
            csrf = new_anonymous_token = new_secret()
    page = _env.get_template(template).render(
        request=request, user=user, csrf_token=csrf, **(context or {})
    )
    response = HTMLResponse(page, status_code=status, headers=headers)
    response.headers["cache-control"] = "no-store"
    if new_anonymous_token:
        response.set_cookie(
            CSRF_COOKIE, new_anonymous_token, httponly=True, samesite="strict", path="/"
        )
    return response


def render_for(
    request: Request,
    principal: object | None,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> Response:
    """Render a page for ``principal``: the navigation and the forms' CSRF token are theirs."""
    request.state.principal = principal
    return render(request, template, context, status=status)


def login_redirect(request: Request) -> RedirectResponse:
    """Send a logged-out browser to log in, and back to this page after."""
    return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)


def render_error(
    request: Request, status: int, problem: dict[str, Any], headers: dict[str, str]
) -> Response:
    """The HTML page for an error a browser ran into, with the navigation of whoever is signed in.

    Rendered after the request's database session has closed: from the ``Viewer`` taken when the
    caller was resolved, never from the principal's rows, which can no longer be read.
    """
    signed_in = viewer(request)
    csrf = signed_in.csrf_token if signed_in else None
    context = {"problem": problem}
    return _page(request, "error.html", context, signed_in, csrf, status=status, headers=headers)
