"""A share and a decline move every metric alike: no scrape tells one from the other (I3)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from doorstep.app import ROUTERS
from doorstep.platform.http.metrics import CONSENT_ROUTES, PRODUCT
from tests.agencies.test_api import owner_with_clip, verified_agency
from tests.requests.test_api import DECLINER, SHARER, _answer, _created, post_rfa

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(*registries: CollectorRegistry) -> Samples:
    """Every sample's value, but the ``_created`` timestamps (a time, not a count)."""
    found: Samples = {}
    for registry in registries:
        for family in registry.collect():
            for sample in family.samples:
                if not sample.name.endswith("_created"):
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    found[key] = sample.value
    return found


def _delta(before: Samples, after: Samples) -> Samples:
    changed = {key: after[key] - before.get(key, 0.0) for key in after}
    return {key: value for key, value in changed.items() if value}


def test_a_share_and_a_decline_leave_the_same_metrics(app: FastAPI, client: TestClient) -> None:
    del client  # its lifespan and queue worker run the agency copy's job
    sharer, sharer_csrf, clip_id = owner_with_clip(app, "sharer@example.org", position=SHARER)
    decliner, decliner_csrf, _clip = owner_with_clip(app, "decliner@example.org", position=DECLINER)
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    registries = (PRODUCT, app.state.doorstep.registry)

    before = _samples(*registries)
    shared = _answer(sharer, sharer_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    assert shared.json()["answer"] == "shared"
    after_share = _samples(*registries)
    declined = _answer(decliner, decliner_csrf, rfa["id"], decision="decline")
    assert declined.json()["answer"] == "declined"
    after_decline = _samples(*registries)

    share_delta = _delta(before, after_share)
    assert share_delta  # the answer itself is counted, under the one consent label
    assert share_delta == _delta(after_share, after_decline)


def test_every_answer_route_is_a_consent_route() -> None:
    # A new route that answers a request must not escape the merged label. The one other
    # "answer" is WebRTC's (an agent answering a live-view offer), not a consent.
    templates = {str(getattr(route, "path", "")) for router in ROUTERS for route in router.routes}
    answering = {
        path for path in templates if path.endswith("/answer") and "live-sessions" not in path
    }
    assert "/api/v1/inbox/{rfa_id}/answer" in answering
    assert answering == CONSENT_ROUTES
