"""Every route × every role in one table; any allow where the table says deny fails the test."""

from __future__ import annotations

import json
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from doorstep.platform.crypto import passphrase_check, passphrase_key
from doorstep.platform.types import utcnow
from doorstep.transparency.service import publish_heads
from tests.bystanders.test_api import bystander_body
from tests.doorbell.sdp import GOOD_OFFER
from tests.factories import PASSWORD
from tests.hostile.conftest import ROLES, WARRANT, World
from tests.notify.devices import unreachable_subscription
from tests.pets.test_api import notice_body
from tests.requests.test_api import rfa_body
from tests.samples import tiny_jpeg

Body = Callable[[World, str], dict[str, Any]]


def _json(payload: dict[str, Any] | list[Any]) -> Body:
    return lambda _world, _role: {"json": payload}


def _form(payload: dict[str, Any]) -> Body:
    return lambda _world, _role: {"data": payload}


def _none(_world: World, _role: str) -> dict[str, Any]:
    return {}


def _hour() -> tuple[str, str]:
    now = utcnow()
    return (now - timedelta(hours=1)).isoformat(), now.isoformat()


def _sign_up(_world: World, role: str) -> dict[str, Any]:
    return {"json": {"email": f"new-{role}@example.org", "password": PASSWORD, "display_name": "N"}}


def _sign_up_form(_world: World, role: str) -> dict[str, Any]:
    return {
        "data": {"email": f"form-{role}@example.org", "password": PASSWORD, "display_name": "F"}
    }


def _push_device(_world: World, role: str) -> dict[str, Any]:
    return {"json": unreachable_subscription(role)}


def _camera_ids(world: World, _role: str) -> dict[str, Any]:
    return {"json": [world.ids["camera_id"]]}


def _demand(world: World, _role: str) -> dict[str, Any]:
    start, end = _hour()
    return {
        "json": {
            "kind": "warrant",
            "agency_id": world.ids["agency_id"],
            "court": "Court",
            "reference": "2026-CR-9",
            "document_sha256": WARRANT,
            "account_id": world.ids["owner_id"],
            "device_ids": [world.ids["camera_id"]],
            "window_start": start,
            "window_end": end,
        }
    }


def _demand_form(world: World, _role: str) -> dict[str, Any]:
    start, end = _hour()
    return {
        "data": {
            "kind": "warrant",
            "agency_id": world.ids["agency_id"],
            "court": "Court",
            "reference": "2026-CR-10",
            "document_sha256": WARRANT,
            "account_email": "owner@example.org",
            "device_ids": world.ids["camera_id"],
            "window_start": start,
            "window_end": end,
        }
    }


def _emergency(world: World, _role: str) -> dict[str, Any]:
    start, end = _hour()
    return {
        "json": {
            "case_number": "PPB-2026-0912",
            "device_ids": [world.ids["camera_id"]],
            "window_start": start,
            "window_end": end,
            "attestation": "Someone is trapped in a house fire and we need the door camera.",
        }
    }


def _emergency_form(world: World, _role: str) -> dict[str, Any]:
    start, end = _hour()
    return {
        "data": {
            "case_number": "PPB-2026-0913",
            "device_ids": world.ids["camera_id"],
            "window_start": start,
            "window_end": end,
            "attestation": "Someone is trapped in a house fire and we need the door camera.",
        }
    }


def _rfa(_world: World, role: str) -> dict[str, Any]:
    return {"json": rfa_body(case_number=f"PPB-{role}")}


def _rfa_form(_world: World, role: str) -> dict[str, Any]:
    body = rfa_body(case_number=f"FORM-{role}")
    centre = body.pop("centre")
    return {"data": {**body, "centre": f"{centre['lat']}, {centre['lon']}"}}


def _pet(_world: World, role: str) -> dict[str, Any]:
    return {"json": notice_body(name=f"Pet of {role}")}


def _pet_form(_world: World, role: str) -> dict[str, Any]:
    body = notice_body(name=f"Form pet of {role}")
    centre = body.pop("centre")
    return {"data": {**body, "centre": f"{centre['lat']}, {centre['lon']}"}}


def _pet_clip(world: World, _role: str) -> dict[str, Any]:
    return {"json": {"clip_id": world.ids["animal_clip_id"]}}


def _pet_clip_form(world: World, _role: str) -> dict[str, Any]:
    return {"data": {"clip_id": world.ids["animal_clip_id"]}}


#: The lost-pet share, in routes whose path names it ``share_id`` as requests' shares do.
PET_SHARE = {"share_id": "pet_share_id"}


def _bystander(_world: World, _role: str) -> dict[str, Any]:
    return {"json": bystander_body()}


