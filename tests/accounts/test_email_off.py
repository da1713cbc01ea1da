"""Email off (no DOORSTEP_SMTP_HOST) says so plainly; a relay that is down never fails a request."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.accounts.models import EmailLink
from doorstep.app import create_app
from doorstep.settings import Environment, Settings
from tests.browser import free_port
from tests.factories import resident, sign_up


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def _links(app: FastAPI) -> int:
    with app.state.doorstep.db.session() as db:
        return int(db.scalar(select(func.count(EmailLink.id))) or 0)


def test_without_smtp_the_pages_say_no_email_is_sent(app: FastAPI, client: TestClient) -> None:
    assert "no confirmation mail is sent" in client.get("/signup").text
    forgot = client.get("/forgot")
    assert 'data-testid="email-off"' in forgot.text
    assert "Ask its operator" in forgot.text
    answer = client.post(
        "/forgot", data={"csrf_token": _csrf(client, "/signup"), "email": "x@example.org"}
    )
    assert answer.status_code == 200
    resident(client)
    account = client.get("/account").text
    assert "has no email set up" in account
    assert "Apprise targets are off" in account
    added = client.post(
        "/account/targets",
        data={"csrf_token": _csrf(client, "/account"), "url": "json://127.0.0.1:9/hook"},
    )
    assert added.status_code == 403
    assert _links(app) == 0


@pytest.fixture
def unreachable_app(tmp_path: Path, engine_database_url: str) -> Iterator[FastAPI]:
    """An app whose mail relay is a loopback port nobody listens on."""
    settings = Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=engine_database_url,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_starttls=False,
        smtp_timeout=2,
    )
    application = create_app(settings)
    yield application
    application.state.shutdown()


def test_a_relay_that_is_down_fails_no_request_and_the_job_tries_again(
    unreachable_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="doorstep.platform.queue.core")
    with TestClient(unreachable_app) as client:
        sign_up(client)
        forgot = client.post(
            "/forgot", data={"csrf_token": _csrf(client, "/forgot"), "email": "ada@example.org"}
        )
        assert forgot.status_code == 200
        assert 'data-testid="forgot-sent"' in forgot.text
        deadline = time.monotonic() + 20
        while not any("(attempt 2)" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the mail job was not tried again"
            time.sleep(0.05)
    failures = [r for r in caplog.records if "job account_mail" in r.getMessage()]
    assert failures
    assert all(r.exc_info and "mail relay" in str(r.exc_info[1]) for r in failures)
