"""Shared fixtures: settings on a fresh database (SQLite and real PostgreSQL), the app, a client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from doorstep.api.app import create_app
from doorstep.settings import Environment, Settings
from doorstep.storage.db import make_engine
from doorstep.storage.migrate import migrate
from doorstep.storage.tables import metadata

IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get(
    "DOORSTEP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage and API test runs on SQLite and on PostgreSQL, each time on empty tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'doorstep.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    yield url
    _truncate(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Test settings: a temporary data folder, the parametrised database, a quick throttle."""
    return Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=database_url,
        login_max_failures=3,
        max_upload_mb=1,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """A Doorstep app on the test settings."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app, with its lifespan running."""
    with TestClient(app) as test_client:
        yield test_client