def _bystander_form(_world: World, _role: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "data": {
            "centre": "45.5236, -122.6771",
            "radius_m": "200",
            "window_start": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "window_end": (now - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"),
        }
    }


def _tip(world: World, _role: str) -> dict[str, Any]:
    return {"json": {"agency_id": world.ids["agency_id"], "text": "The van was white."}}


def _tip_form(world: World, _role: str) -> dict[str, Any]:
    return {"data": {"agency_id": world.ids["agency_id"], "text": "The van was white."}}


def _share(world: World, _role: str) -> dict[str, Any]:
    return {"json": {"decision": "share", "clip_ids": [world.ids["clip_id"]]}}


def _share_form(world: World, _role: str) -> dict[str, Any]:
    return {"data": {"decision": "share", "clip_ids": [world.ids["clip_id"]]}}


def _household_code(world: World, _role: str) -> dict[str, Any]:
    return {"json": {"code": world.ids["household_invitation_code"]}}


def _form_code(world: World, _role: str) -> dict[str, Any]:
    return {"data": {"code": world.ids["form_invitation_code"]}}


def _delete_clips(world: World, _role: str) -> dict[str, Any]:
    return {"json": {"ids": [world.ids["clip2_id"]]}}


def _delete_clips_form(world: World, _role: str) -> dict[str, Any]:
    return {"data": {"ids": [world.ids["clip3_id"]]}}


def _disclose(world: World, _role: str) -> dict[str, Any]:
    return {"json": {"clip_ids": [world.ids["clip_id"]]}}


def _e2e(_world: World, _role: str) -> dict[str, Any]:
    salt = bytes(16)
    return {"json": {"salt": salt.hex(), "check": passphrase_check(passphrase_key("x" * 12, salt))}}


def _photo(_world: World, _role: str) -> dict[str, Any]:
    return {"content": tiny_jpeg(), "headers": {"content-type": "image/jpeg"}}


def _live_frame(_world: World, _role: str) -> dict[str, Any]:
    return {"content": tiny_jpeg(), "headers": {"content-type": "image/jpeg"}}


def _upload(_world: World, _role: str) -> dict[str, Any]:
    meta = {"started_at": _hour()[0], "ended_at": _hour()[1], "peak_motion": 0.1, "labels": []}
    return {
        "data": {"meta": json.dumps(meta)},
        "files": {
            "video": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
            "snapshot": ("snap.jpg", tiny_jpeg(), "image/jpeg"),
        },
    }


JURISDICTION_TEXT = json.dumps(
    {
        "type": "Polygon",
        "coordinates": [[[-122.5, 45.3], [-122.4, 45.3], [-122.4, 45.4], [-122.5, 45.3]]],
    }
)
TEXT = {"text": "Thanks, neighbour."}
TOGGLE = {"on": True}
REASON = {"reason": "spam"}


@dataclass(frozen=True)
class Row:
    """One route, what every role gets, and the smallest valid request for it."""

    method: str
    path: str
    expect: str
    body: Body = _none
    #: Requests that destroy or replace what later rows need run in later phases.
    phase: int = 0
    params: dict[str, str] = field(default_factory=dict)
    #: Log-ins would swap the role's session for another account's; its cookies are put back.
    keep_cookies: bool = False
    #: Live streams never end, so only their response status is read.
    stream: bool = False


def _owner_receipt(world: World, _role: str) -> dict[str, Any]:
    """Point the row at the owner's first deletion receipt (none before the owner deletes)."""
    listed = world.clients["owner"].get("/api/v1/me/receipts").json()
    # A receipt is proven in a head the periodic job published: publish one as it would.
    publish_heads(world.clients["owner"].app.state.doorstep)  # type: ignore[attr-defined]
    world.ids["receipt_seq"] = str(listed[0]["index"]) if listed else "0"
    return {}


ALL = "ok ok ok ok ok ok ok ok"
#: Nothing there for anyone (a link that was never sent).
NONE = "404 404 404 404 404 404 404 404"
TABLE: list[Row] = [
    Row("GET", "/openapi.json", ALL),
    Row("GET", "/healthz", ALL),
    Row("GET", "/docs", ALL),
    Row("POST", "/api/v1/accounts", "ok ok ok ok ok ok ok ok", _sign_up, keep_cookies=True),
    Row(
        "POST",
        "/api/v1/session",
        "401 401 401 401 401 401 401 401",
        _json({"email": "login@example.org", "password": PASSWORD}),
        keep_cookies=True,
    ),
    Row("DELETE", "/api/v1/session", "ok ok ok ok ok ok ok ok", phase=6),
    Row("GET", "/api/v1/me", "401 ok ok ok ok ok ok ok"),
    Row("PATCH", "/api/v1/me", "401 ok ok ok ok ok ok ok", _json({"display_name": "Renamed"})),
    Row(
        "POST",
        "/api/v1/me/password",
        "401 ok ok ok ok ok ok ok",
        _json({"current_password": PASSWORD, "new_password": PASSWORD + "x"}),
        phase=3,
    ),
    Row("DELETE", "/api/v1/me", "401 ok ok ok ok ok ok ok", _json({"password": PASSWORD}), phase=5),
    Row("GET", "/api/v1/me/tokens", "401 ok ok ok ok ok ok ok"),
    Row(
        "POST",
        "/api/v1/me/tokens",
        "401 ok ok ok ok ok ok ok",
        _json({"name": "t", "scopes": ["account:read"]}),
    ),
    Row("DELETE", "/api/v1/me/tokens/{token_id}", "401 ok 404 404 404 404 404 404", phase=1),
    Row("GET", "/api/v1/me/export", "401 ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/cameras", "401 ok ok ok ok ok ok ok"),
    Row("POST", "/api/v1/cameras", "401 ok ok ok ok ok ok ok", _json({"name": "Porch"})),
    Row("GET", "/api/v1/cameras/{camera_id}", "401 ok 404 404 404 404 404 404"),
    # The latest snapshot is viewable as the camera's clips are (household: audited).
    Row("GET", "/api/v1/cameras/{camera_id}/snapshot", "401 ok 404 ok 404 404 404 404"),
    Row(
        "PATCH",
        "/api/v1/cameras/{camera_id}",
        "401 ok 404 404 404 404 404 404",
        _json({"name": "Side door"}),
    ),
    Row("POST", "/api/v1/cameras/{camera_id}/e2e", "401 ok 404 404 404 404 404 404", _e2e, phase=2),
    Row("POST", "/api/v1/cameras/{camera_id}/pairing-code", "401 ok 404 404 404 404 404 404"),
    Row("DELETE", "/api/v1/cameras/{camera_id}", "401 ok 404 404 404 404 404 404", phase=2),
    Row("GET", "/api/v1/cameras/{camera_id}/household", "401 ok 404 404 404 404 404 404"),
    Row(
        "POST",
        "/api/v1/cameras/{camera_id}/household",
        "401 ok 404 404 404 404 404 404",
        _json({"email": "other@example.org"}),
    ),
    Row(
        "DELETE",
        "/api/v1/cameras/{camera_id}/household/{user_id}",
        "401 ok 404 404 404 404 404 404",
        phase=1,
    ),
    Row(
        "GET", "/api/v1/cameras/{camera_id}/household/invitations", "401 ok 404 404 404 404 404 404"
    ),
    Row(
        "DELETE",
        "/api/v1/cameras/{camera_id}/household/invitations/{invitation_id}",
        "401 ok 404 404 404 404 404 404",
        params={"invitation_id": "household_invitation_id"},
        phase=1,
    ),
    Row("GET", "/api/v1/invitations", "401 ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/push/key", ALL),
    Row("GET", "/api/v1/push/devices", "401 ok ok ok ok ok ok ok"),
    Row("POST", "/api/v1/push/devices", "401 ok ok ok ok ok ok ok", _push_device),
    Row(
        "PATCH",
        "/api/v1/push/devices/{device_id}",
        "401 ok 404 404 404 404 404 404",
        _json({"name": "Phone"}),
    ),
    Row("POST", "/api/v1/push/devices/{device_id}/test", "401 ok 404 404 404 404 404 404"),
    Row("DELETE", "/api/v1/push/devices/{device_id}", "401 ok 404 404 404 404 404 404", phase=1),
    Row(
        "POST",
        "/api/v1/invitations/{invitation_id}/accept",
        "401 404 ok 404 404 404 404 404",
        _household_code,
        params={"invitation_id": "household_invitation_id"},
        phase=4,
    ),
    Row(
        "POST",
        "/api/v1/invitations/{invitation_id}/decline",
        "401 404 ok 404 404 404 404 404",
        phase=1,
    ),
    Row("GET", "/api/v1/cameras/{camera_id}/live", "401 ok 404 404 404 404 404 404", stream=True),
    Row(
        "POST",
        "/api/v1/devices/pair",
        "401 401 401 401 401 401 401 401",
        _json({"code": "ABCD-EFGH"}),
    ),
    Row("POST", "/api/v1/devices/heartbeat", "401 401 401 401 401 401 401 401", _json({})),
    Row("GET", "/api/v1/devices/config", "401 401 401 401 401 401 401 401"),
    Row("POST", "/api/v1/devices/clips", "401 401 401 401 401 401 401 401", _upload),
    Row(
        "POST", "/api/v1/devices/ring", "401 401 401 401 401 401 401 401", _form({"source": "cli"})
    ),
    Row("GET", "/api/v1/devices/live-sessions?wait=0", "401 401 401 401 401 401 401 401"),
    Row(
        "POST",
        "/api/v1/devices/live-sessions/{session_id}/answer",
        "401 401 401 401 401 401 401 401",
        _json({"type": "answer", "sdp": "v=0"}),
        params={"session_id": "live_session_id"},
    ),
    Row(
        "POST",
        "/api/v1/devices/live-sessions/{session_id}/end",
        "401 401 401 401 401 401 401 401",
        params={"session_id": "live_session_id"},
    ),
    Row("GET", "/api/v1/devices/turn", "401 401 401 401 401 401 401 401"),
    Row("GET", "/api/v1/turn", "401 ok ok ok 403 403 403 403"),
    Row(
        "POST",
        "/api/v1/cameras/{camera_id}/live-sessions",
        "401 ok 404 403 404 404 404 404",
        _json({"offer": {"type": "offer", "sdp": GOOD_OFFER}}),
    ),
    Row(
        "GET",
        "/api/v1/live-sessions/{session_id}?wait=0",
        "401 ok 404 404 404 404 404 404",
        params={"session_id": "live_session_id"},
    ),
    Row(
        "DELETE",
        "/api/v1/live-sessions/{session_id}",
        "401 ok 404 404 404 404 404 404",
        params={"session_id": "live_session_id"},
        phase=1,
    ),
    Row("GET", "/api/v1/rings/{ring_id}/snapshot", "401 ok 404 403 404 404 404 404"),
    Row(
        "GET",
        "/api/v1/cameras/{camera_id}/events/{event_id}/snapshot",
        "401 ok 404 404 404 404 404 404",
    ),
    Row(
        "POST",
        "/api/v1/devices/events",
        "401 401 401 401 401 401 401 401",
        _form({"meta": "{}"}),
    ),
    Row(
        "PATCH",
        "/api/v1/cameras/{camera_id}/household/{user_id}",
        "401 ok 404 404 404 404 404 404",
        _json({"live_view": False}),
    ),
    Row("POST", "/api/v1/devices/live", "401 401 401 401 401 401 401 401", _live_frame),
    Row("GET", "/api/v1/clips", "401 ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/clips/{clip_id}", "401 ok 404 ok 404 404 404 404"),
    Row("GET", "/api/v1/clips/{clip_id}/video", "401 ok 404 ok 404 404 404 404"),
    Row("GET", "/api/v1/clips/{clip_id}/snapshot", "401 ok 404 ok 404 404 404 404"),
    Row("DELETE", "/api/v1/clips/{clip_id}", "401 ok 404 403 404 404 404 404", phase=1),
    Row("POST", "/api/v1/clips/delete", "401 404 404 403 404 404 404 404", _delete_clips, phase=1),
    Row("GET", "/api/v1/events", "401 ok ok ok ok ok ok ok", stream=True),
    Row("GET", "/api/v1/audit/head", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/audit/entries", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/audit/proof/inclusion?seq=0&size=1", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/audit/proof/consistency?old=1&new=2", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/me/audit", "401 ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/me/receipts", "401 ok ok ok ok ok ok ok"),
    Row(
        "GET",
        "/api/v1/me/receipts/{seq}",
        "401 ok 404 404 404 404 404 404",
        _owner_receipt,
        phase=2,
        params={"seq": "receipt_seq"},
    ),
    Row("GET", "/api/v1/feed", "401 ok ok ok 422 422 422 422"),
    Row("GET", "/api/v1/feed/map", "401 ok ok ok 422 422 422 422"),
    Row("GET", "/api/v1/feed/moderation", "401 403 403 403 403 403 ok ok"),
    Row("GET", "/api/v1/feed/messages", "401 ok ok ok ok ok ok ok"),
    Row(
        "POST",
        "/api/v1/feed/messages/{message_id}/replies",
        "401 ok 404 404 404 404 404 404",
        _json(TEXT),
    ),
    Row(
        "POST",
        "/api/v1/posts",
        "401 ok ok ok 422 422 422 422",
        _json({"text": "Lost cat, grey.", "category": "lost_pet"}),
    ),
    Row("GET", "/api/v1/posts/{post_id}", "401 ok ok ok ok ok ok ok"),
    Row("PUT", "/api/v1/posts/{post_id}/photo", "401 ok 404 404 404 404 404 404", _photo),
    Row("GET", "/api/v1/posts/{post_id}/photo", "401 ok 404 404 404 404 404 404"),
    Row("POST", "/api/v1/posts/{post_id}/comments", "401 ok ok ok ok ok ok ok", _json(TEXT)),
    Row("POST", "/api/v1/posts/{post_id}/helpful", "401 ok ok ok ok ok ok ok", _json(TOGGLE)),
    Row("POST", "/api/v1/posts/{post_id}/follow", "401 ok ok ok ok ok ok ok", _json(TOGGLE)),
    Row("POST", "/api/v1/posts/{post_id}/reports", "401 422 ok ok ok ok ok ok", _json(REASON)),
    Row(
        "POST",
        "/api/v1/posts/{post_id}/comments/{comment_id}/reports",
        "401 ok 422 ok ok ok ok ok",
        _json(REASON),
    ),
    Row("POST", "/api/v1/posts/{post_id}/appeal", "401 409 404 404 404 404 404 404", _json(TEXT)),
    Row(
        "POST",
        "/api/v1/posts/{post_id}/decisions",
        "401 403 403 403 403 403 ok ok",
        _json({"decision": "keep", "reason": "fine"}),
    ),
    Row(
        "POST",
        "/api/v1/posts/{post_id}/comments/{comment_id}/decisions",
        "401 403 403 403 403 403 ok ok",
        _json({"decision": "keep", "reason": "fine"}),
    ),
    Row("POST", "/api/v1/posts/{post_id}/messages", "401 422 ok ok ok ok ok ok", _json(TEXT)),
    Row("POST", "/api/v1/tips", "401 ok ok ok ok ok ok ok", _tip),
    Row("GET", "/api/v1/alerts", "401 ok ok ok 422 422 422 422"),
    Row(
        "POST",
        "/api/v1/alerts",
        "401 403 403 403 422 422 403 403",
        _json({"agency_name": "PPB", "text": "Road closed.", "cells": []}),
    ),
    Row(
        "POST",
        "/api/v1/agencies",
        "401 ok ok ok 409 409 403 403",
        lambda _w, r: {
            "json": {
                "name": f"Agency {r}",
                "kind": "fire",
                "jurisdiction": json.loads(JURISDICTION_TEXT),
                "contact": "a@b.example",
            }
        },
    ),
    Row("GET", "/api/v1/agencies", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/agencies/applications", "401 403 403 403 403 403 ok ok"),
    Row("GET", "/api/v1/agencies/mine", "401 ok ok ok ok ok 404 404"),
    Row("GET", "/api/v1/agencies/{agency_id}", "ok ok ok ok ok ok ok ok"),
    Row(
        "POST",
        "/api/v1/agencies/{agency_id}/verify",
        "401 403 403 403 403 403 ok ok",
        params={"agency_id": "pending_agency_id"},
    ),
    Row(
        "POST",
        "/api/v1/agencies/{agency_id}/reject",
        "401 403 403 403 403 403 409 409",
        params={"agency_id": "pending_agency_id"},
        phase=1,
    ),
    Row("GET", "/api/v1/agencies/{agency_id}/members", "401 403 403 403 404 ok 403 403"),
    Row(
        "POST",
        "/api/v1/agencies/{agency_id}/members",
        "401 403 403 403 404 403 403 403",
        _json({"email": "other@example.org"}),
        phase=1,
    ),
    Row("GET", "/api/v1/agencies/{agency_id}/invitations", "401 403 403 403 404 403 403 403"),
    Row(
        "DELETE",
        "/api/v1/agencies/{agency_id}/invitations/{invitation_id}",
        "401 403 403 403 404 403 403 403",
    ),
    Row("GET", "/api/v1/agencies/{agency_id}/camera-map", "401 403 403 403 404 ok 403 403"),
    Row("POST", "/api/v1/requests", "401 403 403 403 ok ok 403 403", _rfa),
    Row("GET", "/api/v1/requests", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/requests/{rfa_id}", "ok ok ok ok ok ok ok ok"),
    Row("POST", "/api/v1/requests/{rfa_id}/close", "401 403 403 403 404 ok 403 403", phase=1),
    Row("GET", "/api/v1/inbox", "401 ok ok ok ok ok ok ok"),
    # Anyone may ask, signed in or not; the link and the totals are counts only.
    Row("POST", "/api/v1/bystander-requests", ALL, _bystander),
    Row("GET", "/api/v1/bystander-requests/status/{bystander_token}", ALL),
    Row("GET", "/api/v1/bystander-requests/totals", ALL),
    Row("GET", "/api/v1/bystander-inbox", "401 ok ok ok ok ok ok ok"),
    Row(
        "GET",
        "/api/v1/bystander-inbox/{bystander_id}",
        "401 ok 404 404 404 404 404 404",
    ),
    Row(
        "POST",
        "/api/v1/bystander-inbox/{bystander_id}/answer",
        "401 409 404 404 404 404 404 404",
        _json({}),
    ),
    Row("GET", "/api/v1/inbox/{rfa_id}", "401 ok 404 404 404 404 404 404"),
    Row("GET", "/api/v1/inbox/{rfa_id}/clips/{clip_id}/preview", "401 ok 404 404 404 404 404 404"),
    Row("POST", "/api/v1/inbox/{rfa_id}/answer", "401 409 404 404 404 404 404 404", _share),
    Row("GET", "/api/v1/disclosures", "401 ok ok ok ok ok ok ok"),
    Row(
        "POST",
        "/api/v1/inbox/{rfa_id}/standing",
        "401 ok 404 404 404 404 404 404",
        lambda world, _role: {"json": {"camera_id": world.ids["camera_id"], "days": 1}},
    ),
    Row("GET", "/api/v1/inbox/{rfa_id}/standing", "401 ok 404 404 404 404 404 404"),
    Row("POST", "/api/v1/standing/{grant_id}/revoke", "401 ok 404 404 404 404 404 404"),
    # Phase 1 deleted the shared clip first, which withdrew the share (I6): nothing left to revoke.
    Row("POST", "/api/v1/shares/{share_id}/revoke", "401 409 404 404 404 404 404 404", phase=1),
    Row("GET", "/api/v1/evidence", "401 403 403 403 ok ok 403 403"),
    Row("GET", "/api/v1/evidence/{share_id}/video", "401 403 403 403 404 ok 403 403"),
    Row("POST", "/api/v1/evidence/{share_id}/download", "401 403 403 403 404 ok 403 403"),
    Row("GET", "/api/v1/evidence/hash/{sha256}", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/evidence/disclosure-hash/{sha256}", "404 404 404 404 404 404 404 404"),
    Row("GET", "/api/v1/evidence/provenance-ca", "ok ok ok ok ok ok ok ok"),
    Row("POST", "/api/v1/legal/demands", "401 403 403 403 403 403 ok ok", _demand),
    Row("GET", "/api/v1/legal/demands", "401 403 403 403 403 403 ok ok"),
    Row("GET", "/api/v1/legal/demands/{demand_id}", "401 403 403 403 403 403 ok ok"),
    Row(
        "POST",
        "/api/v1/legal/demands/{demand_id}/non-disclosure-order",
        "401 403 403 403 403 403 422 422",
        _json({"ends_at": None}),
    ),
    Row(
        "POST",
        "/api/v1/legal/demands/{demand_id}/disclose",
        "401 403 403 403 403 403 ok ok",
        _disclose,
    ),
    Row(
        "POST",
        "/api/v1/legal/demands/{demand_id}/disclose-account",
        "401 403 403 403 403 403 ok ok",
    ),
    Row(
        "POST",
        "/api/v1/legal/demands/{demand_id}/close",
        "401 403 403 403 403 403 422 422",
        _json({"outcome": "complied"}),
        phase=1,
    ),
    Row("POST", "/api/v1/emergencies", "401 403 403 403 ok ok 403 403", _emergency),
    Row("GET", "/api/v1/emergencies", "401 403 403 403 ok ok ok ok"),
    Row("GET", "/api/v1/emergencies/{request_id}", "401 403 403 403 404 ok ok ok"),
    Row("POST", "/api/v1/emergencies/{request_id}/approve", "401 403 403 403 403 403 ok ok"),
    Row(
        "POST",
        "/api/v1/emergencies/{request_id}/refuse",
        "401 403 403 403 403 403 ok ok",
        _json({"reason": "not an emergency"}),
        phase=1,
    ),
    Row(
        "POST",
        "/api/v1/emergencies/{request_id}/disclose",
        "401 403 403 403 403 403 422 422",
        _disclose,
    ),
    Row(
        "POST", "/api/v1/emergencies/{request_id}/over", "401 403 403 403 404 409 409 409", phase=1
    ),
    Row("GET", "/api/v1/evidence/disclosures", "401 403 403 403 ok ok 403 403"),
    Row(
        "GET",
        "/api/v1/evidence/disclosures/{disclosure_id}/video",
        "401 403 403 403 404 ok 403 403",
    ),
    Row(
        "POST",
        "/api/v1/evidence/disclosures/{disclosure_id}/download",
        "401 403 403 403 404 ok 403 403",
    ),
    Row("GET", "/api/v1/me/disclosures/legal", "401 ok ok ok ok ok ok ok"),
    Row(
        "POST",
        "/api/v1/partnerships",
        "401 403 403 403 ok 403 403 403",
        _json(
            {"name": "Doorbells for all", "kind": "donated_devices", "terms_text": "No strings."}
        ),
    ),
    Row("GET", "/api/v1/agencies/{agency_id}/partnerships", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/transparency", "ok ok ok ok ok ok ok ok"),
    # Street data, no user data: no sign-in. Address search is open too (sign-up uses it), but
    # a signed-out browser needs the double-submit cookie, which the matrix's clients lack.
    Row("GET", "/maps/base.pmtiles", ALL),
    Row("POST", "/api/v1/places", "403 ok ok ok ok ok ok ok", _json({"query": "test st"})),
    Row("GET", "/api/v1/transparency.csv", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/audit/heads", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/review", "login 403 403 403 403 403 ok ok"),
    Row("POST", "/review/demands", "login 403 403 403 403 403 ok ok", _demand_form),
    Row("POST", "/review/demands/{demand_id}/disclose", "login 403 403 403 403 403 ok ok"),
    Row("POST", "/review/demands/{demand_id}/account", "login 403 403 403 403 403 ok ok"),
    Row("POST", "/review/demands/{demand_id}/order", "login 403 403 403 403 403 422 422"),
    Row(
        "POST",
        "/review/demands/{demand_id}/close",
        "login 403 403 403 403 403 422 422",
        _form({"outcome": "complied"}),
        phase=1,
    ),
    Row("POST", "/review/emergencies/{request_id}/approve", "login 403 403 403 403 403 409 409"),
    Row(
        "POST",
        "/review/emergencies/{request_id}/refuse",
        "login 403 403 403 403 403 409 409",
        _form({"reason": "no"}),
        phase=1,
    ),
    Row("GET", "/agency/legal", "login 403 403 403 ok ok 403 403"),
    Row("POST", "/agency/emergencies", "login 403 403 403 ok ok 403 403", _emergency_form),
    Row(
        "POST",
        "/agency/emergencies/{request_id}/over",
        "login 403 403 403 404 409 409 409",
        phase=1,
    ),
    Row(
        "POST",
        "/agency/partnerships",
        "login 403 403 403 ok 403 403 403",
        _form({"name": "Doorbells", "kind": "donated_devices", "terms_text": "None."}),
    ),
    Row("GET", "/agencies/{agency_id}/partnerships", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/disclosures/legal", "login ok ok ok ok ok ok ok"),
    Row("GET", "/transparency", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/audit", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/checkpoint", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/feed", "login ok ok ok ok ok ok ok"),
    Row("GET", "/feed/map", "login ok ok ok ok ok ok ok"),
    Row("GET", "/guidelines", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/posts/new", "login ok ok ok ok ok ok ok"),
    Row(
        "POST",
        "/posts/new",
        "login ok ok ok 422 422 422 422",
        _form({"text": "Found a dog.", "category": "found_pet"}),
    ),
    Row("GET", "/posts/{post_id}", "login ok ok ok ok ok ok ok"),
    Row("POST", "/posts/{post_id}/comment", "login ok ok ok ok ok ok ok", _form(TEXT)),
    Row("POST", "/posts/{post_id}/helpful", "login ok ok ok ok ok ok ok"),
    Row("POST", "/posts/{post_id}/follow", "login ok ok ok ok ok ok ok"),
    Row("POST", "/posts/{post_id}/report", "login 422 409 409 409 409 ok ok", _form(REASON)),
    Row(
        "POST",
        "/posts/{post_id}/comments/{comment_id}/report",
        "login 409 422 409 409 409 ok ok",
        _form(REASON),
    ),
    Row("POST", "/posts/{post_id}/appeal", "login 409 404 404 404 404 404 404", _form(TEXT)),
    Row("POST", "/posts/{post_id}/message", "login 422 ok ok ok ok ok ok", _form(TEXT)),
    Row("GET", "/moderation", "login 403 403 403 403 403 ok ok"),
    Row(
        "POST",
        "/moderation/posts/{post_id}",
        "login 403 403 403 403 403 ok ok",
        _form({"decision": "keep", "reason": "fine"}),
    ),
    Row(
        "POST",
        "/moderation/posts/{post_id}/comments/{comment_id}",
        "login 403 403 403 403 403 ok ok",
        _form({"decision": "keep", "reason": "fine"}),
    ),
    Row("GET", "/messages", "login ok ok ok ok ok ok ok"),
    Row("POST", "/messages/{message_id}/reply", "login ok 404 404 404 404 404 404", _form(TEXT)),
    Row("GET", "/feed/tips", "login ok ok ok ok ok ok ok"),
    Row("POST", "/feed/tips", "login ok ok ok ok ok ok ok", _tip_form),
    Row("GET", "/cameras", "login ok ok ok ok ok ok ok"),
    Row("POST", "/cameras", "login ok ok ok ok ok ok ok", _form({"name": "Garage"})),
    Row("GET", "/cameras/{camera_id}", "login ok 404 404 404 404 404 404"),
    # A household member sees the camera's clips, so the camera is no secret to them: 403 until
    # the owner lets them see it live.
    Row("GET", "/cameras/{camera_id}/live", "login ok 404 403 404 404 404 404"),
    Row("POST", "/cameras/{camera_id}/pairing-code", "login ok 404 404 404 404 404 404"),
    Row(
        "POST",
        "/cameras/{camera_id}/household/{user_id}/live-view",
        "login ok 404 404 404 404 404 404",
        _form({"live_view": ""}),
    ),
    Row("GET", "/cameras/{camera_id}/settings", "login ok 404 404 404 404 404 404"),
    Row(
        "POST",
        "/cameras/{camera_id}/settings",
        "login ok 404 404 404 404 404 404",
        _form({"name": "Back door"}),
    ),
    Row(
        "POST",
        "/cameras/{camera_id}/delete",
        "login ok 404 404 404 404 404 404",
        phase=2,
        params={"camera_id": "camera2_id"},
    ),
    Row("GET", "/clips", "login ok ok ok ok ok ok ok"),
    Row("GET", "/clips/{clip_id}", "login ok 404 ok 404 404 404 404"),
    Row("POST", "/clips/delete", "login 404 404 403 404 404 404 404", _delete_clips_form, phase=1),
    Row("GET", "/agencies", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/agencies/apply", "login ok ok ok ok ok ok ok"),
    Row("GET", "/agencies/{agency_id}", "ok ok ok ok ok ok ok ok"),
    Row("GET", "/rfa/{rfa_id}", "ok ok ok ok ok ok ok ok"),
    # Lost pets: a notice by "other" near the owner's camera; the owner shared an animal clip.
    # The household member's home is there too and their own camera (added by the camera row
    # above) is in its cells, so they see the notice, and none of the owner's clips.
    # Only residents post notices: agency staff, reviewers and admins ask through a request.
    Row("POST", "/api/v1/pets", "401 ok ok ok 403 403 403 403", _pet),
    Row("GET", "/api/v1/pets", "401 ok ok ok ok ok ok ok"),
    Row("GET", "/api/v1/pets/{notice_id}", "401 ok ok ok 404 404 404 404"),
    Row("GET", "/api/v1/pets/{notice_id}/photo", "401 ok ok ok 404 404 404 404"),
    Row("PUT", "/api/v1/pets/{notice_id}/photo", "401 404 ok 404 404 404 404 404", _photo),
    Row("POST", "/api/v1/pets/{notice_id}/shares", "401 409 422 404 404 404 404 404", _pet_clip),
    Row(
        "GET",
        "/api/v1/pets/{notice_id}/shares/{share_id}/video",
        "401 404 ok 404 404 404 404 404",
        params=PET_SHARE,
    ),
    Row(
        "DELETE",
        "/api/v1/pets/{notice_id}/shares/{share_id}",
        "401 ok 404 404 404 404 404 404",
        params=PET_SHARE,
        # Before the owner's camera is deleted (phase 2), which shreds the copy with its clip.
        phase=1,
    ),
    Row("POST", "/api/v1/pets/{notice_id}/close", "401 404 ok 404 404 404 404 404", phase=4),
    Row("GET", "/pets", "login ok ok ok ok ok ok ok"),
    Row("POST", "/pets", "login ok ok ok 403 403 403 403", _pet_form),
    Row("GET", "/pets/{notice_id}", "login ok ok ok 404 404 404 404"),
    Row("POST", "/pets/{notice_id}/shares", "login 409 422 404 404 404 404 404", _pet_clip_form),
    Row(
        "POST",
        "/pets/{notice_id}/shares/{share_id}/withdraw",
        "login 409 404 404 404 404 404 404",
        params=PET_SHARE,
        phase=3,
    ),
    Row("POST", "/pets/{notice_id}/close", "login 404 409 404 404 404 404 404", phase=4),
    Row(
        "POST",
        "/agencies/apply",
        "login 409 409 409 409 409 403 403",
        lambda _w, r: {
            "data": {
                "name": f"Form agency {r}",
                "kind": "fire",
                "contact": "c@d.example",
                "jurisdiction": JURISDICTION_TEXT,
            }
        },
    ),
    Row("GET", "/admin/agencies", "login 403 403 403 403 403 ok ok"),
    Row(
        "POST",
        "/admin/agencies/{agency_id}/{decision}",
        "login 403 403 403 403 403 409 409",
        params={"agency_id": "pending_agency_id"},
    ),
    Row("GET", "/agency", "login 403 403 403 ok ok 403 403"),
    Row("POST", "/agency/requests", "login 403 403 403 ok ok 403 403", _rfa_form),
    Row("POST", "/agency/requests/{rfa_id}/close", "login 403 403 403 404 409 403 403", phase=1),
    Row(
        "POST",
        "/agency/members",
        "login 403 403 403 ok 403 403 403",
        _form({"email": "other@example.org"}),
        phase=1,
    ),
    Row("GET", "/agency/evidence", "login 403 403 403 ok ok 403 403"),
    Row("GET", "/requests", "login ok ok ok ok ok ok ok"),
    Row("GET", "/requests/{rfa_id}", "login ok 404 404 404 404 404 404"),
    Row("POST", "/requests/{rfa_id}/answer", "login 409 404 404 404 404 404 404", _share_form),
    Row("GET", "/disclosures", "login ok ok ok ok ok ok ok"),
    Row("GET", "/bystanders", ALL),
    # Signed out, the matrix's client sends no double-submit cookie: refused like /forgot.
    Row("POST", "/bystanders", "403 ok ok ok ok ok ok ok", _bystander_form),
    Row("GET", "/bystanders/status/{bystander_token}", ALL),
    Row("GET", "/bystander-requests", "login ok ok ok ok ok ok ok"),
    Row("GET", "/bystander-requests/{bystander_id}", "login ok 404 404 404 404 404 404"),
    Row(
        "POST",
        "/bystander-requests/{bystander_id}/answer",
        "login 409 404 404 404 404 404 404",
    ),
    Row("GET", "/request-policy", ALL),
    Row("GET", "/invitations", "login ok ok ok ok ok ok ok"),
    Row(
        "POST",
        "/invitations/{invitation_id}/accept",
        "login 404 ok 404 404 404 404 404",
        _form_code,
        params={"invitation_id": "form_invitation_id"},
        phase=4,
    ),
    Row(
        "POST",
        "/invitations/{invitation_id}/decline",
        "login 404 ok 404 404 404 404 404",
        params={"invitation_id": "form_decline_invitation_id"},
        phase=1,
    ),
    Row("POST", "/disclosures/{share_id}/revoke", "login 409 404 404 404 404 404 404", phase=1),
    Row("GET", "/", ALL),
    Row("GET", "/manifest.webmanifest", ALL),
    Row("GET", "/sw.js", ALL),
    Row("GET", "/offline", ALL),
    Row("GET", "/signup", ALL),
    Row("POST", "/signup", "403 403 403 403 403 403 403 403", _sign_up_form, keep_cookies=True),
    Row("GET", "/login", ALL),
    Row(
        "POST",
        "/login",
        "403 403 403 403 403 403 403 403",
        _form({"email": "login@example.org", "password": PASSWORD}),
        keep_cookies=True,
    ),
    Row("GET", "/forgot", ALL),
    # Signed-out forms: the matrix's clients send no double-submit cookie, so all are refused.
    Row(
        "POST",
        "/forgot",
        "403 403 403 403 403 403 403 403",
        _form({"email": "login@example.org"}),
        keep_cookies=True,
    ),
    Row("GET", "/reset/{secret}", NONE, params={"secret": "owner_id"}),
    Row(
        "POST",
        "/reset/{secret}",
        "403 403 403 403 403 403 403 403",
        _form({"new_password": PASSWORD}),
        params={"secret": "owner_id"},
        keep_cookies=True,
    ),
    Row("GET", "/verify/{secret}", NONE, params={"secret": "owner_id"}),
    # Signed in, the session's token passes and the unknown link is not found; signed out, the
    # matrix sends no double-submit cookie.
    Row(
        "POST",
        "/verify/{secret}",
        "403 404 404 404 404 404 404 404",
        _form({}),
        params={"secret": "owner_id"},
        keep_cookies=True,
    ),
    Row("POST", "/account/email/verify", "login ok ok ok ok ok ok ok"),
    # Apprise targets are off in these settings: refused for everyone signed in.
    Row(
        "POST",
        "/account/targets",
        "login 403 403 403 403 403 403 403",
        _form({"url": "json://127.0.0.1:9/hook"}),
    ),
    Row(
        "POST",
        "/account/targets/{target_id}/remove",
        "login 404 404 404 404 404 404 404",
        params={"target_id": "owner_id"},
    ),
    Row("POST", "/logout", "ok ok ok ok ok ok ok ok", phase=6),
    Row("GET", "/account", "login ok ok ok ok ok ok ok"),
    Row(
        "POST", "/account/profile", "login ok ok ok ok ok ok ok", _form({"display_name": "Renamed"})
    ),
    Row(
        "POST",
        "/account/password",
        "login ok ok ok ok ok ok ok",
        _form({"current_password": PASSWORD + "x", "new_password": PASSWORD}),
        phase=3,
    ),
    Row(
        "POST",
        "/account/tokens",
        "login ok ok ok ok ok ok ok",
        _form({"name": "t", "scopes": ["account:read"]}),
    ),
    Row("POST", "/account/tokens/{token_id}/revoke", "login ok 404 404 404 404 404 404", phase=1),
    Row(
        "POST",
        "/account/delete",
        "login 422 422 422 422 422 422 422",
        _form({"password": "not-the-password"}),
        phase=4,
    ),
]


def _outcome(response: Any) -> str:
    if response.status_code == 303 and response.headers["location"].startswith("/login"):
        return "login"
    if response.status_code < 400:
        return "ok"
    return str(response.status_code)


def _url(world: World, row: Row) -> str:
    values = {name: world.ids[source] for name, source in row.params.items()}
    return row.path.format_map({**world.ids, **values})


def _stream_status(world: World, role: str, url: str) -> int:
    """The status a streaming route answers with; the stream is then abandoned."""
    client = world.clients[role]
    headers = [(b"host", b"testserver")]
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    path, _, query = url.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    started: list[int] = []
    asked: list[bool] = []

    async def call() -> None:
        async def receive() -> dict[str, Any]:
            if not asked:
                asked.append(True)
                return {"type": "http.request", "body": b"", "more_body": False}
            await anyio.sleep_forever()
            return {"type": "http.disconnect"}

        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:

                async def send(message: MutableMapping[str, Any]) -> None:
                    if message["type"] == "http.response.start":
                        started.append(int(message["status"]))
                        group.cancel_scope.cancel()

                async def run_app() -> None:
                    await client.app(scope, receive, send)

                group.start_soon(run_app)

    anyio.run(call)
    return started[0]


def run_row(world: World, role: str, row: Row) -> str:
    """Send the row's request as ``role`` and name the outcome as the table does."""
    client = world.clients[role]
    if row.stream:
        status = _stream_status(world, role, _url(world, row))
        return "ok" if status < 400 else str(status)
    saved = list(client.cookies.jar)
    kwargs = row.body(world, role)
    response = world.send(role, row.method, _url(world, row), follow_redirects=False, **kwargs)
    if "doorstep_session" in response.cookies and role in world.csrf and not row.keep_cookies:
        # A new session (after a password change) has a new CSRF token; read it like a page does.
        page = client.get("/account").text
        world.csrf[role] = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    if row.keep_cookies:
        client.cookies.clear()
        for cookie in saved:
            client.cookies.jar.set_cookie(cookie)
    return _outcome(response)


def _route_keys(app: FastAPI) -> set[tuple[str, str]]:
    keys = set()
    for route in iter_route_contexts(app.routes):
        for method in (route.methods or set()) - {"HEAD"}:
            keys.add((method, str(route.path_format)))
    return keys


def test_the_table_lists_every_route_once(app: FastAPI) -> None:
    """A route added without a row here fails, so nobody ships an endpoint unreviewed."""
    rows = [(row.method, row.path.partition("?")[0]) for row in TABLE]
    assert len(rows) == len(set(rows))
    assert set(rows) == _route_keys(app)
    assert all(len(row.expect.split()) == len(ROLES) for row in TABLE)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_table_says(world: World, role: str) -> None:
    """Send every route as one role; an allow where a deny is expected (or any drift) fails."""
    column = ROLES.index(role)
    mismatches = [
        f"{row.method} {row.path}: expected {expected}, got {actual}"
        for row in sorted(TABLE, key=lambda row: row.phase)
        for expected in [row.expect.split()[column]]
        for actual in [run_row(world, role, row)]
        if actual != expected
    ]
    assert mismatches == []
