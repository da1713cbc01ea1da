"""The operator against its own audit log: rewritten, re-keyed, forked or shortened, it fails (I11).

A verifier runs `doorstep audit verify` once against a running server, which pins the log's key and
remembers the checkpoint. Then the operator, who holds the database and the signing key, rewrites
history in every way it can; each rewrite must fail the next run with a one-line reason and leave
the remembered checkpoint as it was, while honest growth passes and moves it on.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from doorstep.cli import main
from doorstep.legal.models import LegalDemand
from doorstep.platform.http.state import AppState
from doorstep.transparency import audit_store as audit
from doorstep.transparency import verify as audit_verify
from doorstep.transparency.merkle import (
    MerkleLog,
    SignedTreeHead,
    encode_entry,
    key_fingerprint,
    leaf_hash,
    sign_tree_head,
    verify_tree_head,
)
from doorstep.transparency.models import AuditEntry, AuditState, PublishedTreeHead
from doorstep.transparency.pins import PinStore, server_origin
from tests.legal.test_api import disclose, record, scene

OTHER_MASTER_KEY = bytes(range(100, 132))


@dataclass
class Verifier:
    """A running server and a verifier's state folder; ``run`` is `doorstep audit verify`."""

    url: str
    state: AppState
    folder: Path
    capsys: pytest.CaptureFixture[str]

    def run(self, *extra: str) -> tuple[int, str]:
        """Run the command; return its exit code and everything it printed."""
        self.capsys.readouterr()
        code = main(["audit", "verify", "--server", self.url, *extra])
        out = self.capsys.readouterr()
        return code, out.out + out.err

    def pin(self) -> dict[str, object]:
        """What the verifier remembers for the server."""
        path = PinStore(self.folder / "doorstep").path_for(server_origin(self.url))
        document: dict[str, object] = json.loads(path.read_text())
        return document

    def public_key(self) -> bytes:
        """The key the server signs with now."""
        return audit.public_key(self.state.master_key)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live(app: FastAPI) -> Iterator[str]:
    """The app served over real HTTP on a loopback port."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def verifier(
    app: FastAPI,
    live: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Verifier:
    """A log with a warrant and a disclosure in it, verified once: key pinned, checkpoint kept."""
    folder = tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(folder))
    s = scene(app)
    demand = record(s)
    assert disclose(s, demand["id"], clip_ids=[s.clip_id]).status_code == 200
    found = Verifier(live, app.state.doorstep, folder, capsys)
    code, said = found.run()
    assert code == 0, said
    assert "WARNING: trusting the server on first use" in said
    assert key_fingerprint(found.public_key()) in said
    assert found.pin()["checkpoint"]
    return found


def _evidence(v: Verifier) -> tuple[Path, list[SignedTreeHead]]:
    """The one evidence file kept beside the pin, and its two heads, each signed by the pin."""
    pin = PinStore(v.folder / "doorstep").path_for(server_origin(v.url))
    [path] = pin.parent.glob(f"{pin.stem}.evidence-*.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    document = json.loads(path.read_text())
    heads = [
        SignedTreeHead(
            size=document[name]["size"],
            root=bytes.fromhex(document[name]["root"]),
            timestamp=datetime.fromisoformat(document[name]["timestamp"]),
            signature=base64.b64decode(document[name]["signature"]),
        )
        for name in ("remembered", "offered")
    ]
    assert all(verify_tree_head(head, v.public_key()) for head in heads)
    return path, heads


def _size(v: Verifier) -> int:
    checkpoint = v.pin()["checkpoint"]
    assert isinstance(checkpoint, dict)
    size: int = checkpoint["size"]
    return size


def _append(state: AppState, count: int, master_key: bytes | None = None) -> None:
    with state.db.session() as db:
        for n in range(count):
            audit.record(
                db,
                master_key or state.master_key,
                "test.entry",
                actor=None,
                owner_id=None,
                detail={"n": n},
            )


def _rewrite(state: AppState, keep: int, *, append: int, master_key: bytes) -> None:
    """The operator cuts the log to ``keep`` entries, appends new ones and signs with its key."""
    with state.db.session() as db:
        db.execute(delete(AuditEntry).where(AuditEntry.seq >= keep))
        db.execute(delete(PublishedTreeHead))
        log = MerkleLog()
        log.extend(audit.leaf_hashes(db, keep))
        db.execute(
            update(AuditState)
            .where(AuditState.id == 1)
            .values(size=log.size, frontier=[h.hex() for h in log.frontier])
        )
    state.master_key = master_key
    _append(state, append)


def test_a_trimmed_log_resigned_with_a_new_key_fails_as_key_changed(verifier: Verifier) -> None:
    before = verifier.pin()
    _rewrite(verifier.state, 1, append=_size(verifier) + 3, master_key=OTHER_MASTER_KEY)
    code, said = verifier.run()
    assert code == 1
    assert "the log's key changed" in said
    assert said.count("\n") == 1
    assert verifier.pin() == before
    assert "evidence" not in said


def test_a_fork_signed_with_the_same_key_fails_the_consistency_proof(verifier: Verifier) -> None:
    before = verifier.pin()
    size = _size(verifier)
    _rewrite(verifier.state, size - 1, append=3, master_key=verifier.state.master_key)
    code, said = verifier.run()
    assert code == 1
    assert "the log forked" in said
    assert "consistency proof" in said
    assert verifier.pin() == before
    path, (remembered, offered) = _evidence(verifier)
    assert str(path) in said
    assert (remembered.size, offered.size) == (size, size + 2)


def test_a_fork_at_the_same_size_fails(verifier: Verifier) -> None:
    size = _size(verifier)
    _rewrite(verifier.state, size - 1, append=1, master_key=verifier.state.master_key)
    code, said = verifier.run()
    assert code == 1
    assert f"the log forked: at {size} entries its root was" in said


def test_a_shortened_log_fails(verifier: Verifier) -> None:
    before = verifier.pin()
    size = _size(verifier)
    _rewrite(verifier.state, size - 2, append=0, master_key=verifier.state.master_key)
    code, said = verifier.run()
    assert code == 1
    assert f"the log shrank from {size} to {size - 2} entries" in said
    assert verifier.pin() == before
    _path, (remembered, offered) = _evidence(verifier)
    assert (remembered.size, offered.size) == (size, size - 2)


def test_honest_growth_passes_and_moves_the_checkpoint(verifier: Verifier) -> None:
    size = _size(verifier)
    _append(verifier.state, 5)
    code, said = verifier.run()
    assert code == 0, said
    assert f"audit log OK: {size + 5} entries" in said
    assert "WARNING" not in said
    assert _size(verifier) == size + 5
    code, said = verifier.run()
    assert code == 0, said


def test_the_pin_is_private_to_the_verifier(verifier: Verifier) -> None:
    path = PinStore(verifier.folder / "doorstep").path_for(server_origin(verifier.url))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for folder in (path.parent, verifier.folder / "doorstep"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert verifier.pin()["public_key"] == base64.b64encode(verifier.public_key()).decode()


def test_a_key_given_on_the_first_run_is_checked_from_the_start(
    app: FastAPI,
    live: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    state: AppState = app.state.doorstep
    _append(state, 4)
    v = Verifier(live, state, tmp_path / "state", capsys)
    wrong = base64.b64encode(audit.public_key(OTHER_MASTER_KEY)).decode()
    code, said = v.run("--key", wrong)
    assert code == 1
    assert "the log's key changed" in said
    assert not (tmp_path / "state" / "doorstep" / "audit").exists()
    key_file = tmp_path / "doorstep-log.pub"
    key_file.write_text(base64.b64encode(v.public_key()).decode() + "\n")
    code, said = v.run("--key", str(key_file))
    assert code == 0, said
    assert "WARNING" not in said
    code, said = v.run("--key", wrong)
    assert code == 1
    assert "is not the key pinned for" in said


def test_a_rewritten_published_head_fails(verifier: Verifier) -> None:
    _append(verifier.state, 2)
    assert verifier.run()[0] == 0
    signing = audit.signing_key(verifier.state.master_key)
    with verifier.state.db.session() as db:
        first = db.scalars(select(PublishedTreeHead).order_by(PublishedTreeHead.id)).first()
        assert first is not None
        forged = sign_tree_head(first.size, bytes(32), first.timestamp.replace(tzinfo=UTC), signing)
        first.root = forged.root.hex()
        first.signature = base64.b64encode(forged.signature).decode()
        size = first.size
    code, said = verifier.run()
    assert code == 1
    assert f"the head published at {size} entries does not match the log" in said


def test_a_transparency_report_hiding_a_warrant_fails(verifier: Verifier) -> None:
    with verifier.state.db.session() as db:
        db.execute(update(LegalDemand).values(kind="subpoena"))
    code, said = verifier.run()
    assert code == 1
    assert "the transparency report gives warrants_received = 0, the log records 1" in said


def test_the_audit_page_shows_the_key_and_where_verifiers_pin_it(verifier: Verifier) -> None:
    page = httpx.get(verifier.url + "/audit").text
    key = base64.b64encode(verifier.public_key()).decode()
    assert f"--key {key}" in page
    assert key_fingerprint(verifier.public_key()) in page
    assert "$XDG_STATE_HOME/doorstep/audit/" in page


def test_an_entry_appended_now_but_dated_in_the_past_fails(verifier: Verifier) -> None:
    size = _size(verifier)
    _append(verifier.state, 1)
    with verifier.state.db.session() as db:
        entry = db.get_one(AuditEntry, size)
        body = json.loads(entry.body)
        body["at"] = "2025-01-02T03:04:05+00:00"
        entry.body = encode_entry(body).decode()
        entry.leaf_hash = leaf_hash(entry.body.encode()).hex()
        db.execute(delete(PublishedTreeHead).where(PublishedTreeHead.size > size))
        log = MerkleLog()
        log.extend(audit.leaf_hashes(db, size + 1))
        db.execute(update(AuditState).values(frontier=[h.hex() for h in log.frontier]))
    code, said = verifier.run()
    assert code == 1
    assert f"entry {size} is dated 2025-01-02T03:04:05+00:00, before" in said


class _Operator(httpx.BaseTransport):
    """The operator's server: the real answers, but ``change`` may rewrite any of them.

    ``change(path, count, document)`` gets the path, how many times it was asked for before, and
    the JSON the server gave; it returns what is sent instead.
    """

    def __init__(self, change: Callable[[str, int, Any], Any]) -> None:
        self.real = httpx.HTTPTransport()
        self.change = change
        self.asked: dict[str, int] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.real.handle_request(request)
        response.read()
        path = request.url.path
        count = self.asked.get(path, 0)
        self.asked[path] = count + 1
        if response.status_code != 200:
            return response
        changed = self.change(path, count, response.json())
        return httpx.Response(200, json=changed, request=request)

    def close(self) -> None:
        self.real.close()


def _serve_operator(monkeypatch: pytest.MonkeyPatch, operator: _Operator) -> None:
    """`doorstep audit verify` talks to the operator's server from now on."""
    real_client = httpx.Client

    def client(*, base_url: str, timeout: float) -> httpx.Client:
        return real_client(base_url=base_url, timeout=timeout, transport=operator)

    monkeypatch.setattr(httpx, "Client", client)


