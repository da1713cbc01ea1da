"""Delete means gone (I6): shredding a clip shreds its preview, its shares' and disclosures' copies.

Deleting a clip, its expiry and deleting the account each leave nothing any key the server holds
can decrypt: the redacted preview, the agency copy of every share (withdrawn, so the agency sees a
410, not a 500 or a broken download) and every copy disclosed under legal process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.accounts.models import OwnerKey
from doorstep.clips.jobs import sweep_expired
from doorstep.clips.models import Clip
from doorstep.legal.models import Disclosure
from doorstep.legal.service_disclose import disclosure_key_context
from doorstep.platform.crypto import (
    DecryptionFailed,
    clip_key_context,
    decrypt_all,
    owner_key_context,
    unwrap_key,
)
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from doorstep.requests.jobs import prepare_share
from doorstep.requests.models import ClipPreview, Share
from doorstep.requests.service import preview_key_context, share_key_context
from doorstep.transparency.verify import verify_server
from tests.agencies.test_api import app_state, owner_with_clip, verified_agency
from tests.factories import PASSWORD
from tests.legal.test_api import disclose, record, scene
from tests.requests.test_api import DECLINER, SHARER, _answer, _created, post_rfa

PROBLEM_JSON = "application/problem+json"


def every_key_held(state: AppState) -> list[bytes]:
    """The master key and every key it or an owner's data key still opens."""
    held = [state.master_key]
    with state.db.session() as db:
        data_keys = {
            row.user_id: unwrap_key(
                state.master_key, row.wrapped_key, context=owner_key_context(row.user_id)
            )
            for row in db.scalars(select(OwnerKey))
        }
        held += data_keys.values()
        for clip in db.scalars(select(Clip).where(Clip.wrapped_key.is_not(None))):
            assert clip.wrapped_key is not None
            context = clip_key_context(clip.owner_id, clip.id)
            held.append(unwrap_key(data_keys[clip.owner_id], clip.wrapped_key, context=context))
        for preview in db.scalars(select(ClipPreview)):
            context = preview_key_context(preview.clip_id)
            held.append(unwrap_key(state.master_key, preview.wrapped_key, context=context))
        for share in db.scalars(select(Share).where(Share.wrapped_key.is_not(None))):
            assert share.wrapped_key is not None
            context = share_key_context(share.id)
            held.append(unwrap_key(state.master_key, share.wrapped_key, context=context))
        for row in db.scalars(select(Disclosure).where(Disclosure.wrapped_key.is_not(None))):
            assert row.wrapped_key is not None
            context = disclosure_key_context(row.id)
            held.append(unwrap_key(state.master_key, row.wrapped_key, context=context))
    return held


def assert_undecryptable(state: AppState, sealed: dict[str, bytes]) -> None:
    """The blobs are removed, and the bytes they held open with no key the server still has."""
    held = every_key_held(state)
    for blob_key, data in sealed.items():
        assert not state.blobs.exists(blob_key), blob_key
        for key in held:
            with pytest.raises(DecryptionFailed):
                decrypt_all([data], key)


def _read(state: AppState, blob_key: str) -> bytes:
    return b"".join(state.blobs.open_stream(blob_key))


@dataclass
class Shared:
    """An owner's clip, previewed and shared with a request; a neighbour's clip shared too."""

    owner: TestClient
    owner_csrf: str
    clip_id: str
    agency: TestClient
    item: dict[str, Any]
    other_item: dict[str, Any]
    sealed: dict[str, bytes]
    agency_csrf: str

    def download(self, url: str) -> Any:
        """The agency's explicit download: a POST with its CSRF token."""
        return self.agency.post(url, headers={"x-csrf-token": self.agency_csrf})


def shared_clip(app: FastAPI) -> Shared:
    state = app_state(app)
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org", position=SHARER)
    neighbour, neighbour_csrf, neighbour_clip = owner_with_clip(
        app, "neighbour@example.org", position=DECLINER
    )
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    for client, token, chosen in (
        (owner, owner_csrf, clip_id),
        (neighbour, neighbour_csrf, neighbour_clip),
    ):
        assert client.get(f"/api/v1/inbox/{rfa['id']}/clips/{chosen}/preview").status_code == 200
        answered = _answer(client, token, rfa["id"], decision="share", clip_ids=[chosen])
        assert answered.status_code == 200, answered.text
    locker = agency.get("/api/v1/evidence").json()
    assert len(locker) == 2
    mine = owner.get("/api/v1/disclosures").json()[0]["id"]
    item = next(entry for entry in locker if entry["id"] == mine)
    other_item = next(entry for entry in locker if entry["id"] != mine)
    with state.db.session() as db:
        clip = db.get(Clip, clip_id)
        preview = db.get(ClipPreview, clip_id)
        share = db.get(Share, item["id"])
        assert clip is not None
        assert preview is not None
        assert share is not None
        assert share.wrapped_key is not None
        blob_keys = [clip.video_key, clip.snapshot_key, preview.blob_key, share.blob_key]
    sealed = {blob_key: _read(state, blob_key) for blob_key in blob_keys}
    # Before: the preview and the agency copy open with keys the server holds.
    held = every_key_held(state)
    for blob_key in (blob_keys[2], blob_keys[3]):
        assert any(_opens(sealed[blob_key], key) for key in held)
    return Shared(owner, owner_csrf, clip_id, agency, item, other_item, sealed, csrf)


