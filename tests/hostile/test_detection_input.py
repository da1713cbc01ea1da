"""A stranger's or a careless owner's text in detection zones never runs in a page, nor hides.

Zone names are shown on the camera page, the clip page and the clips filter; a name made of markup
is shown as text, a name with a right-to-left override or other invisible control is refused, and
a zone filter made of markup is echoed as text, not as a tag.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.cameras.test_api_detection import _camera, _patch
from tests.factories import resident

MARKUP = '<img src=x onerror="alert(1)">'
SQUARE = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]


@pytest.fixture
def owner(client: TestClient) -> str:
    return resident(client)


def test_a_zone_named_with_markup_is_shown_as_text(client: TestClient, owner: str) -> None:
    camera = _camera(client, owner)
    saved = _patch(
        client, owner, camera["id"], detection_zones=[{"name": MARKUP, "polygon": SQUARE}]
    )
    assert saved.status_code == 200, saved.text
    page = client.get(f"/cameras/{camera['id']}")
    assert page.status_code == 200
    assert MARKUP not in page.text
    assert "&lt;img src=x onerror=" in page.text


@pytest.mark.parametrize("name", ["porch\u202e", "por\u200bch", "a\x00b", "gate:side", ""])
def test_hidden_or_ambiguous_zone_names_are_refused(
    client: TestClient, owner: str, name: str
) -> None:
    camera = _camera(client, owner)
    refused = _patch(
        client, owner, camera["id"], detection_zones=[{"name": name, "polygon": SQUARE}]
    )
    assert refused.status_code == 422, refused.text
    assert client.get(f"/api/v1/cameras/{camera['id']}").json()["detection_zones"] == []


@pytest.mark.usefixtures("owner")
def test_a_zone_filter_made_of_markup_is_echoed_as_text(client: TestClient) -> None:
    page = client.get("/clips", params={"zone": MARKUP})
    assert page.status_code in {200, 422}
    assert MARKUP not in page.text
