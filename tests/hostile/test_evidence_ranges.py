"""Evidence that leaves in pieces is still evidence that left: ranges, snapshots and downloads.

An agency member tries to take a whole file while its owner still sees "revocable": by Range
requests that join up, by an open range on a legal disclosure, by a household member's ranges
and snapshot, and by making a browser fetch a download from another site (I2, I5).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.accounts.models import User
from doorstep.errors import Conflict
from doorstep.requests import store as agencies
from doorstep.requests.models import EvidenceAction, Share
from doorstep.requests.service import open_evidence
from tests.agencies.test_api import app_state
from tests.factories import resident
from tests.legal.test_api import Scene, disclose, record, scene
from tests.requests.test_api import _answer, post_rfa

pytestmark = pytest.mark.usefixtures("client")

Published = list[tuple[str, dict[str, Any]]]


@dataclass
class Shared:
    """One share in the agency's locker and the owner who gave it."""

    s: Scene
    item: dict[str, Any]

    @property
    def size(self) -> int:
        """The delivered file's length."""
        size: int = self.item["size"]
        return size

    def owner_view(self) -> dict[str, Any]:
        """The share as its owner sees it in their disclosure history."""
        [mine] = self.s.owner.get("/api/v1/disclosures").json()
        assert isinstance(mine, dict)
        return mine

    def fetch(self, value: str) -> Any:
        """The agency member plays a byte range of the share."""
        return self.s.agency.get(self.item["video_url"], headers={"range": value})


