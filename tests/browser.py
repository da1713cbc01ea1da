"""Browser fixtures: a live Doorstep server on loopback, Debian's chromium under Playwright."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    sync_playwright,
)

from doorstep.app import create_app
from doorstep.platform.http.state import AppState
from doorstep.settings import Environment, Settings
from tests.conftest import queue_worker, service_missing

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A Doorstep server running in a thread of the test process."""

    url: str
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread = field(repr=False)
    app: FastAPI = field(repr=False)

    @property
    def state(self) -> AppState:
        """The running app's state (database, bus, blobs)."""
        state: AppState = self.app.state.doorstep
        return state

    def wait_for_listeners(self, count: int = 1, timeout: float = 10) -> None:
        """Block until ``count`` pages follow the live-events stream."""
        deadline = time.monotonic() + timeout
        while self.state.bus.listeners() < count:
            assert time.monotonic() < deadline, "no page is listening for live events"
            time.sleep(0.02)


@pytest.fixture
def live_server(
    tmp_path: Path, engine_database_url: str, backend_settings: dict[str, Any]
) -> Iterator[LiveServer]:
    """Doorstep on this run's engines (the embedded default unless scaled out), on loopback."""
    port = free_port()
    settings = Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=engine_database_url,
        host="127.0.0.1",
        port=port,
        # Every browser and client of a test comes from loopback: one address to the throttles.
        sign_ups_per_address=1000,
        login_failures_per_address=1000,
        pairing_failures_per_address=1000,
        **backend_settings,
    )
    with serve(settings) as server:
        yield server


@contextmanager
def serve(settings: Settings) -> Iterator[LiveServer]:
    """Run Doorstep with ``settings`` (their port) on uvicorn in a thread, as ``doorstep serve``.

    A real server, not a test client: each request's session is closed before an error page is
    rendered, and requests run at once on the thread pool.
    """
    app = create_app(settings)
    port = settings.port
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    # The worker stops first: its jobs hold connections the server's shutdown then closes.
    try:
        with queue_worker(app.state.doorstep):
            yield LiveServer(f"http://127.0.0.1:{port}", settings, server, thread, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _chromium() -> str:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        service_missing("Debian chromium (apt-get install chromium)")
    return executable


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the whole run (a second one cannot start beside it)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless, with its background traffic switched off."""
    launched = playwright.chromium.launch(
        executable_path=_chromium(), headless=True, args=CHROMIUM_FLAGS
    )
    yield launched
    launched.close()


#: Chromium's stand-ins for a camera and a microphone, granted without asking: the microphone
#: is a steady beep (FAKE_MICROPHONE_HZ), so a test can find it again at the far end.
FAKE_MEDIA_FLAGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
FAKE_MICROPHONE_HZ = 400


@pytest.fixture
def media_browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium with fake media devices: a page may call getUserMedia and gets a beep."""
    launched = playwright.chromium.launch(
        executable_path=_chromium(), headless=True, args=[*CHROMIUM_FLAGS, *FAKE_MEDIA_FLAGS]
    )
    yield launched
    launched.close()


@dataclass
class TrackedPage:
    """A page that records every URL it asked for, and every console error."""

    page: Page
    requests: list[str]
    console_errors: list[str]

    def policy_violations(self) -> list[str]:
        """Console errors where the browser refused something under our Content-Security-Policy."""
        return [text for text in self.console_errors if "Content Security Policy" in text]

    def foreign_requests(self, origin: str) -> list[str]:
        """Requests that went anywhere but ``origin`` (data: and blob: URLs stay in the page)."""
        return [
            url
            for url in self.requests
            if not url.startswith((origin + "/", "data:", "blob:")) and url != origin
        ]


@pytest.fixture
def tracked_page(browser: Browser) -> Iterator[TrackedPage]:
    """A fresh browser context and page that records its requests."""
    # In UTC wherever the tests run: forms read what is typed in the browser's own zone.
    context = browser.new_context(timezone_id="UTC")
    page = context.new_page()
    tracked = TrackedPage(page, [], [])

    def on_request(request: Request) -> None:
        tracked.requests.append(request.url)

    page.on("request", on_request)
    page.on(
        "console",
        lambda message: (
            tracked.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    yield tracked
    context.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[dict[str, TrackedPage]]:
    """One browser context per person, each recording every request it makes."""
    contexts = []
    tracked: dict[str, TrackedPage] = {}
    for who in ("admin", "agency", "sharer", "decliner"):
        context = browser.new_context(accept_downloads=True, timezone_id="UTC")
        contexts.append(context)
        page = context.new_page()
        entry = TrackedPage(page, [], [])

        def on_request(request: Request, entry: TrackedPage = entry) -> None:
            entry.requests.append(request.url)

        def on_console(message: ConsoleMessage, entry: TrackedPage = entry) -> None:
            if message.type == "error":
                entry.console_errors.append(message.text)

        page.on("request", on_request)
        page.on("console", on_console)
        tracked[who] = entry
    yield tracked
    for context in contexts:
        context.close()


@pytest.fixture
def api_clients() -> Iterator[list[httpx.Client]]:
    """HTTP clients the test opens, closed afterwards whatever happens."""
    clients: list[httpx.Client] = []
    yield clients
    for client in clients:
        client.close()
