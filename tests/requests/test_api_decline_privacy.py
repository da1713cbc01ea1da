"""Declines are invisible (I3): a count below k is never told, and the others only as ranges.

Over one or two cameras, "asked 1, shared 0" would tell the agency and the public that a household
declined. Every response and page but the owner's own shows counts as ranges, withholds every
count below k (the camera map's threshold), and no total adds up to one.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.app import create_app
from doorstep.settings import Settings
from tests.agencies.test_api import HOME, verified_agency
from tests.cameras.test_api_devices import _camera
from tests.factories import resident
from tests.requests.test_api import _answer, _created, post_rfa

K = 5
#: Inside Portland, about 2.5 km from HOME: a request around it reaches nobody near HOME.
ELSEWHERE = {"lat": 45.5500, "lon": -122.6400}
#: A count below K as the API shows it.
WITHHELD = {"at_least": 0, "at_most": K - 1, "label": f"fewer than {K}"}
#: Words for states an agency must never see counted.
HIDDEN_STATES = ("declin", "pending", "answered", "silent", "unanswered")


def _owner(app: FastAPI, email: str, position: dict[str, float] = HOME) -> tuple[TestClient, str]:
    """A resident with one camera that accepts requests, at ``position``."""
    owner = TestClient(app)
    csrf = resident(owner, email, display_name="Owner", home=position)
    _camera(owner, csrf, requests_opt_in=True)
    return owner, csrf


def _near_home(index: int) -> dict[str, float]:
    """Distinct positions within about 100 m of HOME (inside a 300 m request)."""
    return {"lat": HOME["lat"] + 0.0002 * (index % 4), "lon": HOME["lon"] + 0.0003 * (index // 4)}


def _asked_cells(html: str) -> list[str]:
    return [text.strip() for text in re.findall(r'data-testid="asked">([^<]*)<', html)]


def _agency_asked(html: str) -> list[str]:
    return [text.strip() for text in re.findall(r'data-testid="agency-asked">([^<]*)<', html)]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def _views(
    agency: TestClient, public: TestClient, agency_id: str, rfa_id: str
) -> dict[str, tuple[str, str]]:
    """Everything the agency and the public can read about the request: (kind, body) by name."""
    views: dict[str, tuple[str, str]] = {}
    for who, client in (("agency", agency), ("public", public)):
        for path in (
            f"/api/v1/requests/{rfa_id}",
            "/api/v1/requests",
            "/api/v1/agencies",
            f"/api/v1/agencies/{agency_id}",
        ):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            views[f"{who} {path}"] = ("json", response.text)
        for path in (f"/rfa/{rfa_id}", "/agencies", f"/agencies/{agency_id}"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            views[f"{who} {path}"] = ("html", response.text)
    dashboard = agency.get("/agency")
    assert dashboard.status_code == 200
    views["agency /agency"] = ("html", dashboard.text)
    return views


def _assert_withheld(views: dict[str, tuple[str, str]]) -> None:
    for name, (kind, body) in views.items():
        if kind == "json":
            document = json.loads(body)
            for rfa in _requests_in(document):
                assert rfa["counts"] == {
                    "asked": WITHHELD,
                    "shared": WITHHELD,
                    "clips_shared": WITHHELD,
                    "k": K,
                }, name
            for agency in _agencies_in(document):
                stats = agency["stats"]
                assert (stats["asked"], stats["shared"], stats["requests"]) == (
                    WITHHELD,
                    WITHHELD,
                    1,
                ), name
            assert not {k for k in _keys(document) if k.startswith(HIDDEN_STATES)}, name
            assert not re.search(r"declined|pending", body, re.IGNORECASE), name
        else:
            assert not re.search(r'data-testid="(declined|pending)', body), name
            cells = _asked_cells(body) + _agency_asked(body)
            assert cells, name
            for text in cells:
                assert text.startswith(f"fewer than {K}"), (name, text)
                assert not re.search(r"\d", text.removeprefix(f"fewer than {K}")), (name, text)


def _requests_in(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return [r for item in document for r in _requests_in(item)]
    if "counts" in document:
        return [document]
    return list(document.get("requests", []))


def _agencies_in(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return [a for item in document for a in _agencies_in(item)]
    return [document] if "stats" in document else []


@pytest.mark.usefixtures("client")
def test_a_lone_owners_decline_shows_nowhere(app: FastAPI) -> None:
    owner, owner_csrf = _owner(app, "lone@example.org")
    agency, csrf, agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    public = TestClient(app)
    public.get("/")  # the anonymous CSRF cookie, so pages render the same each time

    before = _views(agency, public, agency_id, rfa["id"])
    _assert_withheld(before)

    declined = _answer(owner, owner_csrf, rfa["id"], decision="decline")
    assert declined.status_code == 200, declined.text
    assert declined.json()["answer"] == "declined"

    after = _views(agency, public, agency_id, rfa["id"])
    _assert_withheld(after)
    # Not a byte of what the agency or the public reads changed when the owner said no.
    assert after == before
    # The owner still sees their own answer.
    assert owner.get(f"/api/v1/inbox/{rfa['id']}").json()["answer"] == "declined"


@pytest.mark.usefixtures("client")
def test_two_owners_one_declines_still_withheld(app: FastAPI) -> None:
    first, first_csrf = _owner(app, "first@example.org", _near_home(0))
    _owner(app, "second@example.org", _near_home(1))
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    _answer(first, first_csrf, rfa["id"], decision="decline")
    counts = TestClient(app).get(f"/api/v1/requests/{rfa['id']}").json()["counts"]
    assert counts == {"asked": WITHHELD, "shared": WITHHELD, "clips_shared": WITHHELD, "k": K}


@pytest.mark.usefixtures("client")
def test_the_count_shows_as_a_range_once_k_owners_were_asked(app: FastAPI) -> None:
    owners = [_owner(app, f"owner{i}@example.org", _near_home(i)) for i in range(K)]
    # One owner with several cameras is still one owner asked.
    extra = owners[0][0]
    _camera(extra, owners[0][1], requests_opt_in=True)
    agency, csrf, agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    bucket = {"at_least": K, "at_most": 2 * K - 1, "label": f"{K}–{2 * K - 1}"}
    assert rfa["counts"] == {
        "asked": bucket,
        "shared": WITHHELD,
        "clips_shared": WITHHELD,
        "k": K,
    }
    for client, owner_csrf in owners[:2]:
        _answer(client, owner_csrf, rfa["id"], decision="decline")

    public = TestClient(app)
    assert public.get(f"/api/v1/requests/{rfa['id']}").json()["counts"]["asked"] == bucket
    stats = public.get(f"/api/v1/agencies/{agency_id}").json()["stats"]
    assert stats == {
        "requests": 1,
        "asked": bucket,
        "shared": WITHHELD,
        "clips_shared": WITHHELD,
        "k": K,
    }
    assert _asked_cells(public.get(f"/rfa/{rfa['id']}").text) == [bucket["label"]]
    assert _asked_cells(agency.get("/agency").text) == [bucket["label"]]
    assert _agency_asked(public.get(f"/agencies/{agency_id}").text) == [bucket["label"]]
    assert _agency_asked(public.get("/agencies").text) == [bucket["label"]]


@pytest.mark.usefixtures("client")
def test_totals_never_add_up_to_a_withheld_count(app: FastAPI) -> None:
    for i in range(K):
        _owner(app, f"owner{i}@example.org", _near_home(i))
    lone, lone_csrf = _owner(app, "lone@example.org", ELSEWHERE)
    agency, csrf, agency_id = verified_agency(app)
    busy = _created(post_rfa(agency, csrf))
    quiet = _created(
        post_rfa(agency, csrf, case_number="PPB-2026-0077", centre=ELSEWHERE, radius_m=200)
    )
    assert busy["counts"]["asked"]["label"] == f"{K}–{2 * K - 1}"
    assert quiet["counts"]["asked"] == WITHHELD
    _answer(lone, lone_csrf, quiet["id"], decision="decline")

    public = TestClient(app)
    stats = public.get(f"/api/v1/agencies/{agency_id}").json()["stats"]
    # K + 1 would give the quiet request's count away: the total minus the busy one's. The
    # total is the sum of the shown ranges, 5-9 and 0-4, whatever the counts behind them.
    total = {"at_least": K, "at_most": 3 * K - 2, "label": f"{K}–{3 * K - 2}"}
    assert stats["asked"] == total
    for path in ("/agencies", f"/agencies/{agency_id}"):
        (label,) = _agency_asked(public.get(path).text)
        assert label == total["label"]


def test_a_configured_k_is_the_threshold(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"camera_map_k": K + 2}))
    with TestClient(app):
        owners = [_owner(app, f"owner{i}@example.org", _near_home(i)) for i in range(K)]
        agency, csrf, agency_id = verified_agency(app)
        rfa = _created(post_rfa(agency, csrf))
        public = TestClient(app)
        withheld = {"at_least": 0, "at_most": K + 1, "label": f"fewer than {K + 2}"}
        document = public.get(f"/api/v1/agencies/{agency_id}").json()
        assert document["stats"]["asked"] == withheld
        assert document["stats"]["k"] == K + 2
        assert document["requests"][0]["counts"]["asked"] == withheld
        assert document["requests"][0]["counts"]["k"] == K + 2
        assert _asked_cells(public.get(f"/rfa/{rfa['id']}").text) == [f"fewer than {K + 2}"]
        # The requests API and the owners' inbox apply the same configured k.
        for listed in public.get("/api/v1/requests").json():
            assert listed["counts"]["asked"] == withheld
        assert public.get(f"/api/v1/requests/{rfa['id']}").json()["counts"]["asked"] == withheld
        owner, _owner_csrf = owners[0]
        (item,) = owner.get("/api/v1/inbox").json()
        assert item["request"]["counts"]["asked"] == withheld
        detail = owner.get(f"/api/v1/inbox/{rfa['id']}").json()
        assert detail["request"]["counts"]["asked"] == withheld


def test_the_openapi_schema_explains_the_withheld_count(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    counts = schemas["CountsPublic"]
    assert "fewer than k" in counts["description"]
    assert set(counts["properties"]) == {"asked", "shared", "clips_shared", "k"}
    assert set(schemas["CountRangePublic"]["properties"]) == {"at_least", "at_most", "label"}
    assert set(schemas["AgencyStats"]["properties"]) == {
        "requests",
        "asked",
        "shared",
        "clips_shared",
        "k",
    }


@pytest.mark.usefixtures("client")
def test_the_transparency_report_does_not_give_a_withheld_count_away(app: FastAPI) -> None:
    owner, owner_csrf = _owner(app, "lone@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    _answer(owner, owner_csrf, rfa["id"], decision="decline")
    periods = TestClient(app).get("/api/v1/transparency").json()["periods"]
    assert periods
    for row in periods:
        assert not 0 < row["owners_reached"] < K, row