@pytest.fixture
def published(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Published:
    """Every event the app tells anyone, after its commit."""
    seen: Published = []

    def publish(who: str, event: dict[str, Any]) -> int:
        seen.append((who, event))
        return 1

    monkeypatch.setattr(app_state(app).bus, "publish", publish)
    return seen


@pytest.fixture
def shared(app: FastAPI) -> Shared:
    """The owner shares their clip with the agency's request."""
    s = scene(app)
    rfa = post_rfa(s.agency, s.agency_csrf)
    assert rfa.status_code == 201, rfa.text
    answered = _answer(
        s.owner, s.owner_csrf, rfa.json()["id"], decision="share", clip_ids=[s.clip_id]
    )
    assert answered.status_code == 200, answered.text
    [item] = s.agency.get("/api/v1/evidence").json()
    return Shared(s, item)


def _downloads_told(published: Published, owner_id: str) -> list[dict[str, Any]]:
    return [
        event["disclosure"]
        for who, event in published
        if who == owner_id
        and event["type"] == "disclosure"
        and event["disclosure"].get("action") == "download"
    ]


def test_two_ranges_that_join_into_the_whole_file_are_a_download(
    shared: Shared, published: Published
) -> None:
    n = shared.size
    first = shared.fetch(f"bytes=0-{n - 2}")
    assert first.status_code == 206
    assert shared.owner_view()["revocable"] is True
    assert shared.owner_view()["bytes_served"] == n - 1
    last = shared.fetch(f"bytes={n - 1}-")
    assert last.status_code == 206
    assert len(first.content) + len(last.content) == n

    mine = shared.owner_view()
    assert mine["state"] == "downloaded"
    assert mine["revocable"] is False
    assert mine["bytes_served"] == n
    assert "download" in [access["action"] for access in mine["accesses"]]
    assert _downloads_told(published, shared.s.owner_id) != []
    refused = shared.s.owner.post(
        f"/api/v1/shares/{shared.item['id']}/revoke", headers={"x-csrf-token": shared.s.owner_csrf}
    )
    assert refused.status_code == 409
    actions = [entry["action"] for entry in shared.s.owner.get("/api/v1/me/audit").json()]
    assert "evidence.download" in actions


def test_the_owner_is_shown_what_already_left_before_withdrawing(shared: Shared) -> None:
    n = shared.size
    assert shared.fetch(f"bytes=0-{n - 2}").status_code == 206
    page = shared.s.owner.get("/disclosures")
    assert page.status_code == 200
    assert f"already received {n - 1} of {n} bytes" in page.text
    assert "Withdraw this share" in page.text


def test_rereading_a_range_does_not_add_up_but_split_ranges_do(shared: Shared) -> None:
    n = shared.size
    for _ in range(3):
        assert shared.fetch("bytes=0-9").status_code == 206
    assert shared.owner_view()["bytes_served"] == 10
    assert shared.fetch("bytes=5-19").status_code == 206
    assert shared.fetch(f"bytes=-{n - 20}").status_code == 206
    assert shared.owner_view()["state"] == "downloaded"


def test_every_range_is_an_audit_entry(shared: Shared) -> None:
    for value in ("bytes=0-9", "bytes=0-9", "bytes=10-19"):
        assert shared.fetch(value).status_code == 206
    entries = shared.s.owner.get("/api/v1/me/audit").json()
    pieces = [e["detail"]["bytes"] for e in entries if e["action"] == "evidence.view"]
    assert sorted(pieces) == ["0-9", "0-9", "10-19"]


@pytest.mark.parametrize("value", ["bytes=0-1,5-9", "bytes=0-1, 3-4", "items=0-1"])
def test_a_multi_range_is_refused_and_nothing_leaves(shared: Shared, value: str) -> None:
    assert shared.fetch(value).status_code == 416
    assert shared.owner_view()["bytes_served"] == 0


def test_an_open_range_on_a_disclosure_is_recorded_and_its_owner_told(
    app: FastAPI, published: Published
) -> None:
    s = scene(app)
    made = disclose(s, record(s)["id"], clip_ids=[s.clip_id])
    assert made.status_code == 200, made.text
    [item] = made.json()
    size = item["size"]
    head = s.agency.get(item["video_url"], headers={"range": "bytes=1-"})
    assert head.status_code == 206
    entries = s.owner.get("/api/v1/me/audit").json()
    views = [e for e in entries if e["action"] == "disclosure.view"]
    assert [e["detail"]["bytes"] for e in views] == [f"1-{size - 1}"]
    [told] = s.owner.get("/api/v1/me/disclosures/legal").json()
    assert told["downloaded_at"] is None

    rest = s.agency.get(item["video_url"], headers={"range": "bytes=0-0"})
    assert rest.status_code == 206
    [told] = s.owner.get("/api/v1/me/disclosures/legal").json()
    assert told["downloaded_at"] is not None
    entries = s.owner.get("/api/v1/me/audit").json()
    assert "disclosure.download" in [e["action"] for e in entries]
    assert [d["id"] for d in _downloads_told(published, s.owner_id)] == [item["id"]]


def test_a_household_members_ranges_and_snapshots_are_each_audited(app: FastAPI) -> None:
    s = scene(app)
    with TestClient(app) as member:
        member_csrf = resident(member, "home@example.org", display_name="Home")
        invited = s.owner.post(
            f"/api/v1/cameras/{s.camera_id}/household",
            json={"email": "home@example.org"},
            headers={"x-csrf-token": s.owner_csrf},
        )
        assert invited.status_code in (200, 201, 202), invited.text
        _accept_if_invited(member, member_csrf, invited.json())
        url = f"/api/v1/clips/{s.clip_id}"
        assert member.get(f"{url}/video", headers={"range": "bytes=1-"}).status_code == 206
        assert member.get(f"{url}/video", headers={"range": "bytes=1-"}).status_code == 206
        assert member.get(f"{url}/snapshot").status_code == 200
    entries = s.owner.get("/api/v1/me/audit").json()
    mine = [(e["action"], e["detail"].get("bytes")) for e in entries if e["detail"].get("clip")]
    size = s.owner.get(url).json()["size"]
    assert sorted(mine, key=str) == sorted(
        [("clip.view", f"1-{size - 1}"), ("clip.view", f"1-{size - 1}"), ("clip.snapshot", None)],
        key=str,
    )


def _accept_if_invited(member: TestClient, csrf: str, sent: dict[str, Any]) -> None:
    """Household membership is an invitation the member accepts with the code the owner gave."""
    accepted = member.post(
        f"/api/v1/invitations/{sent['id']}/accept",
        json={"code": sent["code"]},
        headers={"x-csrf-token": csrf},
    )
    assert accepted.status_code == 200, accepted.text


def test_a_get_of_a_download_url_delivers_no_bytes(shared: Shared) -> None:
    old = shared.s.agency.get(f"{shared.item['video_url']}?download=true")
    assert old.status_code == 405
    assert old.headers["content-type"].startswith("application/problem+json")
    now = shared.s.agency.get(shared.item["download_url"])
    assert now.status_code == 405
    assert shared.owner_view()["bytes_served"] == 0
    assert shared.owner_view()["revocable"] is True

    s = shared.s
    made = disclose(s, record(s)["id"], clip_ids=[s.clip_id])
    [item] = made.json()
    assert s.agency.get(f"{item['video_url']}?download=true").status_code == 405
    assert s.agency.get(item["download_url"]).status_code == 405
    [told] = s.owner.get("/api/v1/me/disclosures/legal").json()
    assert told["downloaded_at"] is None


def test_a_cross_site_post_without_the_csrf_token_is_refused(shared: Shared) -> None:
    hostile = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
    forged = shared.s.agency.post(shared.item["download_url"], headers=hostile)
    assert forged.status_code == 403
    form = shared.s.agency.post(
        shared.item["download_url"], data={"csrf_token": "guessed"}, headers=hostile
    )
    assert form.status_code == 403
    played = shared.s.agency.get(shared.item["video_url"], headers={**hostile, "range": "bytes=0-"})
    assert played.status_code == 403
    assert shared.owner_view()["bytes_served"] == 0
    assert shared.owner_view()["revocable"] is True


def test_the_explicit_post_download_is_the_download(shared: Shared, published: Published) -> None:
    download = shared.s.agency.post(
        shared.item["download_url"], data={"csrf_token": shared.s.agency_csrf}
    )
    assert download.status_code == 200
    assert len(download.content) == shared.size
    assert download.headers["content-disposition"].startswith("attachment")
    mine = shared.owner_view()
    assert (mine["state"], mine["revocable"], mine["bytes_served"]) == (
        "downloaded",
        False,
        shared.size,
    )
    assert _downloads_told(published, shared.s.owner_id) != []


def test_two_halves_served_at_the_same_moment_still_add_up(app: FastAPI, shared: Shared) -> None:
    state = app_state(app)
    n = shared.size
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def serve(span: tuple[int, int]) -> None:
        try:
            start.wait()
            with state.db.session() as db:
                chief = db.scalars(select(User).where(User.email == "chief@ppb.example")).one()
                open_evidence(db, state, chief, shared.item["id"], EvidenceAction.VIEW, span)
        except BaseException as err:  # noqa: BLE001 - handed to the test's thread
            failures.append(err)

    threads = [
        threading.Thread(target=serve, args=(span,)) for span in ((0, n - 2), (n - 1, n - 1))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    mine = shared.owner_view()
    assert (mine["state"], mine["revocable"], mine["bytes_served"]) == ("downloaded", False, n)
    assert [a["action"] for a in mine["accesses"]].count("download") == 1


def test_a_withdrawal_decided_before_a_download_landed_is_refused(
    app: FastAPI, shared: Shared
) -> None:
    state = app_state(app)
    with state.db.session() as stale:
        share = stale.get(Share, shared.item["id"])
        assert share is not None
        assert share.state == "active"
        with state.db.session() as db:
            chief = db.scalars(select(User).where(User.email == "chief@ppb.example")).one()
            open_evidence(db, state, chief, shared.item["id"], EvidenceAction.DOWNLOAD)
        with pytest.raises(Conflict):
            agencies.revoke(stale, share)
    mine = shared.owner_view()
    assert (mine["state"], mine["revocable"]) == ("downloaded", False)
