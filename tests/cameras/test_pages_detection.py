"""The camera page's "What to detect": shown, saved, and its mistakes shown in the page."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.cameras.test_pages import _add, _csrf
from tests.factories import resident

PORCH = "porch: 0.3,0.5 0.7,0.5 0.7,1 0.3,1"


def _form(client: TestClient, page: str, **fields: Any) -> dict[str, Any]:
    """The settings form as a browser sends it, with ``fields`` changed."""
    form: dict[str, Any] = {
        "csrf_token": _csrf(client, page),
        "name": "Porch",
        "alert_mode": "objects",
        "retention_days": "30",
        "detection": "1",
        "detection_zones": "",
        "ignore_stationary": "on",
        "detection_retention_days": "",
        "motion_retention_days": "",
    }
    for label, mode in (("person", "alert"), ("vehicle", "detection"), ("bicycle", "detection")):
        form.update({f"{label}_mode": mode, f"{label}_dwell": "0"})
    form.update({"animal_mode": "detection", "animal_dwell": "0"})
    form.update(fields)
    return form


def test_the_page_shows_what_to_detect_with_labelled_controls(client: TestClient) -> None:
    resident(client)
    page = client.get(_add(client)).text
    assert "What to detect" in page
    for label in ("person", "vehicle", "bicycle", "animal"):
        assert f'<label for="{label}_mode">' in page
        assert f'<label for="{label}_dwell">' in page
    assert re.search(r'<option value="alert" selected>Alert</option>', page)
    assert ">Keep quietly</option>" in page
    assert ">Only objects I choose (below)</option>" in page
    assert 'name="ignore_stationary" checked' in page
    assert '<label for="detection_retention_days">' in page
    assert '<option value="" selected>Same as alerts</option>' in page


def test_zones_are_saved_then_ticked_for_a_rule(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    saved = client.post(page + "/settings", data=_form(client, page, detection_zones=PORCH))
    assert "Settings saved." in saved.text
    assert 'name="person_zones" value="porch"' in saved.text
    form = _form(
        client,
        page,
        detection_zones=PORCH,
        person_zones=["porch"],
        person_dwell="5",
        animal_mode="off",
        ignore_stationary="",
        retention_days="14",
        detection_retention_days="7",
        motion_retention_days="3",
    )
    again = client.post(page + "/settings", data=form)
    assert "Settings saved." in again.text
    assert 'value="porch" checked' in again.text
    camera = client.get("/api/v1/cameras").json()[0]
    assert camera["detection_zones"] == [
        {"name": "porch", "polygon": [[0.3, 0.5], [0.7, 0.5], [0.7, 1], [0.3, 1]]}
    ]
    assert camera["object_rules"]["person"] == {
        "mode": "alert",
        "zones": ["porch"],
        "dwell_seconds": 5,
    }
    assert camera["object_rules"]["animal"]["mode"] == "off"
    assert camera["ignore_stationary"] is False
    assert (camera["detection_retention_days"], camera["motion_retention_days"]) == (7, 3)


def test_mistakes_are_shown_in_the_page_and_change_nothing(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    before = client.get("/api/v1/cameras").json()[0]
    mistakes: list[tuple[dict[str, Any], str]] = [
        ({"detection_zones": "0.3,0.5 0.7,0.5 0.7,1"}, "as &#39;name: x,y x,y x,y&#39;"),
        ({"detection_zones": "porch: 0,0 2,0 1,1"}, "zone &#39;porch&#39;: x and y"),
        ({"detection_zones": f"{PORCH}\nPorch: 0,0 1,0 1,1"}, "two zones are named"),
        ({"person_zones": ["gate"]}, "no detection zone named &#39;gate&#39;"),
        ({"person_dwell": "700"}, "Person: wait a whole number of seconds from 0 to 600"),
        ({"person_dwell": "soon"}, "Person: wait a whole number of seconds"),
        ({"person_dwell": "²"}, "Person: wait a whole number of seconds"),
        ({"motion_retention_days": "²"}, "Keep motion clips for one of 1, 3"),
        ({"retention_days": "³"}, "keep clips for one of 1, 3"),
        ({"vehicle_mode": "loud"}, "vehicle: mode is one of alert, detection, off"),
        ({"motion_retention_days": "60"}, "kept at most as long as alerts (30 days)"),
        ({"detection_retention_days": "5"}, "Keep detections for one of 1, 3"),
    ]
    for fields, message in mistakes:
        response = client.post(page + "/settings", data=_form(client, page, **fields))
        assert response.status_code == 422, fields
        assert message.lower() in response.text.lower(), fields
        assert 'role="alert"' in response.text
        if "person_dwell" in fields:  # what was typed stays in the form to be corrected
            assert 'id="person_dwell" name="person_dwell"' in response.text
            assert f'maxlength="3" value="{fields["person_dwell"]}"' in response.text
    assert client.get("/api/v1/cameras").json()[0] == before


def test_a_form_without_the_detection_section_leaves_it_as_it_was(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    client.post(
        page + "/settings", data=_form(client, page, ignore_stationary="", animal_mode="off")
    )
    older = {"csrf_token": _csrf(client, page), "name": "Porch", "retention_days": "30"}
    assert "Settings saved." in client.post(page + "/settings", data=older).text
    camera = client.get("/api/v1/cameras").json()[0]
    assert camera["ignore_stationary"] is False
    assert camera["object_rules"]["animal"]["mode"] == "off"
