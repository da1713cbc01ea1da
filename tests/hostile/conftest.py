"""Hostile-input fixtures: a whole neighbourhood of real objects, one logged-in client per role."""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.roles import Role
from doorstep.maps import service as maps
from doorstep.maps.models import Place, Street, StreetPlan
from doorstep.platform.types import utcnow
from doorstep.settings import Settings
from tests.agencies.test_api import HOME, apply, staff, verified_agency
from tests.bystanders.test_api import bystander_body
from tests.cameras.test_api_devices import _camera, _meta, _pair, _upload
from tests.doorbell.sdp import GOOD_OFFER
from tests.factories import accept_invitations, resident
from tests.notify.devices import unreachable_subscription
from tests.pets.test_api import notice_body
from tests.requests.test_api import post_rfa
from tests.samples import tiny_clip, tiny_jpeg

#: Every kind of caller the authorization matrix knows, in the order of its columns.
ROLES = (
    "anonymous",
    "owner",
    "other",
    "household",
    "foreign_agent",
    "agent",
    "reviewer",
    "admin",
)
WARRANT = hashlib.sha256(b"signed warrant for the matrix").hexdigest()


@dataclass
class World:
    """Real objects made through the API, and a client per role; ids fill path templates."""

    clients: dict[str, TestClient]
    csrf: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    def send(self, role: str, method: str, url: str, **kwargs: Any) -> Any:
        """Send one request as ``role`` (with its CSRF token when it has a session)."""
        headers = dict(kwargs.pop("headers", {}))
        if role in self.csrf:
            headers.setdefault("x-csrf-token", self.csrf[role])
        return self.clients[role].request(method, url, headers=headers, **kwargs)


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _accepted(response: Any) -> None:
    assert response.status_code == 202, response.text


@pytest.fixture(scope="session")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One small H.264 clip for the whole session."""
    return tiny_clip(tmp_path_factory.mktemp("media") / "clip.mp4").read_bytes()


def _streets(settings: Settings) -> None:
    """A one-street base map and gazetteer: the map routes have something to serve."""
    street = Street("Test St", ((-122.678, 45.5236), (-122.676, 45.5236)))
    bounds = (-122.678, 45.523, -122.676, 45.524)
    maps.write_base_map(settings, StreetPlan("Matrix", (45.5236, -122.6771), bounds, (street,)))
    maps.write_gazetteer(settings, [Place("1 Test St", 45.5236, -122.6771)])


def _bystander_request(world: World) -> None:
    """A stranger's bystander request the owner has already declined; its link and id."""
    created = _created(
        world.send("other", "POST", "/api/v1/bystander-requests", json=bystander_body())
    )
    world.ids["bystander_token"] = created["status_url"].rsplit("/", 1)[1]
    inbox = world.send("owner", "GET", "/api/v1/bystander-inbox")
    assert inbox.status_code == 200, inbox.text
    asked = inbox.json()[0]["id"]
    world.ids["bystander_id"] = asked
    url = f"/api/v1/bystander-inbox/{asked}/answer"
    _created(world.send("owner", "POST", url, json={}))


