"""The camera page's "This camera is indoors": shown, saved, and kept as typed when refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cameras.test_pages import _add
from tests.cameras.test_pages_detection import _form
from tests.factories import resident


def _indoor(client: TestClient, page: str) -> bool:
    camera_id = page.rsplit("/", 1)[-1]
    value: bool = client.get(f"/api/v1/cameras/{camera_id}").json()["indoor"]
    return value


def test_the_owner_marks_a_camera_indoors_on_its_page(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    shown = client.get(page).text
    assert "This camera is indoors" in shown
    assert 'name="indoor" aria-describedby="indoor-help">' in shown
    saved = client.post(
        page + "/settings", data=_form(client, page, indoor="on"), follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    assert _indoor(client, page) is True
    assert 'name="indoor" aria-describedby="indoor-help" checked>' in client.get(page).text
    cleared = client.post(page + "/settings", data=_form(client, page), follow_redirects=False)
    assert cleared.status_code == 303
    assert _indoor(client, page) is False


def test_a_refused_form_keeps_the_indoor_box_as_typed(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    refused = client.post(
        page + "/settings", data=_form(client, page, indoor="on", quiet_start="25:00")
    )
    assert refused.status_code == 422
    assert 'name="indoor" aria-describedby="indoor-help" checked>' in refused.text
    assert _indoor(client, page) is False
