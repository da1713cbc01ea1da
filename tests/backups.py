"""Helpers for the backup and rotation tests: a second, empty installation to restore into."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from doorstep.settings import Settings
from tests.conftest import POSTGRES_URL

_numbers = itertools.count()


@contextmanager
def empty_installation(settings: Settings, folder: Path) -> Iterator[Settings]:
    """Settings like ``settings`` on an empty data folder and an empty database of its kind."""
    url = settings.resolved_database_url
    number = next(_numbers)
    # Another bucket for blobs in S3 (made empty when first used).
    bucket = (
        {"s3_bucket": f"restored-{os.getpid()}-{number}"} if settings.blob_store == "s3" else {}
    )
    if make_url(url).get_backend_name() == "sqlite":
        yield settings.model_copy(
            update={
                "data_dir": folder / "data",
                "database_url": f"sqlite:///{folder / 'db'}",
                **bucket,
            }
        )
        return
    name = f"doorstep_restore_{os.getpid()}_{number}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    target = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        yield settings.model_copy(
            update={"data_dir": folder / "data", "database_url": target, **bucket}
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