def build_world(app: FastAPI, clip_bytes: bytes) -> World:
    """Owner with camera, clip, post and token; household; two agencies; RFA, share, demand."""
    clients = {role: TestClient(app) for role in ROLES}
    csrf: dict[str, str] = {}
    csrf["owner"] = resident(clients["owner"], "owner@example.org", home=HOME)
    csrf["other"] = resident(clients["other"], "other@example.org", home=HOME)
    csrf["household"] = resident(clients["household"], "home@example.org", home=HOME)
    world = World(clients, csrf)
    ids = world.ids
    _streets(app.state.doorstep.settings)
    ids["owner_id"] = _created(world.send("owner", "GET", "/api/v1/me"))["id"]

    camera = _camera(clients["owner"], csrf["owner"], requests_opt_in=True)
    ids["camera_id"] = camera["id"]
    device_token = _pair(clients["owner"], csrf["owner"], camera["id"])
    ids["device_token"] = device_token
    for minutes, name in ((5, "clip_id"), (6, "clip2_id"), (7, "clip3_id")):
        # A repeated upload of the same moment is the same clip, so each starts a minute apart.
        start = utcnow() - timedelta(minutes=minutes)
        end = start + timedelta(seconds=2)
        meta = _meta(started_at=start.isoformat(), ended_at=end.isoformat())
        ids[name] = _created(_upload(clients["owner"], device_token, clip_bytes, meta=meta))["id"]
    ids["camera2_id"] = _camera(clients["owner"], csrf["owner"], name="Garage")["id"]
    ring = clients["owner"].post(
        "/api/v1/devices/ring",
        data={"source": "button"},
        files={"snapshot": ("ring.jpg", tiny_jpeg(), "image/jpeg")},
        headers={"authorization": f"Bearer {device_token}"},
    )
    ids["ring_id"] = ring.json()["ring_id"]
    ids["event_id"] = str(uuid.uuid4())
    started = clients["owner"].post(
        "/api/v1/devices/events",
        data={
            "meta": json.dumps({"event_id": ids["event_id"], "started_at": utcnow().isoformat()})
        },
        files={"snapshot": ("start.jpg", tiny_jpeg(), "image/jpeg")},
        headers={"authorization": f"Bearer {device_token}"},
    )
    assert started.status_code == 202, started.text
    live = world.send(
        "owner",
        "POST",
        f"/api/v1/cameras/{camera['id']}/live-sessions",
        json={"offer": {"type": "offer", "sdp": GOOD_OFFER}},
    )
    ids["live_session_id"] = _created(live)["id"]
    member = world.send(
        "owner",
        "POST",
        f"/api/v1/cameras/{camera['id']}/household",
        json={"email": "home@example.org"},
    )
    _accepted(member)
    # Household membership is an invitation the member accepts, with the code the owner gave.
    accept_invitations(clients["household"], csrf["household"], member)
    ids["user_id"] = _created(world.send("household", "GET", "/api/v1/me"))["id"]
    token = world.send(
        "owner", "POST", "/api/v1/me/tokens", json={"name": "script", "scopes": ["account:read"]}
    )
    ids["token_id"] = _created(token)["id"]
    device = world.send(
        "owner", "POST", "/api/v1/push/devices", json=unreachable_subscription("world")
    )
    ids["device_id"] = _created(device)["id"]

    chief, chief_csrf, agency_id = verified_agency(app)
    ids["agency_id"] = agency_id
    ids["chief_csrf"] = chief_csrf
    csrf["agent"] = resident(clients["agent"], "officer@ppb.example")
    invited = chief.post(
        f"/api/v1/agencies/{agency_id}/members",
        json={"email": "officer@ppb.example"},
        headers={"x-csrf-token": chief_csrf},
    )
    _accepted(invited)
    accept_invitations(clients["agent"], csrf["agent"], invited)
    _fire, csrf["foreign_agent"], ids["foreign_agency_id"] = verified_agency(
        app, "Fire District 9", "fire@fd9.example"
    )
    clients["foreign_agent"] = _fire
    # Invitations waiting for "other", for the rows that answer or withdraw them.
    to_other = {"email": "other@example.org"}
    to_police = chief.post(
        f"/api/v1/agencies/{agency_id}/members",
        json=to_other,
        headers={"x-csrf-token": chief_csrf},
    )
    _accepted(to_police)
    # The codes the inviters were shown, for the rows that accept (only "other" is invited).
    codes = {"Portland Police Bureau": to_police.json()["code"]}
    for role, url, name in (
        ("owner", f"/api/v1/cameras/{camera['id']}/household", camera["name"]),
        ("owner", f"/api/v1/cameras/{ids['camera2_id']}/household", "Garage"),
        (
            "foreign_agent",
            f"/api/v1/agencies/{ids['foreign_agency_id']}/members",
            "Fire District 9",
        ),
    ):
        sent = world.send(role, "POST", url, json=to_other)
        _accepted(sent)
        codes[name] = sent.json()["code"]
    waiting = {
        invitation["agency_name"] or invitation["camera_name"]: invitation["id"]
        for invitation in world.send("other", "GET", "/api/v1/invitations").json()
    }
    ids["invitation_id"] = waiting["Portland Police Bureau"]
    ids["household_invitation_id"] = waiting[camera["name"]]
    ids["form_invitation_id"] = waiting["Garage"]
    ids["form_decline_invitation_id"] = waiting["Fire District 9"]
    ids["household_invitation_code"] = codes[camera["name"]]
    ids["form_invitation_code"] = codes["Garage"]
    applicant = TestClient(app)
    ids["pending_agency_id"] = apply(
        applicant, resident(applicant, "applicant@example.org"), "Sheriff"
    )["id"]
    clients["reviewer"], csrf["reviewer"] = staff(app, "reviewer@doorstep.example", Role.REVIEWER)
    clients["admin"], csrf["admin"] = staff(app, "admin@doorstep.example", Role.ADMIN)

    rfa = _created(post_rfa(chief, chief_csrf))
    ids["rfa_id"] = rfa["id"]
    answer = world.send(
        "owner",
        "POST",
        f"/api/v1/inbox/{rfa['id']}/answer",
        json={"decision": "share", "clip_ids": [ids["clip_id"]]},
    )
    _created(answer)
    evidence = _created(world.send("agent", "GET", "/api/v1/evidence"))
    assert isinstance(evidence, list)
    ids["share_id"] = evidence[0]["id"]
    ids["sha256"] = evidence[0]["sha256"]
    _bystander_request(world)
    standing = world.send(
        "owner",
        "POST",
        f"/api/v1/inbox/{rfa['id']}/standing",
        json={"camera_id": ids["camera2_id"], "days": 1},
    )
    ids["grant_id"] = _created(standing)["id"]

    now = utcnow()
    demand = world.send(
        "reviewer",
        "POST",
        "/api/v1/legal/demands",
        json={
            "kind": "warrant",
            "agency_id": agency_id,
            "court": "Multnomah County Circuit Court",
            "reference": "2026-CR-7",
            "document_sha256": WARRANT,
            "account_id": ids["owner_id"],
            "device_ids": [ids["camera_id"]],
            "window_start": (now - timedelta(hours=1)).isoformat(),
            "window_end": now.isoformat(),
        },
    )
    ids["demand_id"] = _created(demand)["id"]
    disclosed = world.send(
        "reviewer",
        "POST",
        f"/api/v1/legal/demands/{ids['demand_id']}/disclose",
        json={"clip_ids": [ids["clip_id"]]},
    )
    ids["disclosure_id"] = _created(disclosed)[0]["id"]
    emergency = chief.post(
        "/api/v1/emergencies",
        json={
            "case_number": "PPB-2026-0911",
            "device_ids": [ids["camera_id"]],
            "window_start": (now - timedelta(hours=1)).isoformat(),
            "window_end": now.isoformat(),
            "attestation": "A child is missing and was last seen at this door; we fear for her.",
        },
        headers={"x-csrf-token": chief_csrf},
    )
    ids["request_id"] = _created(emergency)["id"]

    post = world.send(
        "owner",
        "POST",
        "/api/v1/posts",
        json={
            "text": "A parcel went missing from our step this morning.",
            "category": "crime",
            "contact_opt_in": True,
        },
    )
    ids["post_id"] = _created(post)["id"]
    comment = world.send(
        "other", "POST", f"/api/v1/posts/{ids['post_id']}/comments", json={"text": "Same here."}
    )
    ids["comment_id"] = _created(comment)["id"]
    message = world.send(
        "other", "POST", f"/api/v1/posts/{ids['post_id']}/messages", json={"text": "Saw a van."}
    )
    ids["message_id"] = _created(message)["id"]
    ids["decision"] = "verify"
    _lost_pet(world)
    return world


