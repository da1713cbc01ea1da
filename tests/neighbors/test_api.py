"""Neighbors API: the feed around home, posting rules, photos, moderation, relay, tips, alerts.

Includes the location test of invariant I1: no feed, post, map or alert response (JSON or HTML)
carries a position finer than a public cell, and never the author's home numbers.
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any

import cv2
import h3
import numpy as np
import pytest
import shapely
import shapely.geometry
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.agencies.models import Agency, AgencyMember, AgencyStatus
from doorstep.geo.cells import FINEST_PUBLIC_RESOLUTION, Coordinates, public_cell
from doorstep.media.image import decode_image_size
from doorstep.neighbors import rules as feed
from doorstep.neighbors.models import Post, RelayMessage, Tip
from doorstep.platform.http.state import AppState
from tests.factories import PASSWORD, log_in, resident

ADA_HOME = {"lat": 45.523612, "lon": -122.677144}
BOB_HOME = {"lat": 45.526431, "lon": -122.681937}
FAR_HOME = {"lat": 45.560123, "lon": -122.640123}
INCIDENT = {"lat": 45.524871, "lon": -122.672233}
GPS_MARKER = b"DOORSTEP-GPS-45.523612"


def _state(app: FastAPI) -> AppState:
    state: AppState = app.state.doorstep
    return state


def _count(app: FastAPI, model: type[object]) -> int:
    with _state(app).db.session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _neighbour(app: FastAPI, email: str, home: dict[str, float]) -> tuple[TestClient, str]:
    """Another logged-in resident with their own cookie jar."""
    other = TestClient(app)
    return other, resident(other, email, display_name=email.split("@")[0].title(), home=home)


def _district_outline(home_cell: str) -> dict[str, Any]:
    """The resolution-7 cell around ``home_cell``, its children included, as GeoJSON."""
    district = h3.cell_to_parent(home_cell, 7)
    cells = [
        shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)])
        for c in h3.cell_to_children(district, 8)
    ]
    outline = shapely.unary_union(cells).buffer(0.001)
    # Through JSON, as a stored jurisdiction is: lists, not tuples.
    geojson: dict[str, Any] = json.loads(json.dumps(shapely.geometry.mapping(outline)))
    return geojson


def _staff(
    app: FastAPI, email: str, role: Role, agency: str | None = None
) -> tuple[TestClient, str]:
    """A reviewer or agency account, made the way an admin would, then logged in."""
    with _state(app).db.session() as db:
        user = create_user(
            db,
            email=email,
            password=PASSWORD,
            display_name="Staff",
            home=Coordinates(**ADA_HOME),
            cell_resolution=_state(app).settings.public_cell_resolution,
            role=role,
        )
        if agency is not None:
            # A verified agency whose jurisdiction is the district around Ada's home (the
            # resolution-7 cell, with its resolution-8 cells and a margin), far from FAR_HOME.
            home = public_cell(Coordinates(**ADA_HOME), 8)
            row = Agency(
                name=agency,
                kind="fire",
                jurisdiction=_district_outline(home),
                cells=sorted(h3.grid_disk(home, 2)),
                contact="desk@agency.example",
                status=AgencyStatus.VERIFIED.value,
            )
            db.add(row)
            db.flush()
            db.add(AgencyMember(user_id=user.id, agency_id=row.id, role="admin"))
    other = TestClient(app)
    return other, log_in(other, email)


def _post(
    client: TestClient, csrf: str, text: str = "Parcel taken from my porch at noon", **extra: Any
) -> Any:
    body = {"text": text, "category": "crime", **extra}
    return client.post("/api/v1/posts", json=body, headers={"x-csrf-token": csrf})


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def _jpeg_with_gps_exif() -> bytes:
    """A real JPEG carrying an EXIF block with a position-like marker, as phones write them."""
    image = np.full((40, 60, 3), 120, dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    data = encoded.tobytes()
    tiff = b"II*\x00\x08\x00\x00\x00" + b"\x00\x00" + b"\x00\x00\x00\x00" + GPS_MARKER
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + app1 + data[2:]


def test_reading_the_feed_needs_an_account(client: TestClient) -> None:
    _problem(client.get("/api/v1/feed"), 401)


def test_neighbours_within_the_radius_see_a_post_and_far_ones_do_not(
    app: FastAPI, client: TestClient
) -> None:
    csrf = resident(client, home=ADA_HOME)
    created = _post(client, csrf, location=INCIDENT, contact_opt_in=True)
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["location"]["cell"] == public_cell(Coordinates(**INCIDENT), 8)
    assert post["author"] == "You"

    bob, _ = _neighbour(app, "bob@example.org", BOB_HOME)
    seen = bob.get("/api/v1/feed").json()
    assert [p["id"] for p in seen["posts"]] == [post["id"]]
    assert seen["posts"][0]["author"] == "Neighbor"
    # Neither her email nor her name anywhere (ids and cells are hex, so no bare substring test).
    dumped = json.dumps(seen).lower()
    assert "ada@example.org" not in dumped
    assert '"ada"' not in dumped

    far, _ = _neighbour(app, "far@example.org", FAR_HOME)
    assert far.get("/api/v1/feed").json()["posts"] == []
    assert [p["id"] for p in far.get("/api/v1/feed?radius=5").json()["posts"]] == [post["id"]]


@pytest.mark.parametrize("radius", ["0.4", "5.5", "-1", "nan", "far"])
def test_a_radius_outside_half_a_mile_to_five_miles_is_refused(
    client: TestClient, radius: str
) -> None:
    resident(client, home=ADA_HOME)
    _problem(client.get(f"/api/v1/feed?radius={radius}"), 422)


def test_the_category_filter_and_cursor_pages(client: TestClient) -> None:
    csrf = resident(client, home=ADA_HOME)
    for i in range(3):
        _post(client, csrf, text=f"Lost grey cat number {i}", category="lost_pet")
    _post(client, csrf, text="The bakery gave out free bread", category="neighborly_moment")
    first = client.get("/api/v1/feed?category=lost_pet&limit=2").json()
    assert [p["text"] for p in first["posts"]] == [
        "Lost grey cat number 2",
        "Lost grey cat number 1",
    ]
    rest = client.get(f"/api/v1/feed?category=lost_pet&limit=2&cursor={first['next_cursor']}")
    assert [p["text"] for p in rest.json()["posts"]] == ["Lost grey cat number 0"]
    _problem(client.get("/api/v1/feed?category=gossip"), 422)
    _problem(client.get("/api/v1/feed?cursor=%%%"), 422)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("   ", None),
        ("x" * 2001, None),
        ("Suspicious black man in the neighborhood", "race_only"),
    ],
)
def test_empty_huge_and_race_only_posts_are_refused_and_nothing_is_stored(
    app: FastAPI, client: TestClient, text: str, reason: str | None
) -> None:
    csrf = resident(client, home=ADA_HOME)
    problem = _problem(_post(client, csrf, text=text), 422)
    assert problem["field"] == "text"
    assert problem.get("reason") == reason
    assert _count(app, Post) == 0


def test_posting_without_a_home_or_place_is_refused(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client)
    _problem(_post(client, csrf), 422)
    assert _count(app, Post) == 0


def test_the_eleventh_post_in_an_hour_gets_429_with_retry_after(
    app: FastAPI, client: TestClient
) -> None:
    csrf = resident(client, home=ADA_HOME)
    for i in range(feed.POSTS_PER_HOUR):
        assert _post(client, csrf, text=f"Streetlight {i} is out").status_code == 201
    refused = _post(client, csrf, text="Streetlight 11 is out")
    _problem(refused, 429)
    assert int(refused.headers["retry-after"]) > 0
    assert _count(app, Post) == feed.POSTS_PER_HOUR


def test_someone_elses_clip_cannot_be_attached(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client, home=ADA_HOME)
    _problem(_post(client, csrf, clip_id="0" * 32), 404)
    assert _count(app, Post) == 0


def test_a_photo_is_decoded_and_its_metadata_removed(client: TestClient) -> None:
    csrf = resident(client, home=ADA_HOME)
    post = _post(client, csrf, text="Found this tabby on the step", category="found_pet").json()
    headers = {"x-csrf-token": csrf, "content-type": "image/jpeg"}
    uploaded = client.put(
        f"/api/v1/posts/{post['id']}/photo", content=_jpeg_with_gps_exif(), headers=headers
    )
    assert uploaded.status_code == 200, uploaded.text
    photo = client.get(uploaded.json()["photo_url"])
    assert photo.headers["content-type"] == "image/jpeg"
    assert GPS_MARKER not in photo.content
    assert b"Exif" not in photo.content
    assert decode_image_size(photo.content) == (60, 40)


@pytest.mark.parametrize(
    "body",
    [b"", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"\xff\xd8\xff\xe0 truncated jpeg"],
)
def test_files_that_are_not_images_are_refused(client: TestClient, body: bytes) -> None:
    csrf = resident(client, home=ADA_HOME)
    post = _post(client, csrf).json()
    response = client.put(
        f"/api/v1/posts/{post['id']}/photo", content=body, headers={"x-csrf-token": csrf}
    )
    assert response.status_code in {415, 422}, response.text
    assert client.get(f"/api/v1/posts/{post['id']}").json()["photo_url"] is None


def test_only_the_author_adds_a_photo(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client, home=ADA_HOME)
    post = _post(client, csrf).json()
    bob, bob_csrf = _neighbour(app, "bob@example.org", BOB_HOME)
    response = bob.put(
        f"/api/v1/posts/{post['id']}/photo",
        content=_jpeg_with_gps_exif(),
        headers={"x-csrf-token": bob_csrf},
    )
    _problem(response, 404)


def test_comment_helpful_follow_and_script_text_kept_as_text(
    app: FastAPI, client: TestClient
) -> None:
    csrf = resident(client, home=ADA_HOME)
    post = _post(client, csrf, text="<script>alert(1)</script> gate left open").json()
    bob, bob_csrf = _neighbour(app, "bob@example.org", BOB_HOME)
    headers = {"x-csrf-token": bob_csrf}
    url = f"/api/v1/posts/{post['id']}"
    comment = bob.post(f"{url}/comments", json={"text": "Closed it for you"}, headers=headers)
    assert comment.status_code == 201
    assert comment.json()["author"] == "You"
    bob.post(f"{url}/helpful", json={}, headers=headers)
    detail = bob.post(f"{url}/helpful", json={}, headers=headers).json()
    assert (detail["helpful_count"], detail["helpful_by_me"]) == (1, True)
    assert bob.post(f"{url}/follow", json={}, headers=headers).json()["following"] is True
    # The feed shows each reader their own marks only.
    [in_bobs_feed] = [p for p in bob.get("/api/v1/feed").json()["posts"] if p["id"] == post["id"]]
    assert (in_bobs_feed["helpful_by_me"], in_bobs_feed["following"]) == (True, True)
    [in_adas_feed] = [
        p for p in client.get("/api/v1/feed").json()["posts"] if p["id"] == post["id"]
    ]
    assert (in_adas_feed["helpful_by_me"], in_adas_feed["following"]) == (False, False)
    assert in_adas_feed["helpful_count"] == 1
    seen_by_ada = client.get(url).json()
    assert seen_by_ada["text"].startswith("<script>")
    assert [c["author"] for c in seen_by_ada["comments"]] == ["Neighbor"]
    _problem(bob.post(f"{url}/comments", json={"text": ""}, headers=headers), 422)


def test_report_moderate_show_reason_and_appeal_once(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client, home=ADA_HOME)
    post = _post(client, csrf, text="The people at number 12 are always up to no good").json()
    url = f"/api/v1/posts/{post['id']}"
    bob, bob_csrf = _neighbour(app, "bob@example.org", BOB_HOME)
    reported = bob.post(
        f"{url}/reports", json={"reason": "Names a house"}, headers={"x-csrf-token": bob_csrf}
    )
    assert reported.status_code == 201
    _problem(bob.get("/api/v1/feed/moderation"), 403)

    rita, rita_csrf = _staff(app, "rita@example.org", Role.REVIEWER)
    queue = rita.get("/api/v1/feed/moderation").json()
    assert [item["post"]["id"] for item in queue] == [post["id"]]
    assert queue[0]["reports"][0]["reason"] == "Names a house"
    decided = rita.post(
        f"{url}/decisions",
        json={"decision": "remove", "reason": "Points at one household."},
        headers={"x-csrf-token": rita_csrf},
    )
    assert decided.status_code == 201, decided.text

    _problem(bob.get(url), 404)
    mine = client.get(url).json()
    assert (mine["status"], mine["removal_reason"], mine["can_appeal"]) == (
        "removed",
        "Points at one household.",
        True,
    )
    appeal = {"text": "I meant the broken fence there."}
    appealed = client.post(f"{url}/appeal", json=appeal, headers={"x-csrf-token": csrf})
    assert appealed.json()["appeal_status"] == "pending"
    _problem(client.post(f"{url}/appeal", json=appeal, headers={"x-csrf-token": csrf}), 409)
    assert rita.get("/api/v1/feed/moderation").json()[0]["appeal"]["text"] == appeal["text"]


def test_relay_messages_never_show_an_email(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client, home=ADA_HOME)
    post = _post(client, csrf, text="Found a beagle", category="found_pet", contact_opt_in=True)
    bob, bob_csrf = _neighbour(app, "bob@example.org", BOB_HOME)
    sent = bob.post(
        f"/api/v1/posts/{post.json()['id']}/messages",
        json={"text": "It might be mine!"},
        headers={"x-csrf-token": bob_csrf},
    )
    assert sent.status_code == 201
    inbox = client.get("/api/v1/feed/messages").json()
    assert [m["text"] for m in inbox] == ["It might be mine!"]
    replied = client.post(
        f"/api/v1/feed/messages/{inbox[0]['id']}/replies",
        json={"text": "Come by the park at 5"},
        headers={"x-csrf-token": csrf},
    )
    assert replied.status_code == 201
    bobs = bob.get("/api/v1/feed/messages")
    assert [m["text"] for m in bobs.json()] == ["Come by the park at 5", "It might be mine!"]
    assert "@" not in bobs.text
    assert "@" not in client.get("/api/v1/feed/messages").text
    assert _count(app, RelayMessage) == 2


def test_tips_are_anonymous_unless_revealed(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client, home=ADA_HOME)
    tip = {"agency_id": "portland-pd", "text": "Cars race on Elm St at night"}
    sent = client.post("/api/v1/tips", json=tip, headers={"x-csrf-token": csrf})
    assert sent.status_code == 201
    assert sent.json()["identity_revealed"] is False
    with _state(app).db.session() as db:
        stored = db.scalars(select(Tip)).one()
        assert (stored.sender_id, stored.sender_name) == (None, None)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "Send footage of the protest march at City Hall"}, 422),
        ({"cells": ["far"]}, 403),
        ({"cells": ["coarse"]}, 422),
        ({"cells": ["not-a-cell"]}, 422),
    ],
)
def test_agency_alerts_follow_the_request_policy(
    app: FastAPI, client: TestClient, body: dict[str, Any], status: int
) -> None:
    resident(client, home=ADA_HOME)
    officer, officer_csrf = _staff(app, "fire@example.org", Role.AGENCY_ADMIN, "Portland Fire")
    named = {
        "far": public_cell(Coordinates(**FAR_HOME), 8),
        "coarse": h3.cell_to_parent(public_cell(Coordinates(**ADA_HOME), 8), 2),
        "not-a-cell": "zzz",
    }
    alert = {"text": "Smoke on Burnside", "cells": [public_cell(Coordinates(**ADA_HOME), 8)]}
    alert.update(body)
    alert["cells"] = [named.get(cell, cell) for cell in alert["cells"]]
    response = officer.post("/api/v1/alerts", json=alert, headers={"x-csrf-token": officer_csrf})
    assert response.status_code == status, response.text
    assert client.get("/api/v1/alerts").json() == []


def test_an_alert_carries_the_verified_agency_name_not_the_one_claimed(
    app: FastAPI, client: TestClient
) -> None:
    resident(client, home=ADA_HOME)
    officer, officer_csrf = _staff(app, "fire@example.org", Role.AGENCY_ADMIN, "Portland Fire")
    alert = {
        "agency_name": "FBI Field Office",
        "text": "Smoke on Burnside",
        "cells": [public_cell(Coordinates(**ADA_HOME), 8)],
    }
    posted = officer.post("/api/v1/alerts", json=alert, headers={"x-csrf-token": officer_csrf})
    assert posted.json()["agency_name"] == "Portland Fire"


def test_agency_alerts_reach_residents_of_their_cells_only(
    app: FastAPI, client: TestClient
) -> None:
    csrf = resident(client, home=ADA_HOME)
    district = h3.cell_to_parent(public_cell(Coordinates(**ADA_HOME), 8), 7)
    alert = {"agency_name": "Portland Fire", "text": "Smoke on Burnside", "cells": [district]}
    _problem(client.post("/api/v1/alerts", json=alert, headers={"x-csrf-token": csrf}), 403)
    officer, officer_csrf = _staff(app, "fire@example.org", Role.AGENCY_ADMIN, "Portland Fire")
    posted = officer.post("/api/v1/alerts", json=alert, headers={"x-csrf-token": officer_csrf})
    assert posted.status_code == 201, posted.text
    assert [a["text"] for a in client.get("/api/v1/alerts").json()] == ["Smoke on Burnside"]
    feed_alerts = client.get("/api/v1/feed?category=agency_alert").json()
    assert [a["agency_name"] for a in feed_alerts["alerts"]] == ["Portland Fire"]
    far, _ = _neighbour(app, "far@example.org", FAR_HOME)
    assert far.get("/api/v1/alerts").json() == []


# --- invariant I1 ------------------------------------------------------------------------------

_PAIR = re.compile(r"(-?\d{1,3}\.\d{3,})\D{1,24}?(-?\d{1,3}\.\d{3,})")


def _is_cell_centre(lat: float, lon: float) -> bool:
    for resolution in range(FINEST_PUBLIC_RESOLUTION + 1):
        centre = h3.cell_to_latlng(h3.latlng_to_cell(lat, lon, resolution))
        if (round(centre[0], 5), round(centre[1], 5)) == (lat, lon):
            return True
    return False


def _is_cell_corner(lat: float, lon: float) -> bool:
    """Whether the pair is a corner of a public cell (street maps outline the cells they draw)."""
    for resolution in range(FINEST_PUBLIC_RESOLUTION + 1):
        cell = h3.latlng_to_cell(lat, lon, resolution)
        for near in h3.grid_disk(cell, 1):
            for corner_lat, corner_lon in h3.cell_to_boundary(near):
                if abs(corner_lat - lat) < 2e-6 and abs(corner_lon - lon) < 2e-6:
                    return True
    return False


def _fine_positions(text: str) -> list[tuple[float, float]]:
    """Every lat/lon-looking pair in ``text`` that is neither a public cell's centre nor corner."""
    pairs = [(float(a), float(b)) for a, b in _PAIR.findall(text)]
    return [
        (lat, lon)
        for lat, lon in pairs
        if abs(lat) <= 90
        and abs(lon) <= 180
        and not _is_cell_centre(lat, lon)
        and not _is_cell_corner(lat, lon)
    ]


