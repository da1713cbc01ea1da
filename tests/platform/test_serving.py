"""`doorstep serve --workers N`: a listening socket per process, a taken port refused at once.

The kernel spreads connections over the processes' sockets; a port in use stops the server
before any process starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from doorstep.platform.http import serving
from tests.factories import PASSWORD

pytestmark = pytest.mark.skipif(not serving.balanced(), reason="SO_REUSEPORT balancing is Linux's")


def _listening_pair() -> tuple[socket.socket, socket.socket, int]:
    first = serving.listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = serving.listening_socket("127.0.0.1", port)
    for sock in (first, second):
        sock.listen(128)
        sock.setblocking(False)
    return first, second, port


def test_connections_are_spread_over_the_processes_sockets() -> None:
    first, second, port = _listening_pair()
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
    accepted = {first: 0, second: 0}
    try:
        for sock in accepted:
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[sock] += 1
    finally:
        for client in clients:
            client.close()
        first.close()
        second.close()
    assert sum(accepted.values()) == 64
    # One shared socket would let a single process take them all; by address both get a share.
    assert min(accepted.values()) >= 8, accepted


def test_a_port_in_use_is_refused_before_any_process_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not serving.port_free("127.0.0.1", port)
        assert serving.serve_workers("127.0.0.1", port, 2) == serving.STARTUP_FAILURE


def test_a_free_port_is_free() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert serving.port_free("127.0.0.1", port)


def test_the_supervisor_wants_at_least_one_process() -> None:
    with pytest.raises(ValueError, match="at least one"):
        serving.Supervisor("127.0.0.1", 8000, 0)


def cannot_start(_host: str, _port: int) -> None:
    """An API process whose app cannot be built (run in a child process)."""
    sys.exit(serving.STARTUP_FAILURE)


def test_a_server_whose_processes_cannot_start_stops_instead_of_looping() -> None:
    supervisor = serving.Supervisor("127.0.0.1", 0, 2, target=cannot_start)
    stopper = threading.Timer(20, supervisor.stop)
    stopper.start()
    try:
        status = supervisor.run()
    finally:
        stopper.cancel()
    assert status == serving.STARTUP_FAILURE
    assert not any(process.is_alive() for process in supervisor._processes)


def test_a_stopping_server_does_not_wait_on_an_agents_long_poll(tmp_path: Path) -> None:
    """An agent's long-poll waits 45 s for a call: a stop answers it, and the agent comes back."""
    port = serving_port()
    env = {**os.environ, "DOORSTEP_DATA_DIR": str(tmp_path / "data"), "DOORSTEP_PORT": str(port)}
    env["DOORSTEP_HOST"] = "127.0.0.1"
    with (tmp_path / "serve.log").open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "doorstep.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/openapi.json").status_code == 200:
                        break
                time.sleep(0.1)
            token = _paired_camera(http)
            waiting = threading.Thread(
                target=lambda: _quietly(
                    http.get,
                    "/api/v1/devices/live-sessions?wait=45",
                    headers={"authorization": f"Bearer {token}"},
                ),
                daemon=True,
            )
            waiting.start()
            time.sleep(1)  # the long-poll is in the server, waiting
            server.send_signal(signal.SIGTERM)
            # Well inside the 45 s the long-poll would have held the stop.
            server.wait(serving.SHUTDOWN_GRACE_SECONDS + 15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # The long-poll was answered as the stop began, not cut off at the grace period.
    log = (tmp_path / "serve.log").read_text()
    assert "Exception in ASGI application" not in log, log
    assert "timeout graceful shutdown exceeded" not in log, log


def _paired_camera(http: httpx.Client) -> str:
    account = {"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada"}
    assert http.post("/api/v1/accounts", json=account).status_code == 201
    login = http.post("/api/v1/session", json={"email": account["email"], "password": PASSWORD})
    csrf = {"x-csrf-token": login.json()["csrf_token"]}
    camera = http.post("/api/v1/cameras", json={"name": "Front door"}, headers=csrf).json()
    code = http.post(f"/api/v1/cameras/{camera['id']}/pairing-code", headers=csrf).json()["code"]
    paired = http.post("/api/v1/devices/pair", json={"code": code, "agent_version": "test"})
    assert paired.status_code == 201, paired.text
    token: str = paired.json()["token"]
    return token


def _quietly(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(httpx.HTTPError):
        call(*args, **kwargs)


def serving_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
