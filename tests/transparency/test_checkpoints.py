"""/checkpoint: the log's C2SP checkpoint, served only with its quorum of witness cosignatures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from doorstep.app import create_app
from doorstep.errors import InvalidInput
from doorstep.settings import Settings
from doorstep.transparency import audit_store as audit
from doorstep.transparency import service as transparency
from doorstep.transparency import service_checkpoints as checkpoints
from doorstep.transparency.note import (
    COSIGNATURE_V1,
    cosigned_at,
    parse_checkpoint,
    parse_note,
    verified_by,
    verifier_for,
)
from tests.agencies.test_api import app_state
from tests.witness.test_witness_http import serving

VKEY_LOG_TYPE = verifier_for("w.example", bytes(32)).encode()
W_KEY = verifier_for("w.example", bytes(32), COSIGNATURE_V1).encode()


def _grow(app: FastAPI, times: int) -> None:
    state = app_state(app)
    for n in range(times):
        with state.db.session() as db:
            audit.record(db, state.master_key, "test.entry", actor=None, owner_id=None, detail={})
            del n


def test_the_checkpoint_is_a_signed_note_of_the_logs_own_key(
    app: FastAPI, client: TestClient
) -> None:
    _grow(app, 3)
    answer = client.get("/checkpoint")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    note = parse_note(answer.text)
    key = checkpoints.log_key(app_state(app).settings)
    assert verified_by(note, [key]) == [key]
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint.origin == key.name == "localhost/audit"
    assert checkpoint.size == 3
    # Not derived from the master key: the tree heads' key is another one.
    assert key.public_key != audit.public_key(app_state(app).master_key)


def test_the_key_is_made_once_and_kept(settings: Settings) -> None:
    first = checkpoints.log_key(settings)
    assert checkpoints.log_key(settings) == first
    assert (settings.data_dir / "audit-checkpoint.key").stat().st_mode & 0o077 == 0


def test_checkpoints_wait_for_the_quorum_and_carry_the_cosignatures(
    settings: Settings, tmp_path: Path
) -> None:
    log_key = checkpoints.log_key(settings)
    with serving(tmp_path / "w1", "w1.test", log_key) as (url, witness):
        wkey = verifier_for("w1.test", witness.state.private_key, COSIGNATURE_V1)
        quorate = settings.model_copy(
            update={"witnesses": f"{wkey.encode()} {url}", "witness_quorum": 1}
        )
        app = create_app(quorate)
        try:
            with TestClient(app) as client:
                for grown in (2, 3):
                    _grow(app, grown)
                    transparency.publish_heads(app_state(app))
                    note = parse_note(client.get("/checkpoint").text)
                    assert cosigned_at(note, wkey) is not None
                    assert parse_checkpoint(note.text).size == {2: 2, 3: 5}[grown]
                page = client.get("/transparency").text
                assert "w1.test" in page
                assert ">5</td>" in page
        finally:
            app.state.shutdown()
    # The witness is gone: the next checkpoint has no cosignature and is not served.
    app = create_app(quorate)
    try:
        with TestClient(app) as client:
            _grow(app, 1)
            assert checkpoints.publish_checkpoint(app_state(app)) == 0
            assert parse_checkpoint(parse_note(client.get("/checkpoint").text).text).size == 5
    finally:
        app.state.shutdown()


def test_a_quorum_larger_than_the_witnesses_serves_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    log_key = checkpoints.log_key(settings)
    with serving(tmp_path / "w1", "w1.test", log_key) as (url, witness):
        wkey = verifier_for("w1.test", witness.state.private_key, COSIGNATURE_V1)
        update = {"witnesses": f"{wkey.encode()} {url}", "witness_quorum": 2}
        app = create_app(settings.model_copy(update=update))
        try:
            with TestClient(app) as client:
                _grow(app, 2)
                assert checkpoints.publish_checkpoint(app_state(app)) == 1
                assert client.get("/checkpoint").status_code == 503
        finally:
            app.state.shutdown()


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        ({"witnesses": "not-a-key http://w.example"}, "verifier key"),
        ({"witnesses": VKEY_LOG_TYPE + " http://w.example"}, "cosignature (type 4)"),
        ({"witnesses": W_KEY + " ftp://w.example"}, "http(s) URL"),
        ({"witnesses": f"{W_KEY} http://a.example, {W_KEY} http://b.example"}, "named once"),
        ({"audit_origin": "has space"}, "no spaces"),
    ],
)
def test_a_witness_list_that_cannot_work_stops_the_start(
    settings: Settings, update: dict[str, str], reason: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(reason)):
        create_app(settings.model_copy(update=update))


@pytest.mark.parametrize("published", [False, True])
def test_serving_the_checkpoint_never_holds_the_log_nor_writes(
    app: FastAPI, client: TestClient, published: bool
) -> None:
    state = app_state(app)
    _grow(app, 2)
    if published:
        transparency.publish_heads(state)
    client.get("/checkpoint")  # the key file is made on first use, before counting
    statements: list[str] = []

    def seen(*args: object) -> None:  # connection, cursor, statement, ...
        statements.append(str(args[2]).lstrip().split()[0].upper())

    event.listen(state.db.engine, "before_cursor_execute", seen)
    try:
        answer = client.get("/checkpoint")
    finally:
        event.remove(state.db.engine, "before_cursor_execute", seen)
    assert answer.status_code == 200
    assert parse_checkpoint(parse_note(answer.text).text).size == 2
    assert "SELECT" in statements
    assert not {"UPDATE", "INSERT", "DELETE"} & set(statements), statements
