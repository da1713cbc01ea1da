"""The master key's guards: a first key must open the data, derived keys sealed, a busy folder."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import delete, select

from doorstep.accounts.models import User
from doorstep.app import create_app
from doorstep.clips import store as clips_store
from doorstep.errors import ConfigurationError
from doorstep.master_key import MASTER_KEY_FILE, new_master_key
from doorstep.platform import keycheck
from doorstep.settings import Settings
from tests.factories import resident


def test_an_upgraded_database_records_only_a_first_key_that_opens_its_data(
    app: FastAPI, settings: Settings
) -> None:
    resident(TestClient(app), "ann@example.org")
    state = app.state.doorstep
    with state.db.session() as db:
        owner = db.scalars(select(User).where(User.email == "ann@example.org")).one()
        clips_store.owner_data_key(db, state.master_key, owner.id)
        # As a database from before the check was kept: no key named yet.
        db.execute(delete(keycheck.KeyCheck))
    app.state.shutdown()
    key_a = (settings.data_dir / MASTER_KEY_FILE).read_text().strip()

    with pytest.raises(ConfigurationError, match="does not open this database's data keys"):
        create_app(settings.model_copy(update={"master_key": SecretStr(new_master_key())}))
    again = create_app(settings.model_copy(update={"master_key": SecretStr(key_a)}))
    try:
        with again.state.doorstep.db.session() as db:
            assert keycheck.stored_digest(db) == keycheck.key_digest(
                bytes(again.state.doorstep.master_key)
            )
    finally:
        again.state.shutdown()
