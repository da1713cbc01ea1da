"""Times in a browser far from UTC: shown in its own zone, and a typed window read in that zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect

from doorstep.platform.types import utcnow
from tests.agencies.test_api import verified_agency
from tests.browser import LiveServer

pytestmark = pytest.mark.browser

PACIFIC = ZoneInfo("America/Los_Angeles")


def test_a_pacific_browser_sees_pacific_times_and_its_typed_window_is_stored_in_utc(
    live_server: LiveServer, browser: Browser
) -> None:
    server = live_server
    chief, _csrf, _agency_id = verified_agency(server.app)
    context = browser.new_context(timezone_id="America/Los_Angeles")
    try:
        context.add_cookies(
            [{"name": c.name, "value": c.value or "", "url": server.url} for c in chief.cookies.jar]
        )
        page = context.new_page()
        page.goto(server.url + "/agency")
        # The labels say which zone the window is typed in; the form sends that zone along.
        expect(page.get_by_label("Footage from (America/Los_Angeles)", exact=True)).to_be_visible()
        expect(page.locator("input[name=time_zone]")).to_have_value("America/Los_Angeles")

        # Two hours ago to one hour ago, typed as a Pacific wall clock shows them.
        start = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
        end = start + timedelta(hours=1)
        fields = {
            "Case number": "PPB-2026-0777",
            "Incident type": "Burglary",
            "Description": "A side door was forced; anyone carrying a toolbox?",
            "Centre (latitude, longitude)": "45.5236, -122.6771",
            "Radius in metres": "300",
            "Footage from (America/Los_Angeles)": _pacific(start),
            "Footage until (America/Los_Angeles)": _pacific(end),
        }
        for label, value in fields.items():
            page.get_by_label(label, exact=True).fill(value)
        page.locator("#offence_category").select_option("burglary")
        page.get_by_role("button", name="Send request").click()
        expect(page).to_have_url(re.compile(r"/rfa/[0-9a-f]+$"))
        rfa_id = page.url.rsplit("/", 1)[1]

        stored = chief.get(f"/api/v1/requests/{rfa_id}").json()
        assert datetime.fromisoformat(stored["window_start"]) == start
        assert datetime.fromisoformat(stored["window_end"]) == end

        # The request's page says the window in Pacific time, naming the zone, with UTC beside.
        window = page.locator("time").first
        expect(window).to_have_text(f"{_pacific(start).replace('T', ' ')} {_abbreviation(start)}")
        expect(window).to_have_attribute("title", start.strftime("%Y-%m-%d %H:%M UTC"))
        expect(window).to_have_attribute("datetime", start.strftime("%Y-%m-%dT%H:%MZ"))
    finally:
        context.close()


def test_an_unknown_zone_is_refused_in_the_form_not_a_crash(app: FastAPI) -> None:
    chief, csrf, _agency_id = verified_agency(app)
    start = (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    answer = chief.post(
        "/agency/requests",
        data={
            "csrf_token": csrf,
            "case_number": "PPB-2026-0778",
            "incident_type": "Burglary",
            "offence_category": "burglary",
            "description": "A side door was forced.",
            "centre": "45.5236, -122.6771",
            "radius_m": "300",
            "window_start": start,
            "window_end": end,
            "time_zone": "Mars/Olympus_Mons",
        },
    )
    assert answer.status_code == 422
    assert "time zone" in answer.text
    assert chief.get("/api/v1/requests").json() == []


def _pacific(moment: datetime) -> str:
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M")


def _abbreviation(moment: datetime) -> str:
    name = moment.astimezone(PACIFIC).tzname()
    assert name in ("PST", "PDT")
    return name


def test_the_abbreviation_follows_the_season() -> None:
    assert _abbreviation(datetime(2026, 1, 1, tzinfo=UTC)) == "PST"
    assert _abbreviation(datetime(2026, 7, 1, tzinfo=UTC)) == "PDT"
