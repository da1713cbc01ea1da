"""Neighbors pages over plain HTTP: forms, refusals kept in the form, escaping, map, moderation."""

from __future__ import annotations

import re

import cv2
import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.geo.cells import Coordinates
from doorstep.neighbors.models import Post
from doorstep.platform.http.state import AppState
from tests.factories import PASSWORD, log_in, resident

HOME = {"lat": 45.523612, "lon": -122.677144}
BOB_HOME = {"lat": 45.526431, "lon": -122.681937}
HTML = {"accept": "text/html"}


def _posts(app: FastAPI) -> int:
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        return int(db.scalar(select(func.count()).select_from(Post)) or 0)


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def _publish(
    client: TestClient, text: str, photo: tuple[str, bytes, str] | None = None, **fields: str
) -> object:
    form = {"csrf_token": _csrf(client, "/posts/new"), "text": text, "category": "lost_pet"}
    form.update(fields)
    files = {"photo": photo} if photo else {"photo": ("", b"", "application/octet-stream")}
    return client.post("/posts/new", data=form, files=files, headers=HTML, follow_redirects=False)


def _png() -> bytes:
    ok, encoded = cv2.imencode(".png", np.zeros((30, 30, 3), dtype=np.uint8))
    assert ok
    return bytes(encoded.tobytes())


def _user(app: FastAPI, email: str, role: Role) -> TestClient:
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        create_user(
            db,
            email=email,
            password=PASSWORD,
            display_name="Rita",
            home=Coordinates(**HOME),
            cell_resolution=8,
            role=role,
        )
    other = TestClient(app)
    log_in(other, email)
    return other


def test_the_feed_asks_for_a_login_then_for_a_home(client: TestClient) -> None:
    response = client.get("/feed", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/feed"
    resident(client)
    assert "Set your home" in client.get("/feed").text


def test_a_post_made_in_the_form_shows_in_the_feed_escaped(client: TestClient) -> None:
    resident(client, home=HOME)
    response = _publish(client, "<script>alert(1)</script> Lost grey cat")
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = client.get("/feed")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lost grey cat" in page.text
    assert "<script>alert(1)" not in page.text
    assert "Lost pet" in page.text
    detail = client.get(response.headers["location"])  # type: ignore[attr-defined]
    assert "Posted. Neighbours nearby can see it now." in detail.text


def test_a_race_only_post_is_explained_and_the_text_kept(app: FastAPI, client: TestClient) -> None:
    resident(client, home=HOME)
    text = "Suspicious black man in the neighborhood"
    response = _publish(client, text, category="suspicious_activity")
    assert response.status_code == 422  # type: ignore[attr-defined]
    body = response.text  # type: ignore[attr-defined]
    assert "only by race or ethnicity" in body
    assert f">{text}</textarea>" in body
    assert 'value="suspicious_activity" selected' in body
    assert _posts(app) == 0


def test_a_file_that_is_not_an_image_is_refused_in_the_form(
    app: FastAPI, client: TestClient
) -> None:
    resident(client, home=HOME)
    response = _publish(client, "Found a cat", photo=("cat.jpg", b"MZ not an image", "image/jpeg"))
    assert response.status_code == 415  # type: ignore[attr-defined]
    assert "JPEG, PNG or WebP" in response.text  # type: ignore[attr-defined]
    assert ">Found a cat</textarea>" in response.text  # type: ignore[attr-defined]
    assert _posts(app) == 0


def test_a_photo_from_the_form_is_shown_on_the_post(client: TestClient) -> None:
    resident(client, home=HOME)
    response = _publish(client, "Found this kitten", photo=("kitten.png", _png(), "image/png"))
    detail = client.get(response.headers["location"])  # type: ignore[attr-defined]
    match = re.search(r'<img class="post-photo" src="([^"]+)"', detail.text)
    assert match is not None
    photo = client.get(match.group(1))
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.content.startswith(b"\xff\xd8")


def test_comment_report_and_moderation_through_the_pages(app: FastAPI, client: TestClient) -> None:
    resident(client, home=HOME)
    location = _publish(client, "Someone left the park gate open").headers["location"]  # type: ignore[attr-defined]
    post_path = location.split("?")[0]
    bob = TestClient(app)
    resident(bob, "bob@example.org", display_name="Bob", home=BOB_HOME)
    csrf = _csrf(bob, post_path)
    commented = bob.post(f"{post_path}/comment", data={"csrf_token": csrf, "text": "Closed it"})
    assert "Comment added." in commented.text
    reported = bob.post(f"{post_path}/report", data={"csrf_token": csrf, "reason": "Off topic"})
    assert "A reviewer will look at this post." in reported.text
    assert bob.get("/moderation", headers=HTML).status_code == 403

    rita = _user(app, "rita@example.org", Role.REVIEWER)
    queue = rita.get("/moderation")
    assert "Off topic" in queue.text
    post_id = post_path.rsplit("/", 1)[1]
    decided = rita.post(
        f"/moderation/posts/{post_id}",
        data={"csrf_token": _csrf(rita, "/moderation"), "decision": "remove", "reason": "Spam"},
    )
    assert "Decision recorded: remove." in decided.text
    assert "The queue is empty." in decided.text
    mine = client.get(post_path)
    assert "This post was removed by a reviewer: Spam" in mine.text
    assert "Send appeal" in mine.text


def test_a_decision_without_a_reason_is_a_form_error(app: FastAPI, client: TestClient) -> None:
    resident(client, home=HOME)
    location = _publish(client, "Loud bang on Elm St").headers["location"]  # type: ignore[attr-defined]
    post_id = location.split("?")[0].rsplit("/", 1)[1]
    rita = _user(app, "rita@example.org", Role.REVIEWER)
    response = rita.post(
        f"/moderation/posts/{post_id}",
        data={"csrf_token": _csrf(rita, "/moderation"), "decision": "remove", "reason": " "},
    )
    assert response.status_code == 422
    assert "Write a reason first." in response.text


def test_the_map_is_drawn_here_with_cells_only(client: TestClient) -> None:
    resident(client, home=HOME)
    _publish(client, "Lost parrot, green")
    page = client.get("/feed/map?radius=2")
    assert page.status_code == 200
    assert page.text.count("<polygon") > 7
    assert 'class="hex level-1 home"' in page.text
    assert "http" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", ""
    )


def test_feed_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    resident(client, home=HOME)
    location = _publish(client, "Found keys by the bus stop").headers["location"]  # type: ignore[attr-defined]
    pages = ["/feed", "/feed/map", "/posts/new", location, "/guidelines", "/messages", "/feed/tips"]
    for path in pages:
        text = client.get(path).text
        # Scripts come from our static files; data for them sits in JSON blocks, never run.
        scripts = re.findall(r"<script(?![^>]*\bsrc=\"/static/)[^>]*>", text)
        assert [
            s for s in scripts if s != '<script type="application/json" id="feed-map-data">'
        ] == []
        assert "style=" not in text
        assert "<style" not in text
        assert '<link rel="stylesheet" href="/static/css/feed.css">' in text


def test_a_tip_form_sends_anonymously(client: TestClient) -> None:
    resident(client, home=HOME)
    form = {"csrf_token": _csrf(client, "/feed/tips"), "agency_id": "ppb", "text": "Van at night"}
    assert "Tip sent." in client.post("/feed/tips", data=form).text


def test_the_guidelines_explain_the_race_only_rule(client: TestClient) -> None:
    page = client.get("/guidelines")
    assert page.status_code == 200
    assert "Describe behaviour, not appearance" in page.text
    assert "appeal a removal once" in page.text
