"""A stranger cannot lock an owner out; the stranger's own address is what gets throttled.

Each test drives the app as the attacker would: wrong passwords for the owner's email from
addresses of the stranger's own, sign-ups and pairing codes flooded from one address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from doorstep.accounts.models import KnownAddress, User
from doorstep.accounts.throttle_rules import (
    KNOWN_ADDRESS_DAYS,
    KNOWN_ADDRESSES_PER_ACCOUNT,
    known_address_key,
)
from doorstep.accounts.throttling import DEVICE_COOKIE, forget_stale_counters
from doorstep.app import create_app
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from doorstep.settings import Settings
from tests.cameras.test_api_devices import _camera
from tests.factories import PASSWORD, resident, sign_up
from tests.hostile.served import logging_restored, served

OWNER = "owner@example.org"
HOME_ADDRESS = ("203.0.113.5", 50000)
STRANGER_ADDRESS = ("198.51.100.7", 50000)
#: The limits these tests run under, small so a flood is short.
LIMITS: dict[str, Any] = {
    "login_max_failures": 3,
    "login_max_delay_seconds": 60,
    "login_failures_per_address": 6,
    "sign_ups_per_address": 4,
    "pairing_failures_per_address": 3,
    "throttle_window_minutes": 15,
}


@pytest.fixture
def limited(settings: Settings) -> Iterator[FastAPI]:
    """The app with small throttle limits (the suite's own are lifted for shared addresses)."""
    app = create_app(settings.model_copy(update=LIMITS))
    yield app
    app.state.shutdown()


def _client(app: FastAPI, address: tuple[str, int]) -> TestClient:
    return TestClient(app, client=address)


def _login(client: TestClient, email: str, password: str) -> Any:
    return client.post("/api/v1/session", json={"email": email, "password": password})


def test_a_strangers_failures_never_lock_the_owner_out_of_a_known_device(
    limited: FastAPI,
) -> None:
    owner = _client(limited, HOME_ADDRESS)
    csrf = resident(owner, OWNER)
    assert owner.cookies.get(DEVICE_COOKIE)
    assert owner.delete("/api/v1/session", headers={"x-csrf-token": csrf}).status_code == 204
    # Wrong passwords for the owner's email from the stranger's address, and from many others.
    refused = []
    for attempt in range(40):
        stranger = _client(limited, (f"198.51.100.{attempt % 20 + 1}", 40000))
        refused.append(_login(stranger, OWNER, f"guess-{attempt}").status_code)
    assert 429 in refused
    assert set(refused) <= {401, 429}
    # The owner's browser signed in before: nobody else's failures hold it up.
    assert _login(owner, OWNER, PASSWORD).status_code == 201
    assert owner.get("/api/v1/me").json()["email"] == OWNER


def test_the_owner_on_a_new_device_waits_at_most_the_short_cap(limited: FastAPI) -> None:
    sign_up(_client(limited, HOME_ADDRESS), OWNER)
    for attempt in range(40):
        stranger = _client(limited, (f"198.51.100.{attempt % 20 + 1}", 40000))
        _login(stranger, OWNER, f"guess-{attempt}")
    # An address that never signed in to the account: the stranger's failures make it wait,
    # but a short wait, never a lockout of minutes that the stranger can renew forever.
    fresh = _client(limited, ("192.0.2.44", 40000))
    answer = _login(fresh, OWNER, PASSWORD)
    assert answer.status_code == 429
    assert 0 < int(answer.headers["retry-after"]) <= LIMITS["login_max_delay_seconds"]


def _flood(app: FastAPI, email: str) -> None:
    """A stranger's wrong passwords for ``email`` from many addresses, until it is backed off."""
    refused = [
        _login(_client(app, (f"198.51.100.{n % 20 + 1}", 40000)), email, f"guess-{n}").status_code
        for n in range(40)
    ]
    assert refused[-1] == 429
    assert set(refused) <= {401, 429}


def test_a_new_browser_at_an_address_that_signed_in_before_is_not_held_up(
    limited: FastAPI,
) -> None:
    # The owner signed in from home once, from one browser...
    resident(_client(limited, HOME_ADDRESS), OWNER)
    _flood(limited, OWNER)
    # ...so another browser at home, without the device cookie, is let in all the same.
    laptop = _client(limited, (HOME_ADDRESS[0], 51000))
    assert not laptop.cookies.get(DEVICE_COOKIE)
    assert _login(laptop, OWNER, PASSWORD).status_code == 201
    # That address is known to this account only: another account's owner there still waits.
    sign_up(_client(limited, STRANGER_ADDRESS), "neighbour@example.org")
    _flood(limited, "neighbour@example.org")
    assert _login(laptop, "neighbour@example.org", PASSWORD).status_code == 429


def test_an_ipv6_home_is_known_by_its_64(limited: FastAPI) -> None:
    resident(_client(limited, ("2001:db8:1:2::5", 50000)), OWNER)
    _flood(limited, OWNER)
    # The next /64 over is somebody else's: it waits like any new address...
    assert _login(_client(limited, ("2001:db8:1:3::5", 1)), OWNER, PASSWORD).status_code == 429
    # ...while privacy addresses change within the home's /64: still home.
    at_home = _client(limited, ("2001:db8:1:2:abcd::99", 1))
    assert _login(at_home, OWNER, PASSWORD).status_code == 201


def test_a_device_cookie_from_before_a_password_change_gives_no_free_guesses(
    limited: FastAPI,
) -> None:
    owner = _client(limited, HOME_ADDRESS)
    csrf = resident(owner, OWNER)
    stolen = owner.cookies[DEVICE_COOKIE]
    new_password = "a different long passphrase 42"
    changed = owner.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers={"x-csrf-token": csrf},
    )
    assert changed.status_code == 200
    _flood(limited, OWNER)
    # The stolen cookie named this browser as known under the old password: not any more.
    thief = _client(limited, ("192.0.2.77", 1))
    thief.cookies.set(DEVICE_COOKIE, stolen)
    assert _login(thief, OWNER, "guess-again").status_code == 429
    # The owner's own browser was told again when the password changed: it is still known.
    assert owner.cookies[DEVICE_COOKIE] != stolen
    assert owner.delete("/api/v1/session", headers={"x-csrf-token": changed.json()["csrf_token"]})
    assert _login(_client(limited, ("192.0.2.78", 1)), OWNER, new_password).status_code == 429
    owner_elsewhere = _client(limited, ("192.0.2.79", 1))
    owner_elsewhere.cookies.set(DEVICE_COOKIE, owner.cookies[DEVICE_COOKIE])
    assert _login(owner_elsewhere, OWNER, new_password).status_code == 201


