"""Scale-out fixtures: real services, `doorstep serve` and `doorstep worker` as subprocesses."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from doorstep.master_key import new_master_key
from doorstep.platform.db import make_engine
from doorstep.platform.migrate import migrate
from tests.conftest import POSTGRES_URL, service_missing
from tests.services import S3_ACCESS_KEY, S3_SECRET_KEY

REDIS_URL = "redis://127.0.0.1:6379/11"
MQTT_URL = "mqtt://127.0.0.1:1883"
DOORSTEP = Path(sys.executable).parent / "doorstep"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
PASSWORD = "lantern-porch-9"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def reachable(port: int) -> bool:
    """Whether something accepts TCP connections on loopback ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Wait until ``condition()`` is true, failing with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@dataclass
class Process:
    """A Doorstep command running as a child process, its output in a log file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> Process:
        """Start the command (again, after a stop or a kill)."""
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group, so a kill takes uvicorn's worker processes with it.
            start_new_session=True,
        )
        return self

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.popen is not None and self.popen.poll() is None

    def _reap(self) -> None:
        assert self.popen is not None
        self.popen.wait(timeout=STOP_TIMEOUT)
        self.popen = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, as when a machine dies."""
        assert self.popen is not None
        os.killpg(self.popen.pid, signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it will not go."""
        if self.popen is None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self._reap()


@dataclass
class Cluster:
    """The environment of one scaled-out Doorstep and the processes started on it."""

    env: dict[str, str]
    folder: Path
    processes: list[Process] = field(default_factory=list)

    def _process(self, name: str, command: list[str], **extra: str) -> Process:
        env = {**self.env, **extra}
        process = Process(name, command, env, self.folder / f"{name}.log")
        self.processes.append(process)
        return process

    def serve(self, name: str, port: int, *, workers: int = 1, **extra: str) -> Process:
        """Start `doorstep serve` on ``port`` and wait until it answers."""
        command = [str(DOORSTEP), "serve", "--port", str(port), "--workers", str(workers)]
        process = self._process(name, command, **extra)
        start_server(process, port)
        return process

    def worker(self, name: str = "worker", **extra: str) -> Process:
        """Start `doorstep worker`."""
        command = [sys.executable, "-m", "doorstep.worker"]
        return self._process(name, command, **extra).start()

    def stop_all(self) -> None:
        """Stop every process still running."""
        for process in self.processes:
            process.stop()


def start_server(process: Process, port: int) -> None:
    """Start a `doorstep serve` process and wait for /healthz."""
    process.start()

    def healthy() -> bool:
        assert process.running(), f"{process.name} exited:\n{process.log()[-3000:]}"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(healthy, f"{process.name} to answer on port {port}", START_TIMEOUT)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A migrated PostgreSQL schema of this test's own, dropped afterwards."""
    schema = f"doorstep_scaleout_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        admin.dispose()
        service_missing("PostgreSQL at 127.0.0.1:5432 (database 'test')")
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def queue_url() -> Iterator[str]:
    """An emptied Redis database for the task queue."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.ConnectionError:
        client.close()
        service_missing("Redis at 127.0.0.1:6379")
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def mqtt_url() -> str:
    """The Mosquitto broker on loopback."""
    if not reachable(1883):
        service_missing("Mosquitto at 127.0.0.1:1883")
    return MQTT_URL


def base_env(tmp_path: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a Doorstep process: PATH and the like, and DOORSTEP_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOORSTEP_")}
    env.update(
        DOORSTEP_ENV="test",
        DOORSTEP_DATA_DIR=str(tmp_path / "data"),
        DOORSTEP_DATABASE_URL=database_url,
        DOORSTEP_MASTER_KEY=new_master_key(),
        DOORSTEP_MAX_UPLOAD_MB="64",
    )
    env.update({f"DOORSTEP_{key.upper()}": value for key, value in settings.items()})
    return env


def s3_env(endpoint: str) -> dict[str, str]:
    """Settings for a fresh bucket on the SeaweedFS server."""
    return {
        "blob_store": "s3",
        "s3_endpoint_url": endpoint,
        "s3_bucket": f"doorstep-{uuid.uuid4().hex[:12]}",
        "s3_access_key": S3_ACCESS_KEY,
        "s3_secret_key": S3_SECRET_KEY,
    }


@pytest.fixture
def cluster_folder(tmp_path: Path) -> Path:
    """Where the processes' logs go."""
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


@dataclass
class Resident:
    """A logged-in resident with one paired camera, over HTTP to a real server."""

    http: httpx.Client
    csrf: str
    camera_id: str
    device_token: str

    def upload(self, base_url: str, video: bytes, jpeg: bytes, meta: dict[str, Any]) -> Any:
        """Upload a clip as the camera does, to the server at ``base_url``."""
        import json

        with httpx.Client(base_url=base_url, timeout=60) as device:
            return device.post(
                "/api/v1/devices/clips",
                headers={"authorization": f"Bearer {self.device_token}"},
                data={"meta": json.dumps(meta)},
                files={
                    "video": ("clip.mp4", video, "video/mp4"),
                    "snapshot": ("snap.jpg", jpeg, "image/jpeg"),
                },
            )


def new_resident(http: httpx.Client, email: str) -> Resident:
    """Sign up, log in, add a camera and pair it, all through the API of ``http``."""
    account = {"email": email, "password": PASSWORD, "display_name": email.split("@")[0]}
    assert http.post("/api/v1/accounts", json=account).status_code == 201
    session = http.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert session.status_code == 201, session.text
    csrf: str = session.json()["csrf_token"]
    headers = {"x-csrf-token": csrf}
    camera = http.post("/api/v1/cameras", json={"name": "Front door"}, headers=headers)
    assert camera.status_code == 201, camera.text
    camera_id: str = camera.json()["id"]
    code = http.post(f"/api/v1/cameras/{camera_id}/pairing-code", headers=headers).json()["code"]
    paired = http.post("/api/v1/devices/pair", json={"code": code, "agent_version": "t"})
    assert paired.status_code == 201, paired.text
    return Resident(http, csrf, camera_id, paired.json()["token"])


class TcpProxy:
    """A loopback TCP proxy to a service that the test can cut and restore, as a network would."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self.restore()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._track(client)
            self._track(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(source, sink), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while piece := source.recv(65536):
                sink.sendall(piece)
        except OSError:
            pass
        finally:
            # One side ended: end the other too, as a dropped connection does.
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone would not.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        for sock in sockets:
            sock.close()

    def restore(self) -> None:
        """Accept connections again on the same port."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        """Stop the proxy for good."""
        self.cut()
