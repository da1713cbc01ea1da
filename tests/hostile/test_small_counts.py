"""Small counts (I1, I3): no count below k reaches the agency or the public, about any request.

The attack of issue 18, item 4: a 20 m x 3.3 km strip (0.0256 sq mi) drawn through one home,
whose record then read "asked fewer than 5, shared 0": that household declined. Every count a
request shows is now a range, every one below k withheld whole (asked, shared and clips alike),
the camera map keeps cells under k out whatever is asked of it, and a pending emergency does not
say how many end-to-end encrypted clips fall in its window.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.platform.types import utcnow
from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency.counts import CountRange
from tests.agencies.test_api import HOME, owner_with_clip, verified_agency
from tests.cameras.test_api_devices import _camera, _pair
from tests.clips.test_api_e2e import _enable, _sealed_upload
from tests.hostile.conftest import World
from tests.requests.test_api import _answer, post_rfa
from tests.samples import tiny_clip

pytestmark = pytest.mark.usefixtures("client")

K = 5
M_PER_DEG_LAT = 111_195.0
#: Page elements that show a request's or an agency's counts.
COUNT_IDS = ("asked", "shared", "clips-shared", "agency-asked", "agency-shared")


def _strip_through(lat: float, lon: float, width_m: float, length_m: float) -> dict[str, Any]:
    """A north-south strip centred on one position, as a GeoJSON Polygon."""
    half_lat = length_m / 2 / M_PER_DEG_LAT
    half_lon = width_m / 2 / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
    ring = [
        [lon - half_lon, lat - half_lat],
        [lon + half_lon, lat - half_lat],
        [lon + half_lon, lat + half_lat],
        [lon - half_lon, lat + half_lat],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _ranges(document: Any) -> list[CountRange]:
    """Every count range in a JSON document: request counts and agency statistics."""
    found: list[CountRange] = []
    if isinstance(document, list):
        for item in document:
            found.extend(_ranges(item))
    elif isinstance(document, dict):
        k = document.get("k")
        for value in document.values():
            if isinstance(value, dict) and set(value) == {"at_least", "at_most", "label"}:
                assert isinstance(k, int), document
                found.append(CountRange(value["at_least"], value["at_most"], k))
            else:
                found.extend(_ranges(value))
    return found


def _labels(html: str) -> list[str]:
    pattern = r'data-testid="(?:' + "|".join(COUNT_IDS) + r')">([^<]*)<'
    return [text.strip() for text in re.findall(pattern, html)]


def _report_labels(html: str) -> list[str]:
    """The transparency page's counts of residents' answers, overall and per agency."""
    pattern = r'data-testid="(?:owners-shared|clips-shared|agency-clips-shared)">([^<]*)<'
    return [text.strip() for text in re.findall(pattern, html)]


def _numbers_below_k(label: str) -> list[int]:
    """Numbers in a count label that are below k and not the k of "fewer than k"."""
    rest = label.removeprefix(f"fewer than {K}")
    return [n for n in map(int, re.findall(r"\d+", rest.replace(",", ""))) if n < K]


def _read_everything(
    agency: TestClient, public: TestClient, agency_id: str, rfa_id: str
) -> dict[str, tuple[str, str]]:
    """Whatever the agency and the public can read about the request, by name."""
    views: dict[str, tuple[str, str]] = {}
    for who, client in (("agency", agency), ("public", public)):
        for path in (
            f"/api/v1/requests/{rfa_id}",
            "/api/v1/requests",
            "/api/v1/agencies",
            f"/api/v1/agencies/{agency_id}",
            "/api/v1/transparency",
        ):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            views[f"{who} {path}"] = ("json", response.text)
        for path in (f"/rfa/{rfa_id}", "/agencies", f"/agencies/{agency_id}", "/transparency"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            views[f"{who} {path}"] = ("html", response.text)
    for path in ("/agency", "/agency/legal"):
        response = agency.get(path)
        assert response.status_code == 200, (path, response.text)
        views[f"agency {path}"] = ("html", response.text)
    return views


def _assert_nothing_below_k(views: dict[str, tuple[str, str]]) -> None:
    counted = 0
    for name, (kind, body) in views.items():
        if kind == "json":
            document = json.loads(body)
            for shown in _ranges(document):
                counted += 1
                assert disclosure_counts.is_coarse(shown), (name, shown)
            if name.endswith("/api/v1/transparency"):
                for row in document["periods"]:
                    assert not 0 < row["owners_reached"] < K, (name, row)
        elif name.endswith("/transparency"):
            # Half-year totals: owners reached are a sum of requests' lower ends, never below k;
            # what residents answered is a range, as each request shows it.
            for reached in re.findall(r'data-testid="owners-reached">(\d+)', body):
                assert not 0 < int(reached) < K, (name, reached)
            for label in _report_labels(body):
                counted += 1
                assert not _numbers_below_k(label), (name, label)
        else:
            for label in _labels(body):
                counted += 1
                assert not _numbers_below_k(label), (name, label)
    assert counted, "no counts were found to check"


def test_a_strip_through_one_home_tells_nobody_that_it_declined(app: FastAPI) -> None:
    owner, owner_csrf, _clip = owner_with_clip(app, "home@example.org")
    agency, csrf, agency_id = verified_agency(app)
    strip = _strip_through(HOME["lat"], HOME["lon"], 20.0, 3300.0)
    posted = post_rfa(agency, csrf, centre=None, radius_m=None, polygon=strip)
    assert posted.status_code == 201, posted.text
    rfa = posted.json()
    assert 0.025 <= rfa["area_sq_mi"] < 0.03
    public = TestClient(app)
    public.get("/")  # the anonymous CSRF cookie, so pages read the same each time

    before = _read_everything(agency, public, agency_id, rfa["id"])
    _assert_nothing_below_k(before)
    declined = _answer(owner, owner_csrf, rfa["id"], decision="decline")
    assert declined.json()["answer"] == "declined"
    after = _read_everything(agency, public, agency_id, rfa["id"])
    _assert_nothing_below_k(after)
    # Not a byte the agency or the public reads moved when the household said no.
    assert after == before
    counts = public.get(f"/api/v1/requests/{rfa['id']}").json()["counts"]
    withheld = {"at_least": 0, "at_most": K - 1, "label": f"fewer than {K}"}
    assert counts == {"asked": withheld, "shared": withheld, "clips_shared": withheld, "k": K}


def test_one_share_through_the_strip_is_not_counted_either(app: FastAPI) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "home@example.org")
    agency, csrf, agency_id = verified_agency(app)
    strip = _strip_through(HOME["lat"], HOME["lon"], 20.0, 3300.0)
    rfa = post_rfa(agency, csrf, centre=None, radius_m=None, polygon=strip).json()
    shared = _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    assert shared.json()["answer"] == "shared"
    public = TestClient(app)
    _assert_nothing_below_k(_read_everything(agency, public, agency_id, rfa["id"]))
    counts = agency.get(f"/api/v1/requests/{rfa['id']}").json()["counts"]
    assert counts["shared"]["label"] == counts["clips_shared"]["label"] == f"fewer than {K}"


def test_the_camera_map_keeps_small_cells_out_at_any_zoom(app: FastAPI) -> None:
    owner_with_clip(app, "home@example.org")
    agency, _csrf, agency_id = verified_agency(app)
    path = f"/api/v1/agencies/{agency_id}/camera-map"
    plain = agency.get(path)
    assert plain.status_code == 200
    assert plain.json()["cells"] == []
    for query in ("resolution=9", "resolution=15", "zoom=20", "k=1", "k=0&resolution=9&zoom=22"):
        asked = agency.get(f"{path}?{query}")
        assert asked.status_code in (200, 422), (query, asked.text)
        if asked.status_code == 200:
            assert asked.json() == plain.json(), query
    page = agency.get("/agency?resolution=9&zoom=20&k=1")
    assert page.status_code == 200
    assert "data-count=" not in page.text
    assert re.search(r'data-testid="map-cells">0 area', page.text)


def test_a_pending_emergency_does_not_count_sealed_clips(app: FastAPI, tmp_path: Path) -> None:
    owner, owner_csrf, _clip = owner_with_clip(app, "home@example.org")
    sealed = _camera(owner, owner_csrf, name="Sealed porch")
    token = _pair(owner, owner_csrf, sealed["id"])
    key = _enable(owner, owner_csrf, sealed["id"])
    uploaded = _sealed_upload(owner, token, key, tiny_clip(tmp_path / "c.mp4"), tmp_path)
    assert uploaded.status_code == 201, uploaded.text
    agency, csrf, _agency_id = verified_agency(app)
    now = utcnow()
    filed = agency.post(
        "/api/v1/emergencies",
        json={
            "case_number": "PPB-2026-0911",
            "device_ids": [sealed["id"]],
            "window_start": (now - timedelta(hours=1)).isoformat(),
            "window_end": now.isoformat(),
            "attestation": "A child is missing and was last seen at this door; we fear for her.",
        },
        headers={"x-csrf-token": csrf},
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    for body in (
        filed.text,
        agency.get(f"/api/v1/emergencies/{request_id}").text,
        agency.get("/api/v1/emergencies").text,
    ):
        assert not re.search(r"end.to.end|withheld|e2e|sealed", body, re.IGNORECASE), body
    page = agency.get("/agency/legal").text
    assert not re.search(r"\d+\s+end-to-end encrypted clip", page), page


def test_the_transparency_report_does_not_read_off_a_requests_count(app: FastAPI) -> None:
    for i in range(K + 2):
        position = {"lat": HOME["lat"] + 0.0002 * i, "lon": HOME["lon"]}
        owner_with_clip(app, f"home{i}@example.org", position=position)
    agency, csrf, agency_id = verified_agency(app)
    rfa = post_rfa(agency, csrf).json()
    assert rfa["counts"]["asked"]["label"] == f"{K}–{2 * K - 1}"
    # With one request in the half-year the report's sum would be its exact count (K + 2);
    # it adds the low end of the range the request shows instead.
    periods = TestClient(app).get("/api/v1/transparency").json()["periods"]
    reached = {row["agency_id"]: row["owners_reached"] for row in periods}
    assert reached == {"*": K, agency_id: K}


def test_the_transparency_report_tells_no_more_of_answers_than_the_request(world: World) -> None:
    """One owner shared one clip with a request that reached fewer than k: withheld everywhere.

    The request itself shows "fewer than k" owners shared and clips shared; the report, per
    agency and per half-year, in JSON, CSV and on its page, used to say 1 and 1. The agency's
    own acts (a warrant, an emergency request) stay exact: they are public by design, and the
    audit verifier checks them against the log.
    """
    public = world.clients["anonymous"]
    agency_id = world.ids["agency_id"]
    withheld = {"at_least": 0, "at_most": K - 1, "label": f"fewer than {K}"}
    counts = public.get(f"/api/v1/requests/{world.ids['rfa_id']}").json()["counts"]
    assert counts["shared"] == counts["clips_shared"] == withheld

    report = public.get("/api/v1/transparency").json()
    rows = [row for row in report["periods"] if row["agency_id"] in ("*", agency_id)]
    assert len(rows) == 2
    for row in rows:
        assert row["clips_shared"] == row["owners_shared"] == withheld, row
        assert "share" not in row["owners_affected"], row
        assert row["share_rate"] == 0.0
        # The agency's own acts, exact: one warrant disclosing one owner's clip, one emergency.
        assert (row["warrants_received"], row["emergency_received"]) == (1, 1)
        assert row["owners_affected"]["warrant"] == 1

    table = list(csv.DictReader(io.StringIO(public.get("/api/v1/transparency.csv").text)))
    csv_rows = [row for row in table if row["agency_id"] in ("*", agency_id)]
    assert len(csv_rows) == 2
    for csv_row in csv_rows:
        answers = {name: value for name, value in csv_row.items() if "shar" in name}
        assert answers == {
            "clips_shared": f"fewer than {K}",
            "clips_shared_at_least": "0",
            "clips_shared_at_most": str(K - 1),
            "owners_shared": f"fewer than {K}",
            "owners_shared_at_least": "0",
            "owners_shared_at_most": str(K - 1),
            "share_rate": "0.0000",
        }
        assert csv_row["warrants_received"] == csv_row["emergency_received"] == "1"

    page = public.get("/transparency").text
    labels = _report_labels(page)
    # Overall: owners who shared and clips shared; per agency: clips shared ("0" for the other
    # agency, which asked nothing).
    assert labels.count(f"fewer than {K}") == 3, labels
    assert set(labels) <= {f"fewer than {K}", "0"}, labels
    assert "share:" not in page
