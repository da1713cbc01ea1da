"""Shared fixtures: settings on a fresh database (SQLite and real PostgreSQL), the app, a client.

`pytest --backends=scaleout` runs the same tests on the scale-out engines instead of the embedded
default: PostgreSQL only, clips in a SeaweedFS S3 bucket, events through Mosquitto, and background
jobs through Dramatiq on Redis taken by a worker in the test process.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
import redis
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from doorstep.app import create_app
from doorstep.platform import security
from doorstep.platform.db import make_engine
from doorstep.platform.http.state import AppState
from doorstep.platform.migrate import migrate
from doorstep.platform.queue.core import JobContext
from doorstep.settings import Environment, Settings
from doorstep.tables import metadata
from doorstep.worker import start_worker
from tests.services import S3_ACCESS_KEY, S3_SECRET_KEY, empty_bucket, seaweedfs_server

#: Fixtures every room of the house shares: blob stores and databases, and the browser.
pytest_plugins = ["tests.stores", "tests.browser"]

IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get(
    "DOORSTEP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PROFILE_QUEUE_URL = "redis://127.0.0.1:6379/12"
PROFILE_MQTT = ("127.0.0.1", 1883)
#: One bucket for the scale-out run; object keys are random, so its tests can share it.
PROFILE_BUCKET = f"doorstep-profile-{uuid.uuid4().hex[:10]}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        choices=("embedded", "scaleout"),
        default="embedded",
        help="embedded: SQLite and PostgreSQL, local clips, in-process events and jobs (default); "
        "scaleout: PostgreSQL, SeaweedFS S3, Mosquitto and a Dramatiq queue on Redis",
    )


def scaleout(config: pytest.Config) -> bool:
    """Whether this run is the scale-out profile."""
    return bool(config.getoption("backends") == "scaleout")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests run last, each room's after every other test: the one Playwright driver runs
    # its event loop from its first test on, and asyncio.run refuses to start beside it. Every
    # chromium (with fake media devices or without) comes from that driver's fixture.
    items.sort(key=lambda item: "playwright" in getattr(item, "fixturenames", ()))
    # The scale-out profile has no SQLite: its half of each database-parametrised test goes.
    if not scaleout(config):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        (dropped if on_sqlite else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def service_missing(what: str) -> NoReturn:
    """Fail in CI (a missing service is a broken build there), skip on a developer machine."""
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true", pytrace=False)
    pytest.skip(f"{what} is not reachable")


@pytest.fixture(autouse=True)
def _no_doorstep_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests build their own settings; a developer's DOORSTEP_* variables must not leak in.
    for name in [key for key in os.environ if key.startswith("DOORSTEP_")]:
        monkeypatch.delenv(name)


#: Argon2id at its cheapest: tests sign up and log in thousands of times, and full strength
#: (about 0.2 s a hash here) would spend minutes of the suite on it. Tests marked
#: ``real_password_hashes`` keep the production parameters and check them.
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
QUICK_DUMMY_HASH = QUICK_HASHER.hash("doorstep-no-such-account")


@pytest.fixture(autouse=True)
def _quick_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_password_hashes"):
        return
    monkeypatch.setattr(security, "_hasher", QUICK_HASHER)
    monkeypatch.setattr(security, "_DUMMY_HASH", QUICK_DUMMY_HASH)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly migrated schema of this test run's own in the PostgreSQL test database."""
    schema = f"doorstep_test_{os.getpid()}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
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


def _truncate(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def seaweedfs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real SeaweedFS S3 server for the whole run, started on free loopback ports."""
    with seaweedfs_server(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        yield endpoint


@pytest.fixture
def backend_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings that select this run's engines: none for the embedded default."""
    if not scaleout(request.config):
        return {}
    try:
        socket.create_connection(PROFILE_MQTT, timeout=2).close()
    except OSError:
        service_missing("Mosquitto at 127.0.0.1:1883")
    queue = redis.Redis.from_url(PROFILE_QUEUE_URL)
    try:
        # Messages left by the previous test would run against its truncated tables.
        queue.flushdb()
    except redis.ConnectionError:
        service_missing("Redis at 127.0.0.1:6379")
    finally:
        queue.close()
    endpoint: str = request.getfixturevalue("seaweedfs_endpoint")
    empty_bucket(endpoint, PROFILE_BUCKET)
    return {
        "blob_store": "s3",
        "s3_endpoint_url": endpoint,
        "s3_bucket": PROFILE_BUCKET,
        "s3_access_key": S3_ACCESS_KEY,
        "s3_secret_key": S3_SECRET_KEY,
        "mqtt_url": f"mqtt://{PROFILE_MQTT[0]}:{PROFILE_MQTT[1]}",
        "queue_url": PROFILE_QUEUE_URL,
    }


@contextmanager
def queue_worker(state: AppState) -> Iterator[None]:
    """With a task queue, a worker taking its jobs in this process; nothing otherwise."""
    settings = state.settings
    if not settings.queue_url:
        yield
        return
    running = start_worker(
        settings, JobContext(state.db, state.keys, settings), threads=2, idle_wake_ms=50
    )
    try:
        yield
    finally:
        running.stop(timeout_ms=30_000)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "doorstep.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    # Closing the last connection folds the write-ahead log into the file we copy.
    engine.dispose()
    return path


def _fresh_sqlite(tmp_path: Path, template: Path) -> str:
    # Migrating from nothing costs about 0.1 s a test; the app's own migrate finds it at head.
    target = tmp_path / "doorstep.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """For tests not parametrised by database: SQLite by default, PostgreSQL when scaled out."""
    if not scaleout(request.config):
        yield _fresh_sqlite(tmp_path, sqlite_template)
        return
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    yield url
    _truncate(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """Each storage and API test runs on SQLite and on PostgreSQL, each time on empty tables."""
    if request.param == "sqlite":
        yield _fresh_sqlite(tmp_path, sqlite_template)
        return
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    yield url
    _truncate(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, backend_settings: dict[str, Any]) -> Settings:
    """Test settings: a temporary data folder, the parametrised database, a quick throttle."""
    return Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=database_url,
        login_max_failures=3,
        # Every test client calls from one address; tests/hostile/test_lockout.py sets its own.
        sign_ups_per_address=1000,
        login_failures_per_address=1000,
        pairing_failures_per_address=1000,
        max_upload_mb=1,
        **backend_settings,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    """A Doorstep app on the test settings, its connections closed after the test."""
    application = create_app(settings)
    yield application
    # Most tests drive the app without starting its lifespan; its pool must still be closed
    # here, not left for the garbage collector to find in some later test.
    application.state.shutdown()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app, with its lifespan running."""
    with TestClient(app) as test_client, queue_worker(app.state.doorstep):
        yield test_client