def _opens(data: bytes, key: bytes) -> bool:
    try:
        decrypt_all([data], key)
    except DecryptionFailed:
        return False
    return True


def _delete(app: FastAPI, s: Shared, how: str) -> None:
    headers = {"x-csrf-token": s.owner_csrf}
    if how == "delete":
        response = s.owner.delete(f"/api/v1/clips/{s.clip_id}", headers=headers)
        assert response.status_code == 204, response.text
    elif how == "bulk":
        response = s.owner.post("/api/v1/clips/delete", json={"all": True}, headers=headers)
        assert response.json() == {"deleted": 1}
    elif how == "retention":
        state = app_state(app)
        with state.db.session() as db:
            clip = db.get(Clip, s.clip_id)
            assert clip is not None
            clip.expires_at = utcnow() - timedelta(minutes=1)
        assert sweep_expired(state.db, state.keys) == 1
    else:
        response = s.owner.request(
            "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=headers
        )
        assert response.status_code == 200, response.text


def _assert_gone_for_the_agency(s: Shared, item: dict[str, Any], status: int) -> None:
    responses = [s.download(item["download_url"])]
    for headers in ({}, {"range": "bytes=0-99"}):
        responses.append(s.agency.get(item["video_url"], headers=headers))
    for response in responses:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["status"] == status


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize("how", ["delete", "bulk", "retention", "account"])
def test_shredding_a_clip_shreds_its_preview_and_the_agency_copy(app: FastAPI, how: str) -> None:
    s = shared_clip(app)
    state = app_state(app)
    viewed = s.agency.get(s.item["video_url"], headers={"range": "bytes=1-"})
    assert viewed.status_code == 206
    _delete(app, s, how)

    assert_undecryptable(state, s.sealed)
    with state.db.session() as db:
        assert db.get(ClipPreview, s.clip_id) is None
        share = db.get(Share, s.item["id"])
        if how == "account":
            # The account's rows go by cascade, its shares with them.
            assert share is None
        else:
            assert share is not None
            assert share.wrapped_key is None
            assert share.state == "withdrawn"

    locker = {entry["id"]: entry for entry in s.agency.get("/api/v1/evidence").json()}
    if how == "account":
        assert s.item["id"] not in locker
        _assert_gone_for_the_agency(s, s.item, 404)
    else:
        tombstone = locker[s.item["id"]]
        assert tombstone["state"] == "withdrawn"
        assert tombstone["video_url"] is None
        assert tombstone["download_url"] is None
        assert tombstone["withdrawn_at"] is not None
        assert "deleted" in tombstone["note"]
        assert tombstone["sha256"] == s.item["sha256"]
        _assert_gone_for_the_agency(s, s.item, 410)
        problem = s.download(s.item["download_url"]).json()
        assert problem["type"] == "/problems/evidence-withdrawn"
        # The agency's locker page says so too, with nothing left to play or download.
        page = s.agency.get("/agency/evidence").text
        assert 'data-testid="withdrawn-note"' in page
        assert s.item["video_url"] not in page
        assert s.other_item["video_url"] in page
        # The owner's history keeps the share and every access to it.
        [history] = s.owner.get("/api/v1/disclosures").json()
        assert history["state"] == "withdrawn"
        assert history["revocable"] is False
        assert [a["action"] for a in history["accesses"]] == ["view"]
        # Nothing is left to revoke: a state conflict, as for a share already revoked.
        revoked = s.owner.post(
            f"/api/v1/shares/{s.item['id']}/revoke", headers={"x-csrf-token": s.owner_csrf}
        )
        assert revoked.status_code == 409
        assert "withdrawn" in revoked.json()["detail"]

    # The neighbour's share of the same request is untouched.
    assert locker[s.other_item["id"]]["state"] == "active"
    assert s.download(s.other_item["download_url"]).status_code == 200

    # The withdrawal is in the public log, without the share's id, and the log verifies.
    public = TestClient(app)
    entries = [json.loads(e["body"]) for e in public.get("/api/v1/audit/entries").json()]
    withdrawn = [e for e in entries if e["action"] == "share.withdraw"]
    assert len(withdrawn) == 1
    assert (
        withdrawn[0]["detail"]["reason"]
        == {
            "delete": "deleted_by_owner",
            "bulk": "deleted_by_owner",
            "retention": "retention_expired",
            "account": "account_deleted",
        }[how]
    )
    assert withdrawn[0]["actor_role"] == ("system" if how == "retention" else "resident")
    assert s.item["id"] not in json.dumps(withdrawn)
    report = verify_server(public)
    assert report.ok, report.problem


