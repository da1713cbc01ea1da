"""Account pages through plain HTTP: forms, CSRF, errors shown in the form, escaping."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.accounts.models import User
from doorstep.platform.http.state import AppState
from tests.factories import PASSWORD


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def _users(app: FastAPI) -> int:
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        return int(db.scalar(select(func.count()).select_from(User)) or 0)


def _sign_up(client: TestClient, **fields: str) -> object:
    form = {
        "csrf_token": _csrf(client, "/signup"),
        "email": "ada@example.org",
        "password": PASSWORD,
        "display_name": "Ada",
        "home": "45.5236, -122.6771",
    }
    form.update(fields)
    return client.post("/signup", data=form, follow_redirects=False)


def test_landing_page_invites_sign_up(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/signup"' in page.text
    assert page.headers["cache-control"] == "no-store"


def _log_in(client: TestClient, email: str = "ada@example.org", next_path: str = "") -> Any:
    form = {"csrf_token": _csrf(client, "/login"), "email": email, "password": PASSWORD}
    if next_path:
        form["next"] = next_path
    return client.post("/login", data=form, follow_redirects=False)


def _signed_in(client: TestClient) -> None:
    _sign_up(client)
    assert _log_in(client).status_code == 303


def test_sign_up_then_log_in_shows_the_account(client: TestClient) -> None:
    response = _sign_up(client)
    assert response.status_code == 303  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    # No session from sign-up: it would tell a new address from a taken one.
    assert location.startswith("/login?signed_up=1")
    assert "doorstep_session" not in response.headers.get("set-cookie", "")  # type: ignore[attr-defined]
    page = client.get(location)
    assert "Thanks for signing up" in page.text
    logged_in = _log_in(client, next_path="/account?welcome=1")
    assert logged_in.headers["location"] == "/account?welcome=1"
    account = client.get("/account?welcome=1")
    assert "Welcome to Doorstep, Ada" in account.text
    assert "45.5236, -122.6771" in account.text
    assert "never the exact spot" in account.text


def test_a_taken_email_signs_up_the_same_way_and_changes_nothing(
    app: FastAPI, client: TestClient
) -> None:
    first = _sign_up(client)
    again = _sign_up(TestClient(app), display_name="Mallory", password="quiet-harbour-42")
    assert again.status_code == first.status_code == 303  # type: ignore[attr-defined]
    assert again.headers["location"] == first.headers["location"]  # type: ignore[attr-defined]
    assert again.text == first.text  # type: ignore[attr-defined]
    assert _users(app) == 1


def test_a_form_post_without_csrf_changes_nothing(app: FastAPI, client: TestClient) -> None:
    client.get("/signup")
    response = client.post(
        "/signup",
        data={"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 403
    assert "did not come from Doorstep" in response.text
    assert _users(app) == 0


def test_form_errors_are_shown_in_the_form_and_escaped(app: FastAPI, client: TestClient) -> None:
    response = _sign_up(client, display_name="<script>alert(1)</script>", password="short")
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "at least 10 characters" in text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert _users(app) == 0


def test_malformed_home_text_is_a_form_error(app: FastAPI, client: TestClient) -> None:
    for home in ("north pole", "91, 0", "nan, 3", "1, 2, 3"):
        response = _sign_up(client, home=home)
        assert response.status_code == 422, home  # type: ignore[attr-defined]
    assert _users(app) == 0


def test_log_out_and_back_in(client: TestClient) -> None:
    _signed_in(client)
    csrf = _csrf(client, "/account")
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/account", follow_redirects=False).headers["location"].startswith("/login")
    login_csrf = _csrf(client, "/login")
    bad = client.post(
        "/login",
        data={"csrf_token": login_csrf, "email": "ada@example.org", "password": "wrong-pass"},
    )
    assert bad.status_code == 401
    assert "wrong email or password" in bad.text.lower()
    good = client.post(
        "/login",
        data={"csrf_token": login_csrf, "email": "ada@example.org", "password": PASSWORD},
        follow_redirects=False,
    )
    assert good.headers["location"] == "/account"


def test_login_next_only_goes_to_our_own_paths(client: TestClient) -> None:
    _signed_in(client)
    client.post("/logout", data={"csrf_token": _csrf(client, "/account")})
    response = client.post(
        "/login",
        data={
            "csrf_token": _csrf(client, "/login"),
            "email": "ada@example.org",
            "password": PASSWORD,
            "next": "//evil.example/steal",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/account"


def test_account_forms_change_password_and_delete(app: FastAPI, client: TestClient) -> None:
    _signed_in(client)
    csrf = _csrf(client, "/account")
    wrong = client.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": "nope-nope-nope", "new_password": "x"},
    )
    assert wrong.status_code == 422
    assert "current password is wrong" in wrong.text
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": "brand-new-lantern",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    csrf = _csrf(client, "/account")
    kept = client.post("/account/delete", data={"csrf_token": csrf, "password": PASSWORD})
    assert kept.status_code == 422
    assert _users(app) == 1
    gone = client.post(
        "/account/delete",
        data={"csrf_token": csrf, "password": "brand-new-lantern"},
        follow_redirects=False,
    )
    # The receipt is handed over on the page itself: nothing is left to fetch it with.
    assert gone.status_code == 200
    assert 'data-testid="account-receipt"' in gone.text
    assert "doorstep-deletion-receipt/v1" in gone.text
    assert "doorstep_session" not in client.cookies
    assert _users(app) == 0


def test_tokens_from_the_account_page(client: TestClient) -> None:
    _signed_in(client)
    csrf = _csrf(client, "/account")
    page = client.post(
        "/account/tokens", data={"csrf_token": csrf, "name": "nas", "scopes": ["account:read"]}
    )
    secret = re.search(r'data-testid="new-token">([^<]+)<', page.text)
    assert secret is not None
    me = client.get("/api/v1/me", headers={"authorization": f"Bearer {secret.group(1)}"})
    assert me.status_code == 200
