"""Disclosed copies are signed; end-to-end encrypted clips are never signed server-side."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from doorstep.accounts.roles import Role
from doorstep.clips.models import Clip
from doorstep.media import provenance
from doorstep.media.provenance import Provenance, camera_pseudonym, read_manifest, source_digest
from doorstep.platform.blobs import LocalBlobStore
from doorstep.platform.keys import Keys
from doorstep.platform.types import utcnow
from doorstep.requests.service_provenance import copy_provenance
from doorstep.transparency.evidence import main_evidence
from tests.agencies.test_api import app_state, staff
from tests.cameras.test_api_devices import _camera, _pair
from tests.clips.test_api_e2e import _enable, _sealed_upload
from tests.legal.test_api import disclose, record, scene
from tests.legal.test_api_emergency import decide, file
from tests.samples import tiny_clip

pytestmark = pytest.mark.usefixtures("client")


def test_end_to_end_encrypted_clips_are_never_signed(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed: list[Provenance] = []
    real = provenance.sign_copy

    def counting(source: Path, target: Path, provenance: Provenance, identity: object) -> None:
        signed.append(provenance)
        real(source, target, provenance, identity)  # type: ignore[arg-type]

    monkeypatch.setattr("doorstep.media.copies.sign_copy", counting)
    s = scene(app)
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    sealed_camera = _camera(s.owner, s.owner_csrf, name="Sealed porch")
    token = _pair(s.owner, s.owner_csrf, sealed_camera["id"])
    key = _enable(s.owner, s.owner_csrf, sealed_camera["id"])
    uploaded = _sealed_upload(s.owner, token, key, tiny_clip(tmp_path / "c.mp4"), tmp_path)
    assert uploaded.status_code == 201, uploaded.text
    request_id = file(s, device_ids=[s.camera_id, sealed_camera["id"]]).json()["id"]
    decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    assert decide(second, second_csrf, request_id, "approve").json()["disclosed"] == 1
    named = decide(
        s.reviewer, s.reviewer_csrf, request_id, "disclose", clip_ids=[uploaded.json()["id"]]
    )
    assert named.status_code == 422
    # One signature, for the plain clip's copy; none for the sealed camera's.
    master = app_state(app).master_key
    assert [p.camera for p in signed] == [camera_pseudonym(master, request_id, s.camera_id)]
    assert [(p.purpose, p.faces_redacted) for p in signed] == [("disclosure", True)]
    assert camera_pseudonym(master, request_id, sealed_camera["id"]) != signed[0].camera


def test_no_provenance_is_made_for_an_end_to_end_encrypted_clip(tmp_path: Path) -> None:
    now = utcnow()
    clip = Clip(
        id="c1",
        camera_id="cam",
        owner_id="o",
        started_at=now,
        ended_at=now + timedelta(seconds=2),
        content_sha256="00" * 32,
        e2e=True,
    )
    keys = Keys(master=b"m" * 32, blobs=LocalBlobStore(tmp_path), scratch=tmp_path / "work")
    with pytest.raises(ValueError, match="end-to-end"):
        copy_provenance(
            keys,
            clip,
            purpose="share",
            reference="s",
            scope="r",
            faces_redacted=True,
            faces_found=0,
            lines=[],
        )


def test_a_disclosed_copy_verifies_by_its_signature_and_its_record(
    app: FastAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scene(app)
    [item] = disclose(s, record(s)["id"], clip_ids=[s.clip_id]).json()
    [held] = s.agency.get("/api/v1/evidence/disclosures").json()
    copy = s.agency.post(held["download_url"], headers={"x-csrf-token": s.agency_csrf}).content
    saved = tmp_path / "disclosed.mp4"
    saved.write_bytes(copy)
    anyone = s.owner  # the record is public: whoever holds the file may look its hash up
    assert main_evidence(["verify", str(saved)], http=anyone) == 0
    said = capsys.readouterr().out
    assert "provenance intact" in said
    assert "VERIFIED: disclosed.mp4 is a Doorstep disclosure (legal_demand) to" in said
    record_text = anyone.get(f"/api/v1/evidence/disclosure-hash/{item['sha256']}").text
    for private in (s.owner_id, s.camera_id, s.clip_id, item["id"]):
        assert private not in record_text
    # One changed byte: neither the signature nor the record accepts it.
    edited = bytearray(copy)
    edited[edited.index(b"mdat") + 64] ^= 0x01
    saved.write_bytes(edited)
    assert main_evidence(["verify", str(saved)], http=anyone) == 1
    assert anyone.get(f"/api/v1/evidence/disclosure-hash/{'0' * 64}").status_code == 404
    assert anyone.get("/api/v1/evidence/disclosure-hash/not-a-hash").status_code == 404


def test_one_clip_disclosed_under_two_cases_carries_no_hash_that_links_them(
    app: FastAPI, tmp_path: Path
) -> None:
    s = scene(app)
    with app_state(app).db.session() as db:
        clip = db.get(Clip, s.clip_id)
        assert clip is not None
        raw = clip.content_sha256
    demands = [record(s, reference=f"2026-CR-{n}")["id"] for n in (118, 119)]
    for demand_id in demands:
        assert disclose(s, demand_id, clip_ids=[s.clip_id]).status_code == 200
    held = s.agency.get("/api/v1/evidence/disclosures").json()
    by_demand: dict[str | None, dict[str, object]] = {}
    for item in held:
        saved = tmp_path / f"{item['demand_id']}.mp4"
        body = s.agency.post(item["download_url"], headers={"x-csrf-token": s.agency_csrf})
        saved.write_bytes(body.content)
        assert raw.encode() not in body.content
        by_demand[item["demand_id"]] = read_manifest(saved).copy
    master = app_state(app).master_key
    for demand_id in demands:
        copy = by_demand[demand_id]
        assert "source_sha256" not in copy
        assert copy["source_hmac"] == source_digest(master, demand_id, raw)
    one, two = (by_demand[d] for d in demands)
    # Neither the camera nor the source reads alike across the two cases.
    assert one["camera"] != two["camera"]
    assert one["source_hmac"] != two["source_hmac"]
