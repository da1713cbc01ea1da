"""The witness over real HTTP: it cosigns a growing log and refuses a shortened or forked one.

The log here signs every checkpoint with its own, genuine key: what the witness adds is memory.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from doorstep.cli import main
from doorstep.transparency.merkle import MerkleLog, consistency_proof, leaf_hash
from doorstep.transparency.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    VerifierKey,
    add_checkpoint_request,
    cosigned_at,
    parse_checkpoint,
    parse_signature_lines,
    signed_checkpoint,
    verifier_for,
)
from doorstep.witness.server import SOCKET_TIMEOUT, Witness, make_server
from doorstep.witness.state import DamagedState, WitnessState

ORIGIN = "doorstep.test/audit"
LOG_KEY = bytes(range(32))


class Log:
    """A log in the test's hands, signing whatever it holds with its real key."""

    def __init__(self, entries: list[str]) -> None:
        self.leaves = [leaf_hash(e.encode()) for e in entries]

    def checkpoint(self, size: int | None = None) -> Note:
        size = len(self.leaves) if size is None else size
        log = MerkleLog()
        for leaf in self.leaves[:size]:
            log.append_leaf_hash(leaf)
        return signed_checkpoint(Checkpoint(ORIGIN, size, log.root()), ORIGIN, LOG_KEY)

    def submit(self, url: str, old: int, size: int | None = None) -> httpx.Response:
        size = len(self.leaves) if size is None else size
        proof = consistency_proof(old, size, self.leaves.__getitem__) if 0 < old <= size else []
        body = add_checkpoint_request(old, proof, self.checkpoint(size).encode())
        return httpx.post(url + "/add-checkpoint", content=body, timeout=10)


@contextmanager
def serving(folder: Path, name: str, log_key: VerifierKey) -> Iterator[tuple[str, Witness]]:
    """A witness of the log of ``log_key``, serving on a free loopback port until the end."""
    w = Witness(WitnessState(folder, name), [log_key])
    server = make_server(w, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", w
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[tuple[str, Witness]]:
    """A witness following the test log."""
    with serving(tmp_path / "w", "witness.test/w1", verifier_for(ORIGIN, LOG_KEY)) as running:
        yield running


def test_a_growing_log_is_cosigned(witness: tuple[str, Witness]) -> None:
    url, w = witness
    log = Log([f"entry {i}" for i in range(5)])
    first = log.submit(url, 0, 3)
    assert first.status_code == 200, first.text
    log.leaves += [leaf_hash(b"entry 5")]
    second = log.submit(url, 3)
    assert second.status_code == 200, second.text
    (cosig,) = parse_signature_lines(second.text)
    note = Note(log.checkpoint().text, (cosig,))
    key = verifier_for("witness.test/w1", w.state.private_key, COSIGNATURE_V1)
    assert cosigned_at(note, key) is not None


def test_a_shortened_log_is_refused_with_the_size_the_witness_knows(
    witness: tuple[str, Witness],
) -> None:
    url, _ = witness
    log = Log([f"entry {i}" for i in range(6)])
    assert log.submit(url, 0).status_code == 200
    shortened = log.submit(url, 4, 4)
    assert shortened.status_code == 409
    assert shortened.headers["content-type"] == "text/x.tlog.size"
    assert shortened.text == "6\n"
    # Even claiming the size it knows, a shorter checkpoint is no extension of it.
    assert log.submit(url, 6, 4).status_code == 400


def test_a_forked_log_is_refused_though_its_key_signed_it(witness: tuple[str, Witness]) -> None:
    url, w = witness
    honest = Log([f"entry {i}" for i in range(4)])
    assert honest.submit(url, 0).status_code == 200
    forked = Log(["entry 0", "entry 1", "rewritten", "entry 3", "entry 4"])
    answer = forked.submit(url, 4)
    assert answer.status_code == 422
    same_size = Log(["entry 0", "entry 1", "rewritten", "entry 3"])
    assert same_size.submit(url, 4).status_code == 422
    # The witness still vouches for the honest log, and only for it.
    assert w.state.latest(ORIGIN) == parse_checkpoint(honest.checkpoint().text)


def test_other_logs_and_other_keys_are_refused(witness: tuple[str, Witness]) -> None:
    url, _ = witness
    stranger = signed_checkpoint(Checkpoint("other.test/log", 0, leaf_hash(b"")), "other", LOG_KEY)
    body = add_checkpoint_request(0, [], stranger.encode())
    assert httpx.post(url + "/add-checkpoint", content=body).status_code == 404
    impostor = signed_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(b"x")), ORIGIN, bytes(32))
    body = add_checkpoint_request(0, [], impostor.encode())
    assert httpx.post(url + "/add-checkpoint", content=body).status_code == 403


GARBAGE = [
    b"old 0\n",
    b"old x\n\nnote\n",
    b"\xff\xfe",
    b"old 01\n\nx\n",
    "old \u00b2\n\nx\n".encode(),  # a digit to isdigit(), not to int()
    b"old " + b"9" * 5000 + b"\n\nx\n",  # longer than int() reads
]


@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_is_a_400(witness: tuple[str, Witness], body: bytes) -> None:
    url, _ = witness
    assert httpx.post(url + "/add-checkpoint", content=body).status_code == 400


def test_the_witness_keeps_its_key_and_memory_across_restarts(tmp_path: Path) -> None:
    first = WitnessState(tmp_path, "w")
    log = Log(["a", "b"])
    first.cosign_if(log.checkpoint().text, lambda _: Checkpoint(ORIGIN, 2, bytes(32)))
    again = WitnessState(tmp_path, "w")
    assert again.private_key == first.private_key
    assert again.latest(ORIGIN) == Checkpoint(ORIGIN, 2, bytes(32))
    assert (tmp_path / "witness.key").stat().st_mode & 0o077 == 0


def test_an_idle_connection_is_dropped_after_a_timeout(witness: tuple[str, Witness]) -> None:
    server = make_server(witness[1], "127.0.0.1", 0)
    try:
        handler: Any = server.RequestHandlerClass
        assert handler.timeout == SOCKET_TIMEOUT
    finally:
        server.server_close()


@pytest.mark.parametrize("damage", ["", "{", '{"origin": "x", "size": -1, "root": ""}'])
def test_a_damaged_state_file_stops_the_witness_at_start(tmp_path: Path, damage: str) -> None:
    first = WitnessState(tmp_path, "w")
    first.cosign_if(Log(["a"]).checkpoint().text, lambda _: Checkpoint(ORIGIN, 1, bytes(32)))
    (kept,) = (tmp_path / "logs").iterdir()
    kept.write_text(damage)
    with pytest.raises(DamagedState, match="cannot be read"):
        WitnessState(tmp_path, "w")


def test_a_damaged_key_stops_the_witness_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "witness.key").write_text("")
    args = ["witness", "--log", "http://127.0.0.1:9", "--state", str(tmp_path)]
    assert main([*args, "--key", verifier_for(ORIGIN, LOG_KEY).encode()]) == 2
    assert "the witness key" in capsys.readouterr().out


def test_state_is_written_whole_and_private(tmp_path: Path) -> None:
    state = WitnessState(tmp_path, "w")
    state.cosign_if(Log(["a"]).checkpoint().text, lambda _: Checkpoint(ORIGIN, 1, bytes(32)))
    files = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert not [name for name in files if name.endswith(".tmp")]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o077 == 0
