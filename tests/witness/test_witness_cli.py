"""`doorstep witness`: refuses a bad key, and checks what the log serves before it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.cli import main
from doorstep.settings import Settings
from doorstep.transparency import service_checkpoints as checkpoints
from doorstep.transparency.note import verifier_for
from doorstep.witness.cli import look_at_log
from tests.transparency.test_verify_witnessed import witnessed_server


def test_a_bad_log_key_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["witness", "--log", "http://127.0.0.1:9", "--key", "nope"]) == 2
    assert "--key" in capsys.readouterr().out


def test_the_witness_reads_the_logs_checkpoint_with_the_key_it_was_given(
    settings: Settings, tmp_path: Path
) -> None:
    with witnessed_server(settings, tmp_path, 0) as (server, _, _):
        key = checkpoints.log_key(settings)
        assert look_at_log(server, key) == f"the log at {server} serves localhost/audit at size 0"
        other = verifier_for("localhost/audit", bytes(32))
        assert "its key did not sign" in look_at_log(server, other)
    assert "could not read" in look_at_log("http://127.0.0.1:9", key)
