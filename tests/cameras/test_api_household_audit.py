"""Household members view but never delete; every non-owner access lands in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.platform.http.state import AppState
from doorstep.transparency import audit_store as audit
from doorstep.transparency.merkle import leaf_hash
from doorstep.transparency.models import AuditEntry
from doorstep.transparency.verify import verify_server
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import accept_invitations, resident
from tests.samples import tiny_clip


def _state(app: FastAPI) -> AppState:
    state: AppState = app.state.doorstep
    return state


@pytest.fixture
def shared(
    app: FastAPI, client: TestClient, clip_bytes: bytes
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Ada owns a camera with a clip and lets Bob (household) view it."""
    csrf = resident(client)
    camera = _camera(client, csrf)
    clip = _upload(client, _pair(client, csrf, camera["id"]), clip_bytes).json()
    with TestClient(app) as bob:
        bob_csrf = resident(bob, "bob@example.org", display_name="Bob")
        invited = client.post(
            f"/api/v1/cameras/{camera['id']}/household",
            json={"email": "BOB@example.org"},
            headers={"x-csrf-token": csrf},
        )
        assert invited.status_code == 202, invited.text
        accept_invitations(bob, bob_csrf, invited)
        yield (
            bob,
            {
                "csrf": csrf,
                "bob_csrf": bob_csrf,
                "camera": camera["id"],
                "clip": clip["id"],
                "bob": bob.get("/api/v1/me").json()["id"],
            },
        )


@pytest.fixture
def clip_bytes(tmp_path: Path) -> bytes:
    return tiny_clip(tmp_path / "clip.mp4").read_bytes()


def test_a_household_member_views_but_cannot_delete(
    client: TestClient, shared: tuple[TestClient, dict[str, str]]
) -> None:
    bob, ids = shared
    listed = bob.get("/api/v1/clips").json()["clips"]
    assert [clip["id"] for clip in listed] == [ids["clip"]]
    assert bob.get(f"/api/v1/clips/{ids['clip']}/video").status_code == 200
    refused = bob.delete(f"/api/v1/clips/{ids['clip']}", headers={"x-csrf-token": ids["bob_csrf"]})
    assert refused.status_code == 403
    assert "view clips, not delete" in refused.json()["detail"]
    bulk = bob.post(
        "/api/v1/clips/delete",
        json={"ids": [ids["clip"]]},
        headers={"x-csrf-token": ids["bob_csrf"]},
    )
    assert bulk.status_code == 403
    assert bob.get(f"/api/v1/cameras/{ids['camera']}").status_code == 404
    assert client.get(f"/api/v1/clips/{ids['clip']}").status_code == 200


def test_household_access_is_audited_and_shown_to_the_owner(
    client: TestClient, shared: tuple[TestClient, dict[str, str]]
) -> None:
    bob, ids = shared
    client.get(f"/api/v1/clips/{ids['clip']}/video")
    client.get(f"/api/v1/clips/{ids['clip']}/snapshot")
    bob.get(f"/api/v1/clips/{ids['clip']}/video", headers={"range": "bytes=0-99"})
    bob.get(f"/api/v1/clips/{ids['clip']}/video", headers={"range": "bytes=100-199"})
    bob.get(f"/api/v1/clips/{ids['clip']}/video?download=true")
    bob.get(f"/api/v1/clips/{ids['clip']}/snapshot")
    mine = client.get("/api/v1/me/audit").json()
    # The owner's own look is not logged; each of Bob's requests is, whatever its range.
    assert [entry["action"] for entry in mine] == [
        "clip.snapshot",
        "clip.download",
        "clip.view",
        "clip.view",
    ]
    assert [entry["detail"].get("bytes") for entry in mine][2:] == ["100-199", "0-99"]
    assert all(entry["detail"]["clip"] == ids["clip"] for entry in mine)
    assert all(entry["actor_role"] == "resident" for entry in mine)
    public = client.get("/api/v1/audit/entries").json()
    text = " ".join(entry["body"] for entry in public)
    assert ids["bob"] not in text
    assert "bob@example.org" not in text


def test_revoked_members_lose_access(
    client: TestClient, shared: tuple[TestClient, dict[str, str]]
) -> None:
    bob, ids = shared
    revoke = client.delete(
        f"/api/v1/cameras/{ids['camera']}/household/{ids['bob']}",
        headers={"x-csrf-token": ids["csrf"]},
    )
    assert revoke.status_code == 204
    assert bob.get(f"/api/v1/clips/{ids['clip']}/video").status_code == 404
    assert bob.get("/api/v1/clips").json()["clips"] == []


@pytest.mark.parametrize(
    ("email", "status"),
    # Nobody's address and a member's get the invitation's usual answer: saying otherwise
    # would tell whether an account exists. Only the owner's own address is refused.
    [("nobody@example.org", 202), ("ada@example.org", 422), ("bob@example.org", 202)],
)
def test_invitations_tell_nothing_but_the_owners_own_address_is_refused(
    client: TestClient, shared: tuple[TestClient, dict[str, str]], email: str, status: int
) -> None:
    bob, ids = shared
    response = client.post(
        f"/api/v1/cameras/{ids['camera']}/household",
        json={"email": email},
        headers={"x-csrf-token": ids["csrf"]},
    )
    assert response.status_code == status


def _fill_log(app: FastAPI, count: int) -> None:
    state = _state(app)
    with state.db.session() as db:
        for n in range(count):
            audit.record(
                db, state.master_key, "test.entry", actor=None, owner_id=None, detail={"n": n}
            )


def test_the_log_verifies_and_proofs_check_out(app: FastAPI, client: TestClient) -> None:
    _fill_log(app, 13)
    report = verify_server(client)
    assert report.ok, report.problem
    assert report.size == 13
    proof = client.get("/api/v1/audit/proof/inclusion", params={"seq": 5, "size": 13})
    assert proof.status_code == 200
    assert len(proof.json()["proof"]) == 4
    consistency = client.get("/api/v1/audit/proof/consistency", params={"old": 7, "new": 13})
    assert consistency.status_code == 200
    assert (
        client.get("/api/v1/audit/proof/inclusion", params={"seq": 13, "size": 13}).status_code
        == 422
    )


@pytest.mark.parametrize("tamper", ["edit", "drop", "reorder"])
def test_tampering_with_any_stored_entry_is_detected(
    app: FastAPI, client: TestClient, tamper: str
) -> None:
    _fill_log(app, 9)
    state = _state(app)
    with state.db.session() as db:
        rows = {row.seq: row for row in db.scalars(select(AuditEntry))}
        if tamper == "edit":
            rows[4].body = rows[4].body.replace('"n":4', '"n":40')
            rows[4].leaf_hash = leaf_hash(rows[4].body.encode()).hex()
        elif tamper == "drop":
            db.delete(rows[3])
        else:
            rows[2].body, rows[6].body = rows[6].body, rows[2].body
            rows[2].leaf_hash, rows[6].leaf_hash = rows[6].leaf_hash, rows[2].leaf_hash
    report = verify_server(client)
    assert not report.ok
    assert report.problem


def test_verify_reports_an_unreachable_server() -> None:
    with pytest.raises(httpx.HTTPError), httpx.Client(base_url="http://127.0.0.1:9") as c:
        verify_server(c)
