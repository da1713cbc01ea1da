"""The demo runs one witness on loopback, and its checkpoints carry that witness's cosignature."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from doorstep.app import create_app
from doorstep.demo import run as demo
from doorstep.demo._witness import WITNESS_NAME, start_witness
from doorstep.transparency import service as transparency
from doorstep.transparency.note import cosigned_at, parse_checkpoint, parse_note
from doorstep.transparency.rules_witnesses import parse_witnesses


def test_the_demo_checkpoint_is_cosigned_by_its_witness(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Touched first, so they are put back as they were when the test ends.
    monkeypatch.setenv("DOORSTEP_WITNESSES", "")
    monkeypatch.setenv("DOORSTEP_WITNESS_QUORUM", "0")
    settings = demo.demo_settings(tmp_path / "doorstep-demo", host="127.0.0.1", port=8000)
    witness = start_witness(settings)
    try:
        (configured,) = parse_witnesses(os.environ["DOORSTEP_WITNESSES"])
        assert configured.key.name == WITNESS_NAME
        served = settings.model_copy(
            update={"witnesses": os.environ["DOORSTEP_WITNESSES"], "witness_quorum": 1}
        )
        app = create_app(served)
        try:
            with TestClient(app) as client:
                transparency.publish_heads(app.state.doorstep)
                answer = client.get("/checkpoint")
                assert answer.status_code == 200, answer.text
                note = parse_note(answer.text)
                assert cosigned_at(note, configured.key) is not None
                assert parse_checkpoint(note.text).origin == "localhost/audit"
                assert WITNESS_NAME in client.get("/transparency").text
        finally:
            app.state.shutdown()
    finally:
        witness.shutdown()
        witness.server_close()
