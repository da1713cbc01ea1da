"""Error pages on a real server: a signed-in browser refused a page sees why, in its navigation.

On uvicorn the request's database session has rolled back and closed by the time the error page
is rendered; the page must not read the account's rows then (that was a 500 instead of the 403
or 404), and must still show the signed-in navigation and that browser's CSRF token.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import httpx

from doorstep.settings import Settings
from tests.browser import free_port, serve
from tests.factories import resident
from tests.samples import tiny_clip
from tests.transparency.test_audit_appends_live import household

HTML = {"accept": "text/html"}


def _signed_in_page(page: httpx.Response, name: str, csrf: str) -> None:
    """The page is Doorstep's error page with ``name``'s navigation and CSRF token."""
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-testid="logout"' in page.text
    assert f'<a href="/account">{name}</a>' in page.text
    assert "/signup" not in page.text
    forms = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)
    assert forms == [csrf]


def test_refused_pages_answer_their_error_with_the_signed_in_navigation(
    settings: Settings, tmp_path: Path
) -> None:
    with serve(settings.model_copy(update={"port": free_port()})) as server:
        home = household(server, tiny_clip(tmp_path / "clip.mp4"))
        with (
            httpx.Client(base_url=server.url, cookies=home.bob_cookies, timeout=30) as bob,
            httpx.Client(base_url=server.url, timeout=30) as carol,
        ):
            # A household member not (yet) allowed to see the camera live.
            live = bob.get(f"/cameras/{home.camera_id}/live", headers=HTML)
            assert live.status_code == 403, live.text
            _signed_in_page(live, "Bob", home.bob_csrf)

            # A stranger, on the owner's clip and camera.
            carol_csrf = resident(cast(Any, carol), "carol@example.org", display_name="Carol")
            clip = carol.get(f"/clips/{home.clip_id}", headers=HTML)
            assert clip.status_code == 404, clip.text
            _signed_in_page(clip, "Carol", carol_csrf)
            mjpeg = carol.get(f"/cameras/{home.camera_id}/live?mjpeg=1", headers=HTML)
            assert mjpeg.status_code == 404, mjpeg.text
            _signed_in_page(mjpeg, "Carol", carol_csrf)

            # Refused before the page named its caller: still the caller's own navigation.
            locker = carol.get("/agency/evidence", headers=HTML)
            assert locker.status_code == 403, locker.text
            _signed_in_page(locker, "Carol", carol_csrf)
            post = carol.get("/posts/no-such-post", headers=HTML)
            assert post.status_code == 404, post.text
            _signed_in_page(post, "Carol", carol_csrf)
