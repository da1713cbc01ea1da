"""Fixtures for the clip store: a blob store on each backend (the S3 one on SeaweedFS)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from doorstep.platform.blobs import BlobStore, LocalBlobStore, make_blob_store
from doorstep.platform.db import Database
from doorstep.platform.migrate import migrate
from doorstep.settings import Settings
from tests.services import S3_ACCESS_KEY, S3_SECRET_KEY


@pytest.fixture
def local_store(tmp_path: Path) -> LocalBlobStore:
    """A local blob store in an empty folder."""
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def s3_settings(seaweedfs_endpoint: str, tmp_path: Path) -> Settings:
    """Settings pointing at a fresh, not yet existing bucket on the SeaweedFS server."""
    return Settings(
        data_dir=tmp_path,
        blob_store="s3",
        s3_endpoint_url=seaweedfs_endpoint,
        s3_bucket=f"doorstep-{uuid.uuid4().hex[:12]}",
        s3_access_key=SecretStr(S3_ACCESS_KEY),
        s3_secret_key=SecretStr(S3_SECRET_KEY),
    )


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """The same blob store tests on the local folder and on a real S3 bucket."""
    if request.param == "s3":
        settings: Settings = request.getfixturevalue("s3_settings")
        return make_blob_store(settings)
    return make_blob_store(Settings(data_dir=tmp_path, blob_store="local"))


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """A migrated database of the parametrised backend, closed after the test."""
    database = Database(settings.resolved_database_url)
    migrate(database.engine)
    yield database
    database.dispose()
