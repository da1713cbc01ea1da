"""Sessions (fixation, CSRF, brute force) and the security headers on every kind of response."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from doorstep.app import create_app
from doorstep.platform.http.deps import SESSION_COOKIE
from doorstep.settings import Environment, Settings
from tests.factories import PASSWORD, resident, sign_up

PROBLEM = "application/problem+json"
HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def test_a_session_cookie_set_before_login_is_not_kept(client: TestClient) -> None:
    """Log-in issues a fresh session id; the planted one never becomes authenticated."""
    sign_up(client)
    client.cookies.set(SESSION_COOKIE, "planted-by-attacker")
    response = client.post(
        "/api/v1/session", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert response.status_code == 201
    issued = response.cookies[SESSION_COOKIE]
    assert issued != "planted-by-attacker"
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, "planted-by-attacker")
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["missing", "wrong"])
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PATCH", "/api/v1/me", {"display_name": "Mallory"}),
        ("POST", "/api/v1/me/tokens", {"name": "stolen", "scopes": ["account:read"]}),
        ("DELETE", "/api/v1/me", {"password": PASSWORD}),
    ],
)
def test_cookie_changes_without_the_csrf_token_are_refused(
    client: TestClient, method: str, url: str, body: dict[str, object], token: str | None
) -> None:
    """A forged change is a 403 problem and leaves the account as it was."""
    resident(client)
    headers = {"x-csrf-token": token} if token else {}
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    me = client.get("/api/v1/me").json()
    assert me["display_name"] == "Ada"
    assert client.get("/api/v1/me/tokens").json() == []


def test_a_cross_site_form_post_to_a_page_is_refused(client: TestClient) -> None:
    """A form from another site carries the cookie but not the token."""
    resident(client)
    response = client.post(
        "/account/profile", data={"display_name": "Mallory"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.get("/api/v1/me").json()["display_name"] == "Ada"


def test_login_throttling_holds_even_for_the_right_password(client: TestClient) -> None:
    """After the free failures, a browser that never signed in waits, even with the right one."""
    sign_up(client)
    for _ in range(3):
        wrong = client.post("/api/v1/session", json={"email": "ada@example.org", "password": "x"})
        assert wrong.status_code == 401
    right = client.post("/api/v1/session", json={"email": "ada@example.org", "password": PASSWORD})
    assert right.status_code == 429
    assert right.headers["content-type"] == PROBLEM
    assert int(right.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    ("url", "accept", "status"),
    [
        ("/", "text/html", 200),
        ("/healthz", "application/json", 200),
        ("/static/favicon.svg", "*/*", 200),
        ("/api/v1/me", "application/json", 401),
        ("/no-such-page", "text/html", 404),
        ("/api/v1/no-such-route", "application/json", 404),
        ("/api/v1/audit/entries?start=-1", "application/json", 422),
    ],
)
def test_security_headers_on_every_kind_of_response(
    client: TestClient, url: str, accept: str, status: int
) -> None:
    """HTML, JSON, static files and errors all carry the same headers."""
    response = client.get(url, headers={"accept": accept})
    assert response.status_code == status
    for name, value in HEADERS.items():
        assert value in response.headers[name]
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_security_headers_on_a_refused_body(client: TestClient) -> None:
    """The body limit answers from middleware, and still with the headers."""
    response = client.post(
        "/api/v1/accounts", content=b"{}", headers={"content-length": str(10 * 1024**3)}
    )
    assert response.status_code == 413
    for name, value in HEADERS.items():
        assert value in response.headers[name]


def test_security_headers_on_the_event_stream(client: TestClient) -> None:
    """The live-events stream starts with the headers like any other response."""
    resident(client)
    with client.stream("GET", "/api/v1/events", headers={"accept": "text/event-stream"}) as stream:
        assert stream.status_code == 200
        for name, value in HEADERS.items():
            assert value in stream.headers[name]


@pytest.fixture(params=["https://doorstep.example", "http://localhost:8000"])
def public_client(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[tuple[TestClient, bool]]:
    """An app served at an https or a plain http public URL."""
    url: str = request.param
    settings = Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=database_url,
        public_url=url,
    )
    with TestClient(create_app(settings), base_url=url) as client:
        yield client, url.startswith("https://")


def test_hsts_and_secure_cookies_only_over_tls(public_client: tuple[TestClient, bool]) -> None:
    """HSTS and Secure cookies exactly when the public URL is https."""
    client, tls = public_client
    sign_up(client)
    response = client.post(
        "/api/v1/session", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert ("strict-transport-security" in response.headers) is tls
    cookie = response.headers["set-cookie"]
    assert ("secure" in cookie.lower()) is tls
    assert "httponly" in cookie.lower()
