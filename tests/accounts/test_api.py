"""Accounts API: sign-up, login, sessions with CSRF, tokens, deletion, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.accounts.models import ApiToken, BrowserSession, User
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from tests.factories import PASSWORD, bearer, log_in, resident, sign_up

HOME = {"lat": 45.523612, "lon": -122.677144}


def _state(app: FastAPI) -> AppState:
    state: AppState = app.state.doorstep
    return state


def _count(app: FastAPI, model: type[Any]) -> int:
    with _state(app).db.session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


def test_sign_up_returns_the_exact_home_to_its_owner_only_with_a_public_cell(
    client: TestClient,
) -> None:
    user = sign_up(client, home=HOME)
    assert user["home"] == HOME
    assert user["home_cell"]["resolution"] <= 9
    assert user["role"] == "resident"
    assert "password" not in str(user).lower()


def test_a_taken_email_signs_up_as_if_new_and_changes_nothing(
    app: FastAPI, client: TestClient
) -> None:
    first = sign_up(client, "ada@example.org")
    body = {"email": " ADA@Example.org ", "password": "quiet-harbour-42", "display_name": "Other"}
    again = client.post("/api/v1/accounts", json=body)
    # The same answer as a new account's: sign-up does not tell that the address is taken.
    assert again.status_code == 201, again.text
    assert again.json()["email"] == "ada@example.org"
    assert again.json()["display_name"] == "Other"
    assert again.json()["id"] != first["id"]
    assert "set-cookie" not in again.headers
    assert _count(app, User) == 1
    # Nothing changed: the account keeps its own password and name.
    theirs = {"email": "ada@example.org", "password": "quiet-harbour-42"}
    assert client.post("/api/v1/session", json=theirs).status_code == 401
    log_in(client, "ada@example.org")
    assert client.get("/api/v1/me").json()["display_name"] == "Ada"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short", "at least 10"),
        ("password123", "commonly used"),
        ("aaaaaaaaaaaaaa", "different characters"),
        ("grace-hopper-77", "email or name"),
    ],
)
def test_weak_passwords_are_refused(
    app: FastAPI, client: TestClient, password: str, why: str
) -> None:
    body = {"email": "grace.hopper@example.org", "password": password, "display_name": "Grace"}
    problem = _problem(client.post("/api/v1/accounts", json=body), 422)
    assert why in problem["detail"]
    assert _count(app, User) == 0


@pytest.mark.parametrize(
    "home",
    [
        {"lat": 91, "lon": 0},
        {"lat": 0, "lon": -180.5},
        {"lat": "north", "lon": 0},
        {"lat": None, "lon": 0},
        {"lat": 10},
        {"lat": 1, "lon": 2, "alt": 3},
    ],
)
def test_malformed_coordinates_are_refused(
    app: FastAPI, client: TestClient, home: dict[str, Any]
) -> None:
    body = {"email": "x@example.org", "password": PASSWORD, "display_name": "X", "home": home}
    _problem(client.post("/api/v1/accounts", json=body), 422)
    assert _count(app, User) == 0


def test_nan_coordinates_are_refused(app: FastAPI, client: TestClient) -> None:
    raw = (
        '{"email": "x@example.org", "password": "' + PASSWORD + '", "display_name": "X",'
        ' "home": {"lat": NaN, "lon": 1}}'
    )
    response = client.post(
        "/api/v1/accounts", content=raw, headers={"content-type": "application/json"}
    )
    _problem(response, 422)
    assert _count(app, User) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a" * 250 + "@example.org", "password": PASSWORD, "display_name": "X"},
        {"email": "x@example.org", "password": PASSWORD, "display_name": "X" * 81},
        {"email": "x@example.org", "password": "p" * 257, "display_name": "X"},
        {"email": "not-an-email", "password": PASSWORD, "display_name": "X"},
        {"email": "x@example.org", "password": PASSWORD, "display_name": "   "},
        {"email": "x@example.org", "password": PASSWORD, "display_name": "X", "role": "admin"},
    ],
)
def test_oversized_or_malformed_fields_are_refused(
    app: FastAPI, client: TestClient, body: dict[str, Any]
) -> None:
    _problem(client.post("/api/v1/accounts", json=body), 422)
    assert _count(app, User) == 0


def test_login_sets_an_httponly_samesite_cookie(client: TestClient) -> None:
    sign_up(client)
    response = client.post(
        "/api/v1/session", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert response.status_code == 201
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert client.get("/api/v1/me").json()["email"] == "ada@example.org"


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient) -> None:
    sign_up(client)
    wrong = client.post("/api/v1/session", json={"email": "ada@example.org", "password": "nope"})
    unknown = client.post("/api/v1/session", json={"email": "bob@example.org", "password": "nope"})
    assert _problem(wrong, 401)["detail"] == _problem(unknown, 401)["detail"]


def test_repeated_failures_make_the_next_attempt_wait_briefly(client: TestClient) -> None:
    # From a browser that never signed in to the account: a short wait, right password or not.
    sign_up(client)
    for _ in range(3):
        client.post("/api/v1/session", json={"email": "ada@example.org", "password": "wrong-one"})
    locked = client.post("/api/v1/session", json={"email": "ada@example.org", "password": PASSWORD})
    _problem(locked, 429)
    assert 0 < int(locked.headers["retry-after"]) <= 120


def test_changes_through_a_session_need_the_csrf_header(client: TestClient) -> None:
    csrf = resident(client)
    forged = client.patch("/api/v1/me", json={"display_name": "Mallory"})
    assert _problem(forged, 403)["type"] == "/problems/csrf"
    wrong = client.patch(
        "/api/v1/me", json={"display_name": "Mallory"}, headers={"x-csrf-token": "guess"}
    )
    _problem(wrong, 403)
    assert client.get("/api/v1/me").json()["display_name"] == "Ada"
    ok = client.patch("/api/v1/me", json={"display_name": "Ada L."}, headers={"x-csrf-token": csrf})
    assert ok.json()["display_name"] == "Ada L."


def test_moving_home_moves_the_public_cell(client: TestClient) -> None:
    csrf = resident(client, home=HOME)
    far = {"lat": 51.5072, "lon": -0.1276}
    moved = client.patch("/api/v1/me", json={"home": far}, headers={"x-csrf-token": csrf}).json()
    assert moved["home"] == far
    assert moved["home_cell"]["lat"] == pytest.approx(51.5, abs=0.02)
    cleared = client.patch("/api/v1/me", json={"home": None}, headers={"x-csrf-token": csrf})
    assert cleared.json()["home"] is None
    assert cleared.json()["home_cell"] is None


def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = resident(client)
    assert client.delete("/api/v1/session", headers={"x-csrf-token": csrf}).status_code == 204
    _problem(client.get("/api/v1/me"), 401)


def test_change_password_ends_other_sessions(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    with TestClient(app) as other:
        log_in(other)
        body = {"current_password": PASSWORD, "new_password": "a-whole-new-lantern"}
        changed = client.post("/api/v1/me/password", json=body, headers={"x-csrf-token": csrf})
        assert changed.status_code == 200, changed.text
        _problem(other.get("/api/v1/me"), 401)
    assert client.get("/api/v1/me").status_code == 200
    # The session went on as a new one, with a CSRF token of its own: the old one is refused.
    fresh = changed.json()["csrf_token"]
    assert fresh
    assert fresh != csrf
    rename = {"display_name": "Ada L."}
    _problem(client.patch("/api/v1/me", json=rename, headers={"x-csrf-token": csrf}), 403)
    renamed = client.patch("/api/v1/me", json=rename, headers={"x-csrf-token": fresh})
    assert renamed.status_code == 200, renamed.text
    _problem(
        client.post("/api/v1/session", json={"email": "ada@example.org", "password": PASSWORD}), 401
    )
    assert log_in(client, password="a-whole-new-lantern")


def test_change_password_checks_the_current_one(client: TestClient) -> None:
    csrf = resident(client)
    body = {"current_password": "not-it-at-all", "new_password": "a-whole-new-lantern"}
    problem = _problem(
        client.post("/api/v1/me/password", json=body, headers={"x-csrf-token": csrf}), 422
    )
    assert problem["field"] == "current_password"


def test_delete_account_deletes_its_rows(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client, home=HOME)
    token = client.post(
        "/api/v1/me/tokens",
        json={"name": "script", "scopes": ["account:read"]},
        headers={"x-csrf-token": csrf},
    )
    assert token.status_code == 201
    sign_up(client, "bob@example.org", display_name="Bob")
    refused = client.request(
        "DELETE", "/api/v1/me", json={"password": "wrong-password"}, headers={"x-csrf-token": csrf}
    )
    _problem(refused, 422)
    deleted = client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers={"x-csrf-token": csrf}
    )
    assert deleted.status_code == 200
    with _state(app).db.session() as db:
        assert db.scalars(select(User.email)).all() == ["bob@example.org"]
        assert db.scalar(select(func.count()).select_from(ApiToken)) == 0
        assert db.scalar(select(func.count()).select_from(BrowserSession)) == 0
    _problem(client.get("/api/v1/me"), 401)


def test_api_tokens_are_hashed_scoped_and_revocable(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    created = client.post(
        "/api/v1/me/tokens",
        json={"name": "backup", "scopes": ["clips:read"]},
        headers={"x-csrf-token": csrf},
    ).json()
    secret = created["token"]
    with _state(app).db.session() as db:
        stored = db.scalars(select(ApiToken.token_hash)).all()
    assert secret not in stored
    assert len(stored) == 1
    bearer = {"authorization": f"Bearer {secret}"}
    with TestClient(app) as script:
        _problem(script.get("/api/v1/me", headers=bearer), 403)
        listed = client.get("/api/v1/me/tokens").json()
        assert [t["name"] for t in listed] == ["backup"]
        assert "token" not in listed[0]
        revoke = client.delete(f"/api/v1/me/tokens/{created['id']}", headers={"x-csrf-token": csrf})
        assert revoke.status_code == 204
        _problem(script.get("/api/v1/me/tokens", headers=bearer), 401)


def test_a_token_with_the_scope_works_without_csrf(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    secret = client.post(
        "/api/v1/me/tokens",
        json={"name": "reader", "scopes": ["account:read"]},
        headers={"x-csrf-token": csrf},
    ).json()["token"]
    with TestClient(app) as script:
        me = script.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
        assert me.json()["email"] == "ada@example.org"
        minted = script.post(
            "/api/v1/me/tokens",
            json={"name": "more", "scopes": ["account:read"]},
            headers={"authorization": f"Bearer {secret}"},
        )
        _problem(minted, 403)


def test_expired_and_forged_tokens_are_refused(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    secret = client.post(
        "/api/v1/me/tokens",
        json={"name": "short", "scopes": ["account:read"]},
        headers={"x-csrf-token": csrf},
    ).json()["token"]
    with _state(app).db.session() as db:
        for token in db.scalars(select(ApiToken)):
            token.expires_at = utcnow() - timedelta(seconds=1)
    with TestClient(app) as script:
        expired = script.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
        assert _problem(expired, 401)["type"] == "/problems/token-expired"
        forged = script.get("/api/v1/me", headers={"authorization": "Bearer dst_forged"})
        assert _problem(forged, 401)["type"] == "/problems/not-authenticated"
        basic = script.get("/api/v1/me", headers={"authorization": "Basic YTpi"})
        _problem(basic, 401)


def test_unknown_scopes_are_refused(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    response = client.post(
        "/api/v1/me/tokens",
        json={"name": "god", "scopes": ["admin"]},
        headers={"x-csrf-token": csrf},
    )
    _problem(response, 422)
    assert _count(app, ApiToken) == 0


def test_revoking_someone_elses_token_is_not_found(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    token_id = client.post(
        "/api/v1/me/tokens",
        json={"name": "mine", "scopes": ["account:read"]},
        headers={"x-csrf-token": csrf},
    ).json()["id"]
    with TestClient(app) as other:
        other_csrf = resident(other, "eve@example.org", display_name="Eve")
        response = other.delete(
            f"/api/v1/me/tokens/{token_id}", headers={"x-csrf-token": other_csrf}
        )
        _problem(response, 404)
    assert client.get("/api/v1/me/tokens").json()[0]["revoked_at"] is None


def test_a_read_in_one_hop_commits_what_it_records(app: FastAPI, client: TestClient) -> None:
    # The timeline reads on a single hop of its own; a token's first use must still be stored.
    csrf = resident(client)
    secret = client.post(
        "/api/v1/me/tokens",
        json={"name": "viewer", "scopes": ["clips:read"]},
        headers={"x-csrf-token": csrf},
    ).json()["token"]
    with _state(app).db.session() as db:
        assert db.scalars(select(ApiToken.last_used_at)).one() is None
    with TestClient(app) as script:
        page = script.get("/api/v1/clips", headers={"authorization": f"Bearer {secret}"})
        assert page.json() == {"clips": [], "next_cursor": None}
    with _state(app).db.session() as db:
        assert db.scalars(select(ApiToken.last_used_at)).one() is not None


def test_a_token_reaches_only_what_its_scopes_name(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    token = bearer(client, csrf, {"clips:read"}, name="clips:read")
    with TestClient(app) as script:
        # Account routes name no scope: a token given to read clips may not change the account,
        # list or revoke the other tokens, or change the password.
        _problem(script.patch("/api/v1/me", json={"display_name": "Mallory"}, headers=token), 403)
        _problem(script.get("/api/v1/me/tokens", headers=token), 403)
        body = {"current_password": PASSWORD, "new_password": "a-whole-new-lantern"}
        _problem(script.post("/api/v1/me/password", json=body, headers=token), 403)
        # The pages are for browsers: no token mints a broader one through the account form.
        minted = script.post(
            "/account/tokens",
            data={"name": "escalated", "scopes": ["clips:write", "feed:write"]},
            headers=token,
            follow_redirects=False,
        )
        assert minted.status_code == 403, minted.text
        assert script.get("/api/v1/clips", headers=token).status_code == 200
    assert client.get("/api/v1/me").json()["display_name"] != "Mallory"
    assert [token["name"] for token in client.get("/api/v1/me/tokens").json()] == ["clips:read"]
    assert log_in(client)