#: Device cookies a browser never got from Doorstep: none may fail the request or tell anything.
MALFORMED_COOKIES = (
    "abc.\u00e9\u00e9",
    "\u00e9\u00e9\u00e9.abc",
    "abc",
    "a.b.c",
    ".",
    "abc." + "0" * 64,
    "x" * 5000 + "." + "0" * 64,
)


@pytest.mark.parametrize("cookie", MALFORMED_COOKIES)
def test_a_malformed_device_cookie_neither_fails_nor_tells_whether_an_email_exists(
    limited: FastAPI, cookie: str
) -> None:
    sign_up(_client(limited, HOME_ADDRESS), OWNER)
    header = {"cookie": f"{DEVICE_COOKIE}={cookie}".encode()}

    def answers(email: str, address: str) -> list[int]:
        client = _client(limited, (address, 1))
        return [
            client.post(
                "/api/v1/session",
                json={"email": email, "password": "guess"},
                headers=header,  # type: ignore[arg-type]
            ).status_code
            for _ in range(LIMITS["login_failures_per_address"] + 1)
        ]

    # The same answers for an account that exists and for one that does not, and each
    # failure counted like any other.
    existing = answers(OWNER, "198.51.100.30")
    assert existing == answers("nobody@example.org", "198.51.100.31")
    assert set(existing) == {401, 429}
    assert existing[-1] == 429