def _lost_pet(world: World) -> None:
    """A lost-pet notice by "other" near the owner's camera, and the owner's shared animal clip."""
    ids = world.ids
    start = utcnow() - timedelta(minutes=8)
    meta = _meta(
        started_at=start.isoformat(),
        ended_at=(start + timedelta(seconds=2)).isoformat(),
        labels=["animal"],
    )
    # Footage of its own: the same bytes again would be the camera's first clip, without an animal.
    with tempfile.TemporaryDirectory() as folder:
        video = tiny_clip(Path(folder) / "animal.mp4", frames=13).read_bytes()
    upload = _upload(world.clients["owner"], ids["device_token"], video, meta=meta)
    ids["animal_clip_id"] = _created(upload)["id"]
    notice = world.send("other", "POST", "/api/v1/pets", json=notice_body())
    ids["notice_id"] = _created(notice)["id"]
    photo = world.send(
        "other",
        "PUT",
        f"/api/v1/pets/{ids['notice_id']}/photo",
        content=tiny_jpeg(),
        headers={"content-type": "image/jpeg"},
    )
    _created(photo)
    share = world.send(
        "owner",
        "POST",
        f"/api/v1/pets/{ids['notice_id']}/shares",
        json={"clip_id": ids["animal_clip_id"]},
    )
    ids["pet_share_id"] = _created(share)["id"]


@pytest.fixture
def world(app: FastAPI, client: TestClient, clip_bytes: bytes) -> Iterator[World]:
    """The neighbourhood, built once per test."""
    built = build_world(app, clip_bytes)
    built.clients["anonymous"] = client
    yield built
    for client in built.clients.values():
        client.close()


@pytest.fixture
def data_dir(app: FastAPI) -> Path:
    """The app's data folder (blobs and the SQLite file live here)."""
    folder: Path = app.state.doorstep.settings.data_dir
    return folder
