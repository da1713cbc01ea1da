"""Deleting a clip, a camera or an account gives its owner a receipt that checks offline."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.cli import main
from doorstep.transparency import audit_store
from doorstep.transparency import service as transparency
from doorstep.transparency.rules_receipts import KEYS_DESTROYED, check_receipt, explain
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import PASSWORD, resident
from tests.samples import tiny_clip


def _log_key(app: FastAPI) -> bytes:
    return audit_store.public_key(app.state.doorstep.master_key)


def _publish(app: FastAPI) -> None:
    transparency.publish_heads(app.state.doorstep)


def _heads(app: FastAPI) -> list[Any]:
    with app.state.doorstep.db.session() as db:
        return audit_store.published_heads(db)


def _camera_with_clip(client: TestClient, csrf: str, tmp_path: Path) -> tuple[str, str]:
    camera = _camera(client, csrf)
    video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    uploaded = _upload(client, _pair(client, csrf, camera["id"]), video)
    assert uploaded.status_code == 201, uploaded.text
    return camera["id"], uploaded.json()["id"]


def _public_entry(client: TestClient, index: int) -> dict[str, Any]:
    rows = client.get(f"/api/v1/audit/entries?start={index}&end={index + 1}").json()
    body: dict[str, Any] = json.loads(rows[0]["body"])
    return body


def test_a_deleted_clip_has_a_receipt_that_names_nobody_in_public(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    camera_id, clip_id = _camera_with_clip(client, csrf, tmp_path)
    gone = client.delete(f"/api/v1/clips/{clip_id}", headers={"x-csrf-token": csrf})
    assert gone.status_code == 204, gone.text

    listed = client.get("/api/v1/me/receipts").json()
    assert [(r["what"], r["subject"]) for r in listed] == [("clip", clip_id)]
    # A download signs no head of its own: until the periodic job publishes one, try again.
    early = client.get(listed[0]["receipt_url"])
    assert early.status_code == 409, early.text
    assert "try again after the next head" in early.json()["detail"]
    heads = len(_heads(app))
    _publish(app)
    assert len(_heads(app)) == heads + 1
    response = client.get(listed[0]["receipt_url"])
    assert len(_heads(app)) == heads + 1
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    receipt = response.json()
    check = check_receipt(receipt, [_log_key(app)])
    assert check.ok, check.problem
    assert check.subject == clip_id

    public = _public_entry(client, receipt["index"])
    assert public["action"] == KEYS_DESTROYED
    assert public["owner"] is None
    assert public["actor"] is None
    assert set(public["detail"]) == {"what", "deletion"}
    published = json.dumps(public)
    assert clip_id not in published
    assert camera_id not in published
    assert receipt["nonce"] not in published


def test_another_resident_cannot_fetch_my_receipt(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    _, clip_id = _camera_with_clip(client, csrf, tmp_path)
    client.delete(f"/api/v1/clips/{clip_id}", headers={"x-csrf-token": csrf})
    _publish(app)
    url = client.get("/api/v1/me/receipts").json()[0]["receipt_url"]
    with TestClient(app) as bob:
        resident(bob, "bob@example.org", display_name="Bob")
        assert bob.get(url).status_code == 404
        assert bob.get("/api/v1/me/receipts").json() == []
        assert bob.get("/api/v1/me/receipts/notanumber").status_code == 422


def test_removing_a_camera_gives_one_receipt_for_the_camera(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    camera_id, _ = _camera_with_clip(client, csrf, tmp_path)
    removed = client.delete(f"/api/v1/cameras/{camera_id}", headers={"x-csrf-token": csrf})
    assert removed.status_code == 204, removed.text
    listed = client.get("/api/v1/me/receipts").json()
    assert [(r["what"], r["subject"]) for r in listed] == [("camera", camera_id)]
    _publish(app)
    assert check_receipt(client.get(listed[0]["receipt_url"]).json(), [_log_key(app)]).ok


def test_deleting_the_account_hands_over_its_receipt_and_the_cli_checks_it_offline(
    app: FastAPI,
    client: TestClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    csrf = resident(client)
    _camera_with_clip(client, csrf, tmp_path)
    me = client.get("/api/v1/me").json()
    deleted = client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers={"x-csrf-token": csrf}
    )
    assert deleted.status_code == 200, deleted.text
    receipt = deleted.json()
    assert (receipt["what"], receipt["subject"]) == ("account", me["id"])
    assert check_receipt(receipt, [_log_key(app)]).ok
    assert me["id"] not in json.dumps(_public_entry(client, receipt["index"]))

    path = tmp_path / "receipt.json"
    path.write_text(deleted.text)
    key = base64.b64encode(_log_key(app)).decode()
    capsys.readouterr()
    assert main(["audit", "receipt", str(path), "--key", key]) == 0
    assert capsys.readouterr().out.startswith(f"receipt OK: the keys of account {me['id']}")
    # Without a pinned key nothing is checked: the key inside a receipt is the receipt's word.
    assert main(["audit", "receipt", str(path)]) == 2
    assert f"the receipt names {receipt['log_key']} itself" in capsys.readouterr().out
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**receipt, "index": receipt["index"] + 1}))
    assert main(["audit", "receipt", str(edited), "--key", key]) == 1
    assert explain(deleted.text, [bytes(32)])[0] == 1


def test_the_account_page_lists_receipts_and_the_deletion_page_hands_one_over(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    _, clip_id = _camera_with_clip(client, csrf, tmp_path)
    assert "You have not deleted anything yet." in client.get("/account").text
    client.delete(f"/api/v1/clips/{clip_id}", headers={"x-csrf-token": csrf})
    seq = client.get("/api/v1/me/receipts").json()[0]["index"]
    page = client.get("/account").text
    assert f'href="/api/v1/me/receipts/{seq}" download' in page

    gone = client.post("/account/delete", data={"csrf_token": csrf, "password": PASSWORD})
    assert gone.status_code == 200
    encoded = re.search(r'href="data:application/json;base64,([^"]+)"', gone.text)
    assert encoded is not None
    receipt = json.loads(base64.b64decode(encoded.group(1)))
    assert receipt["what"] == "account"
    assert check_receipt(receipt, [_log_key(app)]).ok