def test_a_strangers_own_address_gets_throttled(limited: FastAPI) -> None:
    sign_up(_client(limited, HOME_ADDRESS), "stranger@example.org")
    stranger = _client(limited, STRANGER_ADDRESS)
    # Different emails each time: the address itself is what is counted.
    answers = [
        _login(stranger, f"victim{n}@example.org", "guess").status_code
        for n in range(LIMITS["login_failures_per_address"] + 1)
    ]
    assert answers[:-1] == [401] * LIMITS["login_failures_per_address"]
    assert answers[-1] == 429
    # From that address even a right password waits: guessing stops there...
    refused = _login(stranger, "stranger@example.org", PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    # ...and only there.
    assert (
        _login(_client(limited, ("192.0.2.9", 1)), "victim1@example.org", "guess").status_code
        == 401
    )


def test_a_known_devices_own_failures_are_limited_too(limited: FastAPI) -> None:
    owner = _client(limited, HOME_ADDRESS)
    resident(owner, OWNER)
    answers = [
        _login(owner, OWNER, "typo").status_code
        for _ in range(LIMITS["login_failures_per_address"] + 1)
    ]
    assert answers[-1] == 429
    # A stolen cookie does not make guessing free; the owner's other devices are unaffected.
    assert _login(_client(limited, ("192.0.2.10", 1)), OWNER, PASSWORD).status_code == 201


def test_a_sign_up_flood_from_one_address_is_throttled(limited: FastAPI) -> None:
    flood = _client(limited, STRANGER_ADDRESS)
    body = {"password": PASSWORD, "display_name": "Bot"}
    answers = [
        flood.post("/api/v1/accounts", json={**body, "email": f"bot{n}@example.org"})
        for n in range(LIMITS["sign_ups_per_address"] + 1)
    ]
    assert [a.status_code for a in answers[:-1]] == [201] * LIMITS["sign_ups_per_address"]
    assert answers[-1].status_code == 429
    assert int(answers[-1].headers["retry-after"]) > 0
    # Failed attempts count as well: trying many is what the limit is for.
    again = flood.post("/api/v1/accounts", json={**body, "email": "not-an-email"})
    assert again.status_code == 429
    # Somebody else's address is not held up.
    sign_up(_client(limited, HOME_ADDRESS), "neighbour@example.org")


def test_pairing_codes_guessed_from_one_address_are_throttled(limited: FastAPI) -> None:
    owner = _client(limited, HOME_ADDRESS)
    csrf = resident(owner, OWNER)
    camera = _camera(owner, csrf)
    code = owner.post(
        f"/api/v1/cameras/{camera['id']}/pairing-code", headers={"x-csrf-token": csrf}
    ).json()["code"]
    guesser = _client(limited, STRANGER_ADDRESS)
    answers = [
        guesser.post("/api/v1/devices/pair", json={"code": f"{n:08d}", "agent_version": "x"})
        for n in range(LIMITS["pairing_failures_per_address"] + 1)
    ]
    assert [a.status_code for a in answers[:-1]] == [401] * LIMITS["pairing_failures_per_address"]
    assert answers[-1].status_code == 429
    # From the guessing address even the right code waits; from the owner's it works.
    right = {"code": code, "agent_version": "x"}
    assert guesser.post("/api/v1/devices/pair", json=right).status_code == 429
    assert owner.post("/api/v1/devices/pair", json=right).status_code == 201


def test_pairing_codes_that_work_do_not_count(limited: FastAPI) -> None:
    owner = _client(limited, HOME_ADDRESS)
    csrf = resident(owner, OWNER)
    camera = _camera(owner, csrf)
    for _ in range(LIMITS["pairing_failures_per_address"] + 2):
        code = owner.post(
            f"/api/v1/cameras/{camera['id']}/pairing-code", headers={"x-csrf-token": csrf}
        ).json()["code"]
        paired = owner.post("/api/v1/devices/pair", json={"code": code, "agent_version": "x"})
        assert paired.status_code == 201


def _page_login(client: TestClient, password: str) -> Any:
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    form = {"csrf_token": match.group(1), "email": OWNER, "password": password}
    return client.post("/login", data=form, follow_redirects=False)


def test_the_login_page_is_throttled_by_the_same_rules(limited: FastAPI) -> None:
    owner = _client(limited, HOME_ADDRESS)
    csrf = resident(owner, OWNER)
    assert owner.delete("/api/v1/session", headers={"x-csrf-token": csrf}).status_code == 204
    stranger = _client(limited, STRANGER_ADDRESS)
    answers = [
        _page_login(stranger, f"guess-{n}").status_code
        for n in range(LIMITS["login_failures_per_address"] + 1)
    ]
    assert answers[-1] == 429
    # The owner's browser, on the page too, is let in.
    assert _page_login(owner, PASSWORD).status_code == 303


def test_a_forged_forwarded_for_does_not_give_a_stranger_new_addresses(settings: Settings) -> None:
    # The server as `doorstep serve` runs it, with no trusted proxy: the header is not believed.
    limited_settings = settings.model_copy(update=LIMITS)
    app = create_app(limited_settings)
    with (
        logging_restored(),
        served(app, limited_settings) as url,
        httpx.Client(base_url=url) as http,
    ):
        answers = [
            http.post(
                "/api/v1/session",
                json={"email": f"victim{n}@example.org", "password": "guess"},
                headers={"x-forwarded-for": f"192.0.2.{n + 1}"},
            ).status_code
            for n in range(LIMITS["login_failures_per_address"] + 1)
        ]
    app.state.shutdown()
    assert answers[-1] == 429


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(settings: Settings) -> None:
    proxied = settings.model_copy(update={**LIMITS, "trusted_proxies": "127.0.0.1"})
    app = create_app(proxied)
    with logging_restored(), served(app, proxied) as url, httpx.Client(base_url=url) as http:
        sign_up = http.post(
            "/api/v1/accounts",
            json={"email": OWNER, "password": PASSWORD, "display_name": "Owner"},
            headers={"x-forwarded-for": HOME_ADDRESS[0]},
        )
        assert sign_up.status_code == 201
        flood = [
            http.post(
                "/api/v1/session",
                json={"email": f"victim{n}@example.org", "password": "guess"},
                headers={"x-forwarded-for": STRANGER_ADDRESS[0]},
            ).status_code
            for n in range(LIMITS["login_failures_per_address"] + 1)
        ]
        owner = http.post(
            "/api/v1/session",
            json={"email": OWNER, "password": PASSWORD},
            headers={"x-forwarded-for": HOME_ADDRESS[0]},
        )
    app.state.shutdown()
    # The stranger behind the proxy is throttled; the owner behind the same proxy is not.
    assert flood[-1] == 429
    assert owner.status_code == 201


def test_an_account_knows_only_its_latest_addresses_and_not_for_ever(limited: FastAPI) -> None:
    sign_up(_client(limited, HOME_ADDRESS), OWNER)
    homes = [f"10.0.0.{n}" for n in range(1, KNOWN_ADDRESSES_PER_ACCOUNT + 2)]
    for home in homes:
        assert _login(_client(limited, (home, 1)), OWNER, PASSWORD).status_code == 201
    _flood(limited, OWNER)
    # The oldest of one address too many was forgotten: it waits like any new address.
    assert _login(_client(limited, (homes[0], 1)), OWNER, PASSWORD).status_code == 429
    # An address unused for longer than the account remembers is no longer known either.
    state: AppState = limited.state.doorstep
    with state.db.session() as db:
        stale = utcnow() - timedelta(days=KNOWN_ADDRESS_DAYS, minutes=1)
        db.execute(update(KnownAddress).values(last_seen_at=stale))
    assert _login(_client(limited, (homes[-1], 1)), OWNER, PASSWORD).status_code == 429
    # The sweep removes such rows; an address that signed in lately stays.
    with state.db.session() as db:
        db.execute(
            update(KnownAddress)
            .where(
                KnownAddress.key
                == known_address_key(state.throttle_secret, _owner_id(state), homes[1])
            )
            .values(last_seen_at=utcnow())
        )
    assert forget_stale_counters(state) >= KNOWN_ADDRESSES_PER_ACCOUNT - 1
    with state.db.session() as db:
        assert db.scalar(select(func.count()).select_from(KnownAddress)) == 1
    assert _login(_client(limited, (homes[1], 1)), OWNER, PASSWORD).status_code == 201


def _owner_id(state: AppState) -> str:
    with state.db.session() as db:
        owner = db.scalar(select(User.id).where(User.email == OWNER))
    assert owner is not None
    return owner
