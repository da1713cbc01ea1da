"""A legal notice's mail links to this Doorstep only, whatever its job carries."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.accounts.models import User
from doorstep.notify.service_mail import notice_letter
from doorstep.platform.types import utcnow
from tests.factories import resident


@pytest.mark.parametrize("url", ["@evil.example/login", "//evil.example/x", "https://evil.example"])
def test_a_link_that_is_not_one_of_our_pages_is_not_mailed(
    app: FastAPI, client: TestClient, url: str
) -> None:
    # The job's arguments sit on the task queue's broker, which anyone with its password can
    # write to: "https://doorstep.example" + "@evil.example/login" is a link to evil.example.
    resident(client)
    state = app.state.doorstep
    with state.db.session() as db:
        user = db.scalars(select(User)).one()
        user.email_verified_at = utcnow()
        db.commit()
        notice = {"disclosure": {"basis": "legal_demand", "agency_name": "PPB", "url": url}}
        letter = notice_letter(db, state.settings, user.id, json.dumps(notice))
    assert letter is not None
    assert "evil.example" not in letter.text
    assert "/disclosures/legal\n" in letter.text
