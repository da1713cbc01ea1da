"""Address search is throttled per client address."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from doorstep.settings import Settings
from tests.maps.conftest import install_demo_map
from tests.maps.test_api import _search, _signup_csrf


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with two searches per window."""
    return settings.model_copy(update={"place_searches_per_address": 2})


def test_searches_over_the_limit_wait_for_the_next_window(
    client: TestClient, settings: Settings, demo_archive: bytes
) -> None:
    install_demo_map(settings, demo_archive)
    csrf = _signup_csrf(client)
    assert [_search(client, "alder", csrf).status_code for _ in range(2)] == [200, 200]
    refused = _search(client, "alder", csrf)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