def _signed(v: Verifier, size: int, root: bytes) -> dict[str, Any]:
    """A head of ``size`` entries and ``root`` the operator signs with the pinned key, now."""
    head = sign_tree_head(size, root, datetime.now(UTC), audit.signing_key(v.state.master_key))
    return {
        "size": head.size,
        "root": head.root.hex(),
        "timestamp": head.timestamp.isoformat(),
        "signature": base64.b64encode(head.signature).decode(),
    }


def test_a_forged_head_before_the_report_fails_and_is_kept(
    verifier: Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head read before the report, same size, another root: two histories, one key."""
    size = _size(verifier)
    forged_root = bytes(range(32))

    def change(path: str, count: int, document: Any) -> Any:
        if path == "/api/v1/audit/head" and count == 0:
            return {**document, **_signed(verifier, document["size"], forged_root)}
        return document

    _serve_operator(monkeypatch, _Operator(change))
    before = verifier.pin()
    code, said = verifier.run()
    assert code == 1
    assert f"the head read before the report, at {size} entries, does not match the log" in said
    assert said.count("\n") == 1
    assert verifier.pin() == before
    path, (conflicting, offered) = _evidence(verifier)
    assert str(path) in said
    assert (conflicting.size, conflicting.root) == (size, forged_root)
    assert offered.size == size
    assert offered.root != forged_root


def test_a_published_head_larger_than_the_log_fails_and_is_kept(verifier: Verifier) -> None:
    """A head the operator published at 10,000 entries, against a log of a few: it shrank."""
    size = _size(verifier)
    forged = _signed(verifier, 10_000, bytes(32))
    with verifier.state.db.session() as db:
        db.add(
            PublishedTreeHead(
                size=forged["size"],
                root=forged["root"],
                timestamp=datetime.fromisoformat(forged["timestamp"]),
                signature=forged["signature"],
            )
        )
    code, said = verifier.run()
    assert code == 1
    assert (
        f"the log shrank: a head published at 10000 entries is larger than the current head "
        f"of {size}" in said
    )
    _path, (conflicting, offered) = _evidence(verifier)
    assert (conflicting.size, offered.size) == (10_000, size)


def _rehashed(entry: dict[str, Any], body: str) -> dict[str, Any]:
    """An entry with another body and that body's leaf hash: only its parsing can fail it."""
    return {**entry, "body": body, "leaf_hash": leaf_hash(body.encode()).hex()}


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/api/v1/audit/entries", lambda d: [{**d[0], "body": 7}, *d[1:]]),
        ("/api/v1/audit/entries", lambda d: [_rehashed(d[0], "[" * 100_000), *d[1:]]),
        ("/api/v1/audit/entries", lambda d: {"entries": d}),
        ("/api/v1/audit/head", lambda d: {**d, "size": "many"}),
        ("/api/v1/audit/head", lambda d: {**d, "timestamp": None}),
        ("/api/v1/audit/head", lambda d: [d]),
        ("/api/v1/audit/heads", lambda d: {**d, "heads": [None]}),
        ("/api/v1/audit/heads", lambda d: {**d, "next_start": "later"}),
        ("/api/v1/transparency", lambda d: {**d, "periods": [{"agency_id": "*"}]}),
        ("/api/v1/transparency", lambda _d: {"periods": "none"}),
    ],
)
def test_a_malformed_answer_fails_in_one_line(
    verifier: Verifier,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    change: Callable[[Any], Any],
) -> None:
    """Whatever shape the operator's answers take, the verifier says why in one line."""
    _append(verifier.state, 1)
    _serve_operator(monkeypatch, _Operator(lambda p, _n, d: change(d) if p == path else d))
    before = verifier.pin()
    code, said = verifier.run()
    assert code == 1, said
    assert "Traceback" not in said
    assert said.count("\n") == 1, said
    assert verifier.pin() == before


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _replace_somewhere(document: Any, choice: int, value: Any) -> Any:
    """``document`` with one of its values (picked by ``choice``), or itself, replaced."""
    spots: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else []
        )
        for key, child in items:
            spots.append((node, key))
            walk(child)

    copy = json.loads(json.dumps(document))
    walk(copy)
    if not spots or choice % (len(spots) + 1) == len(spots):
        return value
    parent, key = spots[choice % (len(spots) + 1)]
    parent[key] = value
    return copy


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/api/v1/audit/head",
            "/api/v1/audit/entries",
            "/api/v1/audit/heads",
            "/api/v1/transparency",
            "/api/v1/audit/proof/consistency",
        ]
    ),
    nth=st.integers(0, 1),
    choice=st.integers(0, 1000),
    value=_JSON,
)
def test_no_malformed_answer_raises(
    verifier: Verifier, path: str, nth: int, choice: int, value: Any
) -> None:
    """Fuzzed: any one answer changed anywhere into any JSON gives a report, never an exception."""
    _append(verifier.state, 1)

    def change(asked: str, count: int, document: Any) -> Any:
        if asked == path and count == nth:
            return _replace_somewhere(document, choice, value)
        return document

    client = httpx.Client(base_url=verifier.url, transport=_Operator(change))
    with client:
        report = audit_verify.verify_server(
            client, key=verifier.public_key(), checkpoint=_checkpoint(verifier)
        )
    assert "\n" not in report.problem
    if not report.ok:
        assert report.problem


def _checkpoint(v: Verifier) -> SignedTreeHead:
    document = v.pin()["checkpoint"]
    assert isinstance(document, dict)
    return SignedTreeHead(
        size=document["size"],
        root=bytes.fromhex(document["root"]),
        timestamp=datetime.fromisoformat(document["timestamp"]),
        signature=base64.b64decode(document["signature"]),
    )
