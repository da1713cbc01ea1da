"""Factories for test data, built through the same code paths the product uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "lantern-porch-9"


def sign_up(
    client: TestClient,
    email: str = "ada@example.org",
    *,
    display_name: str = "Ada",
    home: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Create a resident account through the API and return its private view."""
    body: dict[str, Any] = {"email": email, "password": PASSWORD, "display_name": display_name}
    if home is not None:
        body["home"] = home
    response = client.post("/api/v1/accounts", json=body)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


def log_in(client: TestClient, email: str = "ada@example.org", password: str = PASSWORD) -> str:
    """Log the client in (session cookie) and return the CSRF token for changes."""
    response = client.post("/api/v1/session", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


def resident(client: TestClient, email: str = "ada@example.org", **kwargs: Any) -> str:
    """Sign up and log in; return the CSRF token."""
    sign_up(client, email, **kwargs)
    return log_in(client, email)


def accept_invitations(client: TestClient, csrf: str, *sent: Any) -> list[dict[str, Any]]:
    """Accept the invitations ``sent`` (the inviter's answers, or their JSON) with their codes.

    The inviter hands each code over; the client's account must be the one invited.
    """
    answers: list[dict[str, Any]] = [s if isinstance(s, dict) else s.json() for s in sent]
    waiting = client.get("/api/v1/invitations")
    assert waiting.status_code == 200, waiting.text
    invitations: list[dict[str, Any]] = waiting.json()
    for answer in answers:
        accepted = client.post(
            f"/api/v1/invitations/{answer['id']}/accept",
            json={"code": answer["code"]},
            headers={"x-csrf-token": csrf},
        )
        assert accepted.status_code == 200, accepted.text
    return invitations


def bearer(client: TestClient, csrf: str, scopes: set[str], name: str = "script") -> dict[str, str]:
    """Mint an API token with ``scopes`` from a logged-in browser; its Authorization header."""
    minted = client.post(
        "/api/v1/me/tokens",
        json={"name": name, "scopes": sorted(scopes)},
        headers={"x-csrf-token": csrf},
    )
    assert minted.status_code == 201, minted.text
    return {"authorization": f"Bearer {minted.json()['token']}"}


def settle_jobs(app: Any, timeout: float = 60.0) -> None:
    """Wait until no share's agency copy is still being made by a background job.

    On the embedded default the owner's answer already waited for it; with a task queue the
    answer returns at once and a worker makes the copy, so a test reading it must wait here.
    """
    import time

    from doorstep.platform.types import utcnow
    from doorstep.requests.store import preparing_shares

    state = app.state.doorstep
    deadline = time.monotonic() + timeout
    while True:
        with state.db.session() as db:
            if not preparing_shares(db, utcnow() + timedelta(seconds=1)):
                return
        assert time.monotonic() < deadline, "a share's agency copy was never made"
        time.sleep(0.05)
