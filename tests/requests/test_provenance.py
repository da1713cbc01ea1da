"""A share's agency copy carries signed provenance that c2pa's reader and evidence verify accept."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import c2pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.media.provenance import (
    ASSERTION,
    new_signing_file,
    parse_signing_file,
    signing_identity,
    source_digest,
)
from doorstep.requests.rules_terms import ONWARD_USE_TERMS, TERMS_VERSION
from doorstep.transparency.evidence import main_evidence
from tests.agencies.test_api import app_state, owner_with_clip, verified_agency
from tests.requests.test_api import _answer, _created, post_rfa
from tests.samples import tiny_clip


def test_the_agency_copy_is_signed_and_any_edit_fails(
    app: FastAPI, client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org", video=video)
    clip = owner.get(f"/api/v1/clips/{clip_id}").json()
    me = owner.get("/api/v1/me").json()
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    item = agency.get("/api/v1/evidence").json()[0]
    delivered = agency.post(item["download_url"], headers={"x-csrf-token": csrf}).content
    assert hashlib.sha256(delivered).hexdigest() == item["sha256"]
    saved = tmp_path / "evidence.mp4"
    saved.write_bytes(delivered)

    root = signing_identity(app_state(app).settings.data_dir).root_pem
    settings = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": root}}
    with (
        c2pa.Context.from_dict(settings) as context,
        saved.open("rb") as handle,
        c2pa.Reader("video/mp4", handle, None, context) as reader,
    ):
        assert reader.get_validation_state() == "Trusted"
        report = json.loads(reader.json())
    active = report["manifests"][report["active_manifest"]]
    assertions = {a["label"]: a["data"] for a in active["assertions"]}
    copy = assertions[ASSERTION]
    raw = hashlib.sha256(video).hexdigest()
    assert copy["source_hmac"] == source_digest(app_state(app).master_key, rfa["id"], raw)
    assert raw not in json.dumps(report)
    assert copy["captured_from"][:19] == clip["started_at"][:19]
    assert (copy["purpose"], copy["faces_redacted"]) == ("share", True)
    assert (copy["onward_use_terms"], copy["terms_version"]) == (
        list(ONWARD_USE_TERMS),
        TERMS_VERSION,
    )
    edits = [
        (a.get("parameters") or {}).get("org.doorstep.edit")
        for a in assertions["c2pa.actions.v2"]["actions"]
    ]
    assert edits == [None, "faces_redacted", "watermark_added"]
    # Nothing in the manifest names the household: no camera, clip or owner id, no name.
    text = json.dumps(report)
    for value in (clip["camera_id"], clip_id, me["id"], me["email"], me["display_name"]):
        assert value not in text

    ca = tmp_path / "operator-ca.pem"
    ca.write_text(root)
    assert main_evidence(["verify", str(saved), "--ca", str(ca)], http=client) == 0
    out = capsys.readouterr().out
    assert "provenance intact, signed by the operator's root certificate" in out
    assert "PPB-2026-0042" in out

    # Without --ca, the root the server publishes (anyone may fetch it) is the one checked.
    served = client.get("/api/v1/evidence/provenance-ca")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/plain")
    assert served.text == root
    assert main_evidence(["verify", str(saved)], http=client) == 0
    assert "the root the server serves" in capsys.readouterr().out
    other = tmp_path / "other-ca.pem"
    other.write_text(parse_signing_file(new_signing_file()).root_pem)
    assert main_evidence(["verify", str(saved), "--ca", str(other)], http=client) == 1
    assert "untrusted" in capsys.readouterr().err

    edited = bytearray(delivered)
    mdat = edited.index(b"mdat")
    edited[mdat + 64] ^= 0x01
    saved.write_bytes(edited)
    assert main_evidence(["verify", str(saved), "--ca", str(ca)], http=client) == 1
    assert "signed provenance fails" in capsys.readouterr().err


def test_evidence_ca_prints_the_servers_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    assert main_evidence(["ca"]) == 0
    printed = capsys.readouterr().out
    assert printed == signing_identity(tmp_path).root_pem
    assert printed.startswith("-----BEGIN CERTIFICATE-----")
