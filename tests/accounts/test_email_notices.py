"""Legal notices by email to a proven address, and every notice to the owner's Apprise targets."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.accounts.models import NoticeTarget
from doorstep.legal.service_disclose import send_due_notices
from doorstep.platform.types import utcnow
from doorstep.settings import Environment, Settings
from tests.legal.test_api import disclose, record, scene
from tests.mailbox import Mailbox, body_of, confirm_email, link_in

pytestmark = pytest.mark.usefixtures("client")


class Receiver:
    """A loopback HTTP endpoint that keeps the JSON bodies Apprise's json:// posts to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                size = int(self.headers.get("content-length", "0"))
                received.append(json.loads(self.rfile.read(size)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                del format, args

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook?token=s3cret-token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The first ``count`` bodies, once they are here."""
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count:
            assert time.monotonic() < deadline, f"{len(self.bodies)} of {count} notices arrived"
            time.sleep(0.05)
        return self.bodies[:count]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A json:// Apprise target on loopback."""
    target = Receiver()
    target.thread.start()
    yield target
    target.server.shutdown()
    target.server.server_close()


@pytest.fixture
def settings(
    tmp_path: Path, engine_database_url: str, backend_settings: dict[str, Any], mailbox: Mailbox
) -> Settings:
    """Mail to the test's SMTP server, and Apprise targets on."""
    return Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=engine_database_url,
        sign_ups_per_address=1000,
        login_failures_per_address=1000,
        pairing_failures_per_address=1000,
        apprise_targets=True,
        **mailbox.settings(),
        **backend_settings,
    )


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text)
    assert found
    return found.group(1)


def test_a_disclosure_is_mailed_to_the_owner_and_sent_to_their_apprise_target(
    app: FastAPI, mailbox: Mailbox, receiver: Receiver
) -> None:
    s = scene(app)
    verify = link_in(mailbox.wait_to("owner@example.org")[0], "verify")
    assert confirm_email(s.owner, verify).status_code == 200
    added = s.owner.post(
        "/account/targets",
        data={"csrf_token": _csrf(s.owner), "url": receiver.url},
        follow_redirects=False,
    )
    assert added.status_code == 303
    account = s.owner.get("/account").text
    port = urlsplit(receiver.url.replace("json://", "http://")).port
    assert f"json://127.0.0.1:{port}/…" in account
    assert "s3cret-token" not in account
    with app.state.doorstep.db.session() as db:
        [row] = db.scalars(select(NoticeTarget))
        assert b"s3cret-token" not in row.sealed_url

    demand = record(s)
    assert disclose(s, demand["id"], clip_ids=[s.clip_id]).status_code == 200

    [notice] = [m for m in mailbox.wait_to("owner@example.org", 2) if "disclosed" in m["Subject"]]
    assert notice["Subject"] == "Your footage was disclosed to Portland Police Bureau"
    text = body_of(notice)
    assert "legal demand" in text
    assert "/disclosures/legal" in text
    [pushed] = receiver.wait_for(1)
    assert pushed["title"] == "Your footage was disclosed"
    assert "Portland Police Bureau" in pushed["message"]

    target_id = row.id
    removed = s.owner.post(
        f"/account/targets/{target_id}/remove", data={"csrf_token": _csrf(s.owner)}
    )
    assert removed.status_code == 200
    assert "s3cret" not in removed.text
    assert f"json://127.0.0.1:{port}/…" not in removed.text


def test_a_target_apprise_does_not_know_is_refused(app: FastAPI, mailbox: Mailbox) -> None:
    del mailbox
    s = scene(app)
    refused = s.owner.post(
        "/account/targets", data={"csrf_token": _csrf(s.owner), "url": "gopher://example.org/x"}
    )
    assert refused.status_code == 422
    assert "Not an Apprise URL" in refused.text


def test_a_notice_held_by_a_non_disclosure_order_is_mailed_when_the_order_ends(
    app: FastAPI, mailbox: Mailbox
) -> None:
    s = scene(app)
    verify = link_in(mailbox.wait_to("owner@example.org")[0], "verify")
    assert confirm_email(s.owner, verify).status_code == 200
    demand = record(s)
    ends = utcnow() + timedelta(days=3)
    ordered = s.reviewer.post(
        f"/api/v1/legal/demands/{demand['id']}/non-disclosure-order",
        json={"ends_at": ends.isoformat()},
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    assert ordered.status_code == 200, ordered.text
    assert disclose(s, demand["id"], clip_ids=[s.clip_id]).status_code == 200
    state = app.state.doorstep
    assert send_due_notices(state, now=ends - timedelta(days=1)) == 0
    assert send_due_notices(state, now=ends + timedelta(minutes=1)) == 1
    [_, notice] = mailbox.wait_to("owner@example.org", 2)
    assert notice["Subject"] == "Your footage was disclosed to Portland Police Bureau"
    # Nothing went out while the order held it back: the verification link, then this.
    assert len(mailbox.to("owner@example.org")) == 2


def test_a_telegram_target_is_added_without_its_token_on_the_page(
    app: FastAPI, mailbox: Mailbox
) -> None:
    del mailbox
    s = scene(app)
    url = "tgram://123456789:ABCdefGHIjklMNO/12345"
    added = s.owner.post(
        "/account/targets",
        data={"csrf_token": _csrf(s.owner), "url": url},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    account = s.owner.get("/account").text
    assert "tgram:///…" in account
    assert "ABCdef" not in account