@pytest.mark.usefixtures("client")
def test_a_downloaded_share_is_withdrawn_too_and_its_history_kept(app: FastAPI) -> None:
    s = shared_clip(app)
    state = app_state(app)
    assert s.download(s.item["download_url"]).status_code == 200
    [before] = s.owner.get("/api/v1/disclosures").json()
    assert before["state"] == "downloaded"
    _delete(app, s, "delete")
    assert_undecryptable(state, s.sealed)
    [after] = s.owner.get("/api/v1/disclosures").json()
    assert after["state"] == "withdrawn"
    assert after["downloaded_at"] == before["downloaded_at"]
    assert [a["action"] for a in after["accesses"]] == ["download"]
    _assert_gone_for_the_agency(s, s.item, 410)


@pytest.mark.usefixtures("client")
def test_a_share_still_preparing_never_gets_a_copy(app: FastAPI) -> None:
    state = app_state(app)
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    # The copy is made after the answer commits; take its job away so the share stays preparing.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("doorstep.platform.queue.core.send_after_commit", lambda *_args: None)
        answered = owner.post(
            f"/api/v1/inbox/{rfa['id']}/answer",
            json={"decision": "share", "clip_ids": [clip_id]},
            headers={"x-csrf-token": owner_csrf},
        )
        assert answered.status_code == 200, answered.text
    [preparing] = owner.get("/api/v1/disclosures").json()
    assert preparing["state"] == "preparing"
    assert (
        owner.delete(f"/api/v1/clips/{clip_id}", headers={"x-csrf-token": owner_csrf}).status_code
        == 204
    )
    assert prepare_share(state.db, state.keys, preparing["id"]) is False
    assert list(state.blobs.keys("shares/")) == []
    assert list(state.blobs.keys("jobs/")) == []
    assert owner.get("/api/v1/disclosures").json()[0]["state"] == "withdrawn"
    # The agency never saw it, and does not now.
    assert agency.get("/api/v1/evidence").json() == []


@pytest.mark.parametrize("gagged", [False, True])
def test_deleting_footage_disclosed_under_a_warrant_shreds_the_agency_copy(
    app: FastAPI, client: TestClient, gagged: bool
) -> None:
    s = scene(app)
    state = app_state(app)
    demand = record(s)
    if gagged:
        ends = (utcnow() + timedelta(days=3)).isoformat()
        ordered = s.reviewer.post(
            f"/api/v1/legal/demands/{demand['id']}/non-disclosure-order",
            json={"ends_at": ends},
            headers={"x-csrf-token": s.reviewer_csrf},
        )
        assert ordered.status_code == 200, ordered.text
    made = disclose(s, demand["id"], clip_ids=[s.clip_id])
    assert made.status_code == 200, made.text
    [item] = made.json()
    with state.db.session() as db:
        row = db.get(Disclosure, item["id"])
        assert row is not None
        blob_key = row.blob_key
    sealed = {blob_key: _read(state, blob_key)}

    # The agency has not downloaded it yet; the owner deletes the clip, which is their right.
    deleted = s.owner.delete(f"/api/v1/clips/{s.clip_id}", headers={"x-csrf-token": s.owner_csrf})
    assert deleted.status_code == 204
    assert_undecryptable(state, sealed)
    download = s.agency.post(item["download_url"], headers={"x-csrf-token": s.agency_csrf})
    assert download.status_code == 404
    assert download.headers["content-type"] == PROBLEM_JSON

    entries = [json.loads(e["body"]) for e in client.get("/api/v1/audit/entries").json()]
    [shredded] = [e for e in entries if e["action"] == "disclosure.shred"]
    assert shredded["detail"]["disclosure"] == item["id"]
    assert shredded["detail"]["basis"] == demand["id"]
    assert shredded["detail"]["downloaded"] is False
    assert shredded["detail"]["reason"] == "deleted_by_owner"
    assert s.owner_id not in json.dumps(entries)
    # An owner still under a non-disclosure order does not learn of it from their own log.
    mine = [e["action"] for e in s.owner.get("/api/v1/me/audit").json()]
    assert ("disclosure.shred" in mine) is not gagged
    report = verify_server(client)
    assert report.ok, report.problem