def test_the_scanner_catches_an_exact_position() -> None:
    assert _fine_positions('{"lat": 45.523612, "lon": -122.677144}') == [(45.523612, -122.677144)]
    centre = h3.cell_to_latlng(h3.latlng_to_cell(45.523612, -122.677144, 8))
    text = f'{{"lat": {round(centre[0], 5)}, "lon": {round(centre[1], 5)}}}'
    assert _fine_positions(text) == []
    corner = h3.cell_to_boundary(h3.latlng_to_cell(45.523612, -122.677144, 8))[0]
    assert _fine_positions(f"[{round(corner[0], 6)}, {round(corner[1], 6)}]") == []
    off = (round(corner[0] + 0.0004, 6), round(corner[1], 6))
    assert _fine_positions(f"[{off[0]}, {off[1]}]") == [off]


def test_no_feed_post_map_or_alert_response_carries_a_finer_position(
    app: FastAPI, client: TestClient
) -> None:
    csrf = resident(client, home=ADA_HOME)
    post = _post(client, csrf, location=INCIDENT, contact_opt_in=True).json()
    _post(client, csrf, text="Lost dog near the school", category="lost_pet")
    officer, officer_csrf = _staff(app, "police@example.org", Role.AGENCY_MEMBER, "PPB")
    alert_cells = [public_cell(Coordinates(**ADA_HOME), 8)]
    officer.post(
        "/api/v1/alerts",
        json={"agency_name": "PPB", "text": "Road closed", "cells": alert_cells},
        headers={"x-csrf-token": officer_csrf},
    )
    bob, bob_csrf = _neighbour(app, "bob@example.org", BOB_HOME)
    bob.post(
        f"/api/v1/posts/{post['id']}/comments",
        json={"text": "Thanks"},
        headers={"x-csrf-token": bob_csrf},
    )
    paths = [
        "/api/v1/feed",
        "/api/v1/feed?radius=5",
        "/api/v1/feed?category=agency_alert",
        "/api/v1/feed/map?radius=5",
        "/api/v1/alerts",
        f"/api/v1/posts/{post['id']}",
        "/feed",
        "/feed?radius=5",
        "/feed/map",
        "/feed/map?radius=5",
        f"/posts/{post['id']}",
    ]
    rita, _ = _staff(app, "rita@example.org", Role.REVIEWER)
    bob.post(
        f"/api/v1/posts/{post['id']}/reports",
        json={"reason": "check"},
        headers={"x-csrf-token": bob_csrf},
    )
    homes = (*ADA_HOME.values(), *INCIDENT.values())
    exact = [
        re.compile(r"(?<!\d)" + re.escape(text) + r"(?!\d)")
        for value in homes
        for text in (str(value), f"{value:.4f}")
    ]
    responses = [who.get(path) for who in (bob, client, rita) for path in paths]
    responses += [rita.get("/moderation"), rita.get("/api/v1/feed/moderation")]
    assert [r.status_code for r in responses] == [200] * len(responses)
    for response in responses:
        assert _fine_positions(response.text) == [], response.url
        assert [p.pattern for p in exact if p.search(response.text)] == [], response.url
