"""Account email against a real SMTP server: verification, password reset, sign-in notices."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from doorstep.accounts.models import EmailLink
from doorstep.platform.types import utcnow
from doorstep.settings import Environment, Settings
from tests.factories import PASSWORD, bearer, log_in, resident, sign_up
from tests.mailbox import Mailbox, body_of, confirm_email, link_in

NEW_PASSWORD = "harbour-kettle-77"


@pytest.fixture
def settings(
    tmp_path: Path, database_url: str, backend_settings: dict[str, Any], mailbox: Mailbox
) -> Settings:
    """The usual test settings, sending mail to the test's SMTP server."""
    return Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=database_url,
        sign_ups_per_address=1000,
        login_failures_per_address=1000,
        **mailbox.settings(),
        **backend_settings,
    )


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def _path(url: str) -> str:
    return urlsplit(url).path


def _forgot(app: FastAPI, email: str) -> Any:
    stranger = TestClient(app)
    return stranger.post("/forgot", data={"csrf_token": _csrf(stranger, "/forgot"), "email": email})


def _reset_links(app: FastAPI) -> list[EmailLink]:
    with app.state.doorstep.db.session() as db:
        return list(db.scalars(select(EmailLink).where(EmailLink.purpose == "reset")))


def test_sign_up_mails_a_link_that_proves_the_address_once(
    app: FastAPI, client: TestClient, mailbox: Mailbox
) -> None:
    sign_up(client)
    [mail] = mailbox.wait_for(1)
    assert (mail["To"], mail["Subject"]) == ("ada@example.org", "Confirm your email for Doorstep")
    link = link_in(mail, "verify")
    # Built on the configured address, never on the request's Host header.
    assert link.startswith("http://127.0.0.1:8000/verify/")
    secret = link.rsplit("/", 1)[1]
    with app.state.doorstep.db.session() as db:
        [row] = db.scalars(select(EmailLink))
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    log_in(client)
    assert client.get("/api/v1/me").json()["email_verified_at"] is None
    assert "is not confirmed yet" in client.get("/account").text
    # Opening the link (as a mail scanner or a link preview does) proves nothing: its page asks.
    opened = client.get(_path(link))
    assert opened.status_code == 200
    assert "Confirm my email" in opened.text
    assert client.get("/api/v1/me").json()["email_verified_at"] is None
    # Without the page's double-submit token the button is refused.
    assert client.post(_path(link), data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/api/v1/me").json()["email_verified_at"] is None
    followed = client.post(_path(link), data={"csrf_token": _csrf(client, _path(link))})
    assert followed.status_code == 200
    assert "Email confirmed" in followed.text
    assert client.get("/api/v1/me").json()["email_verified_at"] is not None
    assert "is confirmed" in client.get("/account").text
    again = client.get(_path(link))
    assert again.status_code == 410
    assert "used already" in again.text
    replay = client.post(_path(link), data={"csrf_token": _csrf(client, "/account")})
    assert replay.status_code == 410
    assert client.get("/verify/" + "x" * 43).status_code == 404


def test_forgot_answers_an_unknown_email_the_same_and_sends_it_nothing(
    app: FastAPI, client: TestClient, mailbox: Mailbox
) -> None:
    sign_up(client)
    mailbox.wait_for(1)
    unknown = _forgot(app, "nobody@example.org")
    known = _forgot(app, "ada@example.org")
    assert unknown.status_code == known.status_code == 200
    same = [
        r.text.replace(email, "EMAIL")
        for r, email in ((unknown, "nobody@example.org"), (known, "ada@example.org"))
    ]
    # Each page has its own CSRF token in the form it no longer shows: nothing else differs.
    assert same[0] == same[1]
    [_, reset] = mailbox.wait_for(2)
    assert (reset["To"], reset["Subject"]) == ("ada@example.org", "Reset your Doorstep password")
    assert [link.email for link in _reset_links(app)] == ["ada@example.org"]
    assert mailbox.to("nobody@example.org") == []


def test_a_reset_link_works_once_and_cuts_off_every_session_and_token(
    app: FastAPI, client: TestClient, mailbox: Mailbox
) -> None:
    csrf = resident(client)
    token = bearer(client, csrf, {"account:read"})
    mailbox.wait_for(1)
    assert _forgot(app, "ada@example.org").status_code == 200
    link = _path(link_in(mailbox.wait_for(2)[1], "reset"))
    browser = TestClient(app)
    form = browser.get(link)
    assert form.status_code == 200
    assert "Choose a new password" in form.text
    weak = browser.post(link, data={"csrf_token": _csrf(browser, link), "new_password": "short"})
    assert weak.status_code == 422
    done = browser.post(
        link,
        data={"csrf_token": _csrf(browser, link), "new_password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/account?reset=1"
    me = browser.get("/api/v1/me").json()
    # Following the link proved the address too.
    assert me["email"] == "ada@example.org"
    assert me["email_verified_at"] is not None
    assert client.get("/api/v1/me").status_code == 401
    with TestClient(app) as script:
        assert script.get("/api/v1/me", headers=token).status_code == 401
    replay = TestClient(app)
    refused = replay.post(
        link, data={"csrf_token": _csrf(replay, "/forgot"), "new_password": "another-password-3"}
    )
    assert refused.status_code == 410
    assert "used already" in refused.text
    assert replay.get(link).status_code == 410
    log_in(replay, password=NEW_PASSWORD)
    changed = mailbox.wait_to("ada@example.org", 3)[2]
    assert changed["Subject"] == "Your Doorstep password was changed"


def test_an_expired_reset_link_is_refused(
    app: FastAPI, client: TestClient, mailbox: Mailbox
) -> None:
    sign_up(client)
    mailbox.wait_for(1)
    _forgot(app, "ada@example.org")
    link = _path(link_in(mailbox.wait_for(2)[1], "reset"))
    with app.state.doorstep.db.session() as db:
        db.execute(update(EmailLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    stranger = TestClient(app)
    page = stranger.get(link)
    assert page.status_code == 410
    assert "expired" in page.text
    refused = stranger.post(
        link, data={"csrf_token": _csrf(stranger, "/forgot"), "new_password": NEW_PASSWORD}
    )
    assert refused.status_code == 410
    log_in(stranger)  # the old password still works


def test_a_new_browser_and_a_password_change_are_mailed_to_a_proven_address(
    app: FastAPI, client: TestClient, mailbox: Mailbox
) -> None:
    sign_up(client)
    assert confirm_email(client, link_in(mailbox.wait_for(1)[0], "verify")).status_code == 200
    log_in(client)  # the account's first browser: no mail
    other = TestClient(app)
    log_in(other)
    log_in(other)  # seen now: no mail
    csrf = log_in(client)
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"x-csrf-token": csrf},
    )
    assert changed.status_code == 200, changed.text
    mails = mailbox.wait_to("ada@example.org", 3)
    # Two jobs on two threads: either mail may land first.
    by_subject = {mail["Subject"]: mail for mail in mails[1:]}
    assert sorted(by_subject) == [
        "New sign-in to your Doorstep account",
        "Your Doorstep password was changed",
    ]
    # Only the time: no address, no browser, no place.
    text = body_of(by_subject["New sign-in to your Doorstep account"])
    assert "testclient" not in text
    assert "127.0.0.1" not in text.replace("http://127.0.0.1:8000", "")
    assert len(mailbox.messages) == 3


def test_an_unproven_address_gets_no_notices(
    app: FastAPI, client: TestClient, mailbox: Mailbox
) -> None:
    csrf = resident(client)
    log_in(TestClient(app))
    client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"x-csrf-token": csrf},
    )
    resent = client.post(
        "/account/email/verify",
        data={"csrf_token": _csrf(client, "/account")},
        follow_redirects=False,
    )
    assert resent.headers["location"] == "/account?notice=link-sent"
    # Two verification links, nothing else.
    assert [m["Subject"] for m in mailbox.wait_for(2)] == ["Confirm your email for Doorstep"] * 2


def test_a_password_change_ends_the_reset_links_still_out(
    app: FastAPI, client: TestClient, mailbox: Mailbox
) -> None:
    # A link read by someone else (a shared or breached mailbox) must not outlive the owner
    # choosing a new password: the change is what they do on suspecting exactly that.
    csrf = resident(client)
    mailbox.wait_for(1)
    assert _forgot(app, "ada@example.org").status_code == 200
    link = _path(link_in(mailbox.wait_for(2)[1], "reset"))
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"x-csrf-token": csrf},
    )
    assert changed.status_code == 200, changed.text
    stranger = TestClient(app)
    assert stranger.get(link).status_code == 410
    refused = stranger.post(
        link, data={"csrf_token": _csrf(stranger, "/forgot"), "new_password": "another-password-3"}
    )
    assert refused.status_code == 410
    log_in(stranger, password=NEW_PASSWORD)
