"""Agent fixtures: a live Doorstep server that can be stopped and restarted, an owner, footage."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
import uvicorn

from doorstep.agent.client import DeviceClient
from doorstep.agent.state import AgentState, save_state
from doorstep.app import create_app
from doorstep.settings import Environment, Settings

PASSWORD = "lantern-porch-9"
WIDTH, HEIGHT, FPS = 320, 240, 10


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A Doorstep server running in a thread of the test process."""

    url: str
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Stop the server the way a crash looks to the agent: connections refused from now on."""
        self.server.should_exit = True
        # An agent's long-poll may be waiting (up to 45 s): a crash does not wait for it either.
        self.server.force_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the test server did not stop"


def start_server(data_dir: Path, port: int) -> Server:
    """Start Doorstep on ``port`` with its data (database included) in ``data_dir``."""
    settings = Settings(env=Environment.TEST, data_dir=data_dir, host="127.0.0.1", port=port)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the test server failed to start"
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    return Server(f"http://127.0.0.1:{port}", settings, server, thread)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Server]:
    """Doorstep on the embedded default, on a free loopback port."""
    server = start_server(tmp_path / "data", free_port())
    yield server
    if server.thread.is_alive():
        server.stop()


@dataclass
class Owner:
    """A logged-in resident with one camera, talking to the live server over HTTP."""

    http: httpx.Client
    csrf: str
    camera_id: str

    def pairing_code(self) -> str:
        """A fresh one-time pairing code for the camera."""
        response = self.http.post(
            f"/api/v1/cameras/{self.camera_id}/pairing-code", headers={"x-csrf-token": self.csrf}
        )
        assert response.status_code == 201, response.text
        code: str = response.json()["code"]
        return code

    def change_camera(self, **changes: Any) -> dict[str, Any]:
        """Change the camera's settings as the owner does in the UI."""
        response = self.http.patch(
            f"/api/v1/cameras/{self.camera_id}", json=changes, headers={"x-csrf-token": self.csrf}
        )
        assert response.status_code == 200, response.text
        camera: dict[str, Any] = response.json()
        return camera

    def camera(self) -> dict[str, Any]:
        """The camera as the owner sees it."""
        camera: dict[str, Any] = self.http.get(f"/api/v1/cameras/{self.camera_id}").json()
        return camera

    def clips(self) -> list[dict[str, Any]]:
        """The owner's clip timeline."""
        response = self.http.get("/api/v1/clips")
        assert response.status_code == 200, response.text
        clips: list[dict[str, Any]] = response.json()["clips"]
        return clips


@pytest.fixture
def owner(live_server: Server) -> Iterator[Owner]:
    """Ada, signed up and logged in, with a camera called Front door."""
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        account = {"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada"}
        assert http.post("/api/v1/accounts", json=account).status_code == 201
        session = http.post(
            "/api/v1/session", json={"email": account["email"], "password": PASSWORD}
        )
        assert session.status_code == 201, session.text
        csrf: str = session.json()["csrf_token"]
        camera = http.post(
            "/api/v1/cameras", json={"name": "Front door"}, headers={"x-csrf-token": csrf}
        )
        assert camera.status_code == 201, camera.text
        yield Owner(http, csrf, camera.json()["id"])


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """The agent's state folder."""
    return tmp_path / "agent"


@pytest.fixture
def paired(live_server: Server, owner: Owner, state_dir: Path) -> AgentState:
    """The agent paired with the owner's camera, its token stored in ``state_dir``."""
    with DeviceClient(live_server.url) as client:
        pairing = client.pair(owner.pairing_code())
    state = AgentState(live_server.url, pairing.camera_id, pairing.token)
    save_state(state_dir, state)
    return state


def write_footage(path: Path, *, frames: int, moving: tuple[int, int] | None) -> Path:
    """Encode a still, textured scene where a white square slides along during ``moving``.

    The index is at the front (faststart), so the file also streams over plain HTTP.
    """
    rng = np.random.default_rng(11)
    tiles = rng.integers(50, 150, size=(HEIGHT // 16, WIDTH // 16, 3), dtype=np.uint8)
    scene = np.repeat(np.repeat(tiles, 16, axis=0), 16, axis=1)
    options = {"movflags": "+faststart"}
    with av.open(str(path), mode="w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for index in range(frames):
            image = scene.copy()
            if moving is not None and moving[0] <= index <= moving[1]:
                x = 20 + (index - moving[0]) * 6
                image[100:140, x : x + 40] = 255
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s at 10 fps; something moves from 3.0 s to 4.5 s."""
    return write_footage(
        tmp_path_factory.mktemp("footage") / "doorstep.mp4", frames=80, moving=(30, 45)
    )


@pytest.fixture(scope="session")
def still_footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s at 10 fps of a scene where nothing moves."""
    return write_footage(tmp_path_factory.mktemp("still") / "still.mp4", frames=40, moving=None)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Wait until ``condition()`` is true, failing with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
