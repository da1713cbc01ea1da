"""`doorstep audit verify --witness KEY` passes only with the witnesses' cosignatures on the log."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete, select

from doorstep.app import create_app
from doorstep.cli import main
from doorstep.settings import Settings
from doorstep.transparency import audit_store as audit
from doorstep.transparency import service as transparency
from doorstep.transparency import service_checkpoints as checkpoints
from doorstep.transparency.models import AuditCheckpoint
from doorstep.transparency.note import COSIGNATURE_V1, verifier_for
from doorstep.transparency.pins import Pin, PinStore, server_origin, state_folder
from doorstep.witness import state as witness_state
from tests.agencies.test_api import app_state
from tests.hostile.test_audit_forgery import _free_port, _rewrite
from tests.witness.test_witness_http import serving


def _served(app: FastAPI) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@contextmanager
def witnessed_server(
    settings: Settings, folder: Path, quorum: int
) -> Iterator[tuple[str, str, FastAPI]]:
    """A server whose one witness runs beside it: (server URL, witness key, app)."""
    with serving(folder / "w", "w1.test", checkpoints.log_key(settings)) as (url, witness):
        key = verifier_for("w1.test", witness.state.private_key, COSIGNATURE_V1).encode()
        update = {"witnesses": f"{key} {url}", "witness_quorum": quorum}
        app = create_app(settings.model_copy(update=update))
        try:
            for server in _served(app):
                yield server, key, app
        finally:
            app.state.shutdown()


@pytest.fixture
def witnessed(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str, FastAPI]]:
    """A server that serves only checkpoints its one witness cosigned."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with witnessed_server(settings, tmp_path, 1) as running:
        yield running


def _grow(app: FastAPI, times: int) -> None:
    state = app_state(app)
    for _ in range(times):
        with state.db.session() as db:
            audit.record(db, state.master_key, "test.entry", actor=None, owner_id=None, detail={})


def test_verify_passes_with_the_witness_and_fails_without_its_cosignature(
    witnessed: tuple[str, str, FastAPI], capsys: pytest.CaptureFixture[str]
) -> None:
    server, key, app = witnessed
    _grow(app, 3)
    transparency.publish_heads(app_state(app))
    _grow(app, 2)  # the log grew since: the witnessed checkpoint is a prefix of it
    assert main(["audit", "verify", "--server", server, "--witness", key]) == 0
    assert "audit log OK: 5 entries" in capsys.readouterr().out
    stranger = verifier_for("w2.test", bytes(32), COSIGNATURE_V1).encode()
    assert main(["audit", "verify", "--server", server, "--witness", stranger]) == 1
    assert "0 of the 1 witness cosignatures" in capsys.readouterr().out
    code = main(["audit", "verify", "--server", server, "--witness", key, "--witness", stranger])
    assert code == 1
    both = ["--witness", key, "--witness", stranger, "--quorum", "1"]
    assert main(["audit", "verify", "--server", server, *both]) == 0


def test_a_split_view_fails_for_a_verifier_who_asks_the_witness(
    witnessed: tuple[str, str, FastAPI], capsys: pytest.CaptureFixture[str]
) -> None:
    server, key, app = witnessed
    state = app_state(app)
    _grow(app, 3)
    assert checkpoints.publish_checkpoint(state) == 1
    # The operator forks the log, keeping its key: a newcomer's verify alone cannot tell.
    _rewrite(state, 1, append=3, master_key=state.master_key)
    assert main(["audit", "verify", "--server", server]) == 0
    # The witness remembers the first view and will not cosign the fork.
    assert checkpoints.publish_checkpoint(state) == 0
    assert main(["audit", "verify", "--server", server, "--witness", key]) == 1
    assert "the witnesses saw another log" in capsys.readouterr().out


def test_a_tampered_checkpoint_loses_its_cosignature(
    witnessed: tuple[str, str, FastAPI], capsys: pytest.CaptureFixture[str]
) -> None:
    server, key, app = witnessed
    _grow(app, 3)
    transparency.publish_heads(app_state(app))
    state = app_state(app)
    with state.db.session() as db:
        row = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
        assert row is not None
        lines = row.note.split("\n")
        lines[2] = "A" * 43 + "="
        row.note = "\n".join(lines)
    assert main(["audit", "verify", "--server", server, "--witness", key]) == 1
    assert "0 of the 1 witness cosignatures" in capsys.readouterr().out


def _serve_only(app: FastAPI, size: int) -> None:
    """The operator drops every kept checkpoint but the one of ``size``: /checkpoint serves it."""
    with app_state(app).db.session() as db:
        db.execute(delete(AuditCheckpoint).where(AuditCheckpoint.size != size))


def _origin_pin(server: str) -> Pin | None:
    return PinStore(state_folder()).load(server_origin(server))


def test_an_old_cosigned_prefix_of_a_fork_fails(
    witnessed: tuple[str, str, FastAPI],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, key, app = witnessed
    state = app_state(app)
    _grow(app, 3)
    two_days_ago = int(time.time()) - 2 * 24 * 60 * 60
    with monkeypatch.context() as patched:
        patched.setattr(witness_state, "now", lambda: two_days_ago)
        assert checkpoints.publish_checkpoint(state) == 1
    _grow(app, 2)
    assert checkpoints.publish_checkpoint(state) == 1
    # The operator forks after the first 3 entries and serves the old checkpoint of size 3:
    # a prefix of the fork, with a genuine but two-day-old cosignature.
    _rewrite(state, 3, append=3, master_key=state.master_key)
    _serve_only(app, 3)
    assert main(["audit", "verify", "--server", server, "--witness", key]) == 1
    said = capsys.readouterr().out
    assert "0 of the 1 witness cosignatures asked for (1 more older than 86400 s" in said
    assert _origin_pin(server) is None
    # Allowed so old, it vouches for those 3 entries only, and says so.
    week = ["--max-age", str(7 * 24 * 60 * 60)]
    assert main(["audit", "verify", "--server", server, "--witness", key, *week]) == 0
    assert "witnessed: its first 3 entries, cosigned by w1.test" in capsys.readouterr().out


def test_a_witnessed_size_that_goes_back_fails(
    witnessed: tuple[str, str, FastAPI], capsys: pytest.CaptureFixture[str]
) -> None:
    server, key, app = witnessed
    state = app_state(app)
    _grow(app, 3)
    assert checkpoints.publish_checkpoint(state) == 1
    _grow(app, 2)
    assert checkpoints.publish_checkpoint(state) == 1
    assert main(["audit", "verify", "--server", server, "--witness", key]) == 0
    pin = _origin_pin(server)
    assert pin is not None
    assert pin.witnessed_size == 5
    capsys.readouterr()
    _serve_only(app, 3)
    assert main(["audit", "verify", "--server", server, "--witness", key]) == 1
    assert "the witnessed checkpoint went back from 5 to 3" in capsys.readouterr().out
    assert _origin_pin(server) == pin


def test_a_failed_witness_or_key_check_pins_nothing(
    witnessed: tuple[str, str, FastAPI], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _, app = witnessed
    _grow(app, 3)
    assert checkpoints.publish_checkpoint(app_state(app)) == 1
    stranger = verifier_for("w2.test", bytes(32), COSIGNATURE_V1).encode()
    assert main(["audit", "verify", "--server", server, "--witness", stranger]) == 1
    assert _origin_pin(server) is None
    wrong_key = verifier_for("localhost/audit", bytes(32)).encode()
    assert main(["audit", "verify", "--server", server, "--log-key", wrong_key]) == 1
    assert "not signed by the log's key" in capsys.readouterr().out
    assert _origin_pin(server) is None
