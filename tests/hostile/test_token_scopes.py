"""A personal API token reaches the API routes that name one of its scopes, and no others."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.store import TOKEN_SCOPES
from doorstep.maps import service as maps
from doorstep.maps.models import Place
from tests.factories import bearer, resident

#: Every signed-in API route a personal token gets past the door of, and the scope it names
#: (None: any token of the account's). Every other signed-in route refuses a token: the inboxes of
#: Requests for Assistance and of bystander requests (``/api/v1/bystander-inbox``) are a browser's.
TOKEN_ROUTES: dict[str, str | None] = {
    "GET /api/v1/me": "account:read",
    "GET /api/v1/me/export": "account:read",  # and clips:read: see the test below
    # Changing push devices is a browser's own business (it subscribes itself): no token scope.
    "GET /api/v1/push/devices": "account:read",
    "GET /api/v1/feed": None,
    "GET /api/v1/cameras": "clips:read",
    "GET /api/v1/cameras/{camera_id}": "clips:read",
    "GET /api/v1/cameras/{camera_id}/snapshot": "clips:read",
    "GET /api/v1/cameras/{camera_id}/household": "clips:read",
    "GET /api/v1/cameras/{camera_id}/household/invitations": "clips:read",
    "GET /api/v1/cameras/{camera_id}/live": "clips:read",
    "GET /api/v1/cameras/{camera_id}/events/{event_id}/snapshot": "clips:read",
    "GET /api/v1/clips": "clips:read",
    "GET /api/v1/clips/{clip_id}": "clips:read",
    "GET /api/v1/clips/{clip_id}/snapshot": "clips:read",
    "GET /api/v1/clips/{clip_id}/video": "clips:read",
    "GET /api/v1/turn": "clips:read",
    "POST /api/v1/cameras/{camera_id}/live-sessions": "clips:read",
    "GET /api/v1/live-sessions/{session_id}": "clips:read",
    "DELETE /api/v1/live-sessions/{session_id}": "clips:read",
    "GET /api/v1/rings/{ring_id}/snapshot": "clips:read",
    "POST /api/v1/cameras": "clips:write",
    "PATCH /api/v1/cameras/{camera_id}": "clips:write",
    "DELETE /api/v1/cameras/{camera_id}": "clips:write",
    "POST /api/v1/cameras/{camera_id}/e2e": "clips:write",
    "POST /api/v1/cameras/{camera_id}/household": "clips:write",
    "DELETE /api/v1/cameras/{camera_id}/household/{user_id}": "clips:write",
    "PATCH /api/v1/cameras/{camera_id}/household/{user_id}": "clips:write",
    "DELETE /api/v1/cameras/{camera_id}/household/invitations/{invitation_id}": "clips:write",
    "POST /api/v1/cameras/{camera_id}/pairing-code": "clips:write",
    "DELETE /api/v1/clips/{clip_id}": "clips:write",
    "POST /api/v1/clips/delete": "clips:write",
    "POST /api/v1/posts": "feed:write",
    "PUT /api/v1/posts/{post_id}/photo": "feed:write",
    "POST /api/v1/posts/{post_id}/appeal": "feed:write",
    "POST /api/v1/posts/{post_id}/comments": "feed:write",
    "POST /api/v1/posts/{post_id}/comments/{comment_id}/reports": "feed:write",
    "POST /api/v1/posts/{post_id}/follow": "feed:write",
    "POST /api/v1/posts/{post_id}/helpful": "feed:write",
    "POST /api/v1/posts/{post_id}/messages": "feed:write",
    "POST /api/v1/posts/{post_id}/reports": "feed:write",
    "POST /api/v1/feed/messages/{message_id}/replies": "feed:write",
    "POST /api/v1/tips": "feed:write",
}


def _operations(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """Every operation of the API: its name, a URL for it and a body to send."""
    for path, operations in app.openapi()["paths"].items():
        url = re.sub(r"\{[^}]+\}", "0" * 32, path)
        for method, operation in operations.items():
            if "text/event-stream" in operation["responses"].get("200", {}).get("content", {}):
                continue  # a stream would not end here: see the test below
            body: dict[str, Any] | None = (
                {} if method in ("post", "put", "patch", "delete") else None
            )
            yield f"{method.upper()} {path}", url, body


def test_a_token_with_every_scope_gets_past_only_the_routes_that_name_one(
    app: FastAPI, client: TestClient
) -> None:
    csrf = resident(client)
    # A camera of its own: the relay's credentials go only to someone who may call a camera.
    camera = client.post("/api/v1/cameras", json={"name": "Porch"}, headers={"x-csrf-token": csrf})
    assert camera.status_code == 201, camera.text
    token = bearer(client, csrf, set(TOKEN_SCOPES))
    signed_in_only, reached = [], {}
    with TestClient(app) as anonymous, TestClient(app) as script:
        for name, url, body in _operations(app):
            method = name.split()[0]
            if anonymous.request(method, url, json=body).status_code != 401:
                continue  # public, or refused before the caller matters
            signed_in_only.append(name)
            answer = script.request(method, url, json=body, headers=token)
            if answer.status_code not in (401, 403):
                reached[name] = answer.status_code
    assert len(signed_in_only) > 80
    assert sorted(reached) == sorted(TOKEN_ROUTES)


def test_each_token_route_refuses_a_token_without_its_scope(
    app: FastAPI, client: TestClient
) -> None:
    csrf = resident(client)
    lacking = {scope: bearer(client, csrf, set(TOKEN_SCOPES) - {scope}) for scope in TOKEN_SCOPES}
    with TestClient(app) as script:
        for name, url, body in _operations(app):
            scope = TOKEN_ROUTES.get(name)
            if scope is None:
                continue
            answer = script.request(name.split()[0], url, json=body, headers=lacking[scope])
            assert answer.status_code == 403, f"{name} without {scope}: {answer.text}"


def test_the_event_stream_needs_clips_read(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    with TestClient(app) as script:
        lacking = bearer(client, csrf, set(TOKEN_SCOPES) - {"clips:read"})
        assert script.get("/api/v1/events", headers=lacking).status_code == 403
        token = bearer(client, csrf, {"clips:read"})
        with script.stream("GET", "/api/v1/events", headers=token) as stream:
            assert stream.status_code == 200
            assert next(stream.iter_lines()) == ": connected"


def test_the_export_holds_clips_so_it_needs_clips_read_too(
    app: FastAPI, client: TestClient
) -> None:
    csrf = resident(client)
    with TestClient(app) as script:
        account_only = bearer(client, csrf, {"account:read"})
        assert script.get("/api/v1/me/export", headers=account_only).status_code == 403
        both = bearer(client, csrf, {"account:read", "clips:read"})
        exported = script.get("/api/v1/me/export", headers=both)
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == "application/zip"


def test_a_token_works_behind_a_proxy_prefix(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    token = bearer(client, csrf, {"clips:read"})
    # As uvicorn --root-path passes it on: the prefix in the path and in root_path.
    with TestClient(app, root_path="/doorstep") as proxied:
        answer = proxied.get("/doorstep/api/v1/clips", headers=token)
        assert answer.status_code == 200, answer.text
        assert proxied.get("/doorstep/account", headers=token).status_code == 403


def test_a_token_does_not_reach_the_email_pages(app: FastAPI, client: TestClient) -> None:
    """Sending a confirmation link and adding or removing notification targets are for a browser."""
    csrf = resident(client)
    token = bearer(client, csrf, set(TOKEN_SCOPES))
    with TestClient(app) as script:
        for path in ("/account/email/verify", "/account/targets", "/account/targets/x/remove"):
            answer = script.post(
                path, headers=token, data={"url": "json://127.0.0.1:9/x"}, follow_redirects=False
            )
            assert answer.status_code == 403, path


def test_address_search_is_open_so_a_token_of_any_scope_may_ask(
    app: FastAPI, client: TestClient
) -> None:
    """POST /api/v1/places needs no sign-in (sign-up uses it): no scope, but a real token."""
    maps.write_gazetteer(app.state.doorstep.settings, [Place("1 Test St", 45.52, -122.68)])
    csrf = resident(client)
    token = bearer(client, csrf, {"feed:write"})
    with TestClient(app) as script:
        found = script.post("/api/v1/places", json={"query": "test st"}, headers=token)
        assert found.status_code == 200, found.text
        assert found.json()["places"][0]["label"] == "1 Test St"
        forged = {"authorization": "Bearer not-a-token"}
        assert script.post("/api/v1/places", json={"query": "x"}, headers=forged).status_code == 401
