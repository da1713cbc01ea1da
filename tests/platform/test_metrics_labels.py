"""No metric can name a camera, owner, request or agency, or tell a decline from silence (I3)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter

from doorstep.app import create_app
from doorstep.platform.http.metrics import LABELS, OUTCOME_WORDS, PRODUCT
from doorstep.settings import Settings


def faults(registry: CollectorRegistry) -> set[str]:
    """Every label outside the allowlist and every name that counts an outcome.

    Labels are read from each metric's declaration, so one never yet used is checked too.
    """
    found = set()
    declared = registry._collector_to_names  # no public way to list a registry's collectors
    for collector, names in declared.items():
        if any(word in name for name in names for word in OUTCOME_WORDS):
            found.add(f"{min(names)}: its name counts an outcome")
        extra = set(getattr(collector, "_labelnames", ())) - LABELS
        if extra:
            found.add(f"{sorted(names)[0]}: labels {sorted(extra)} may carry an id")
    for family in registry.collect():
        for sample in family.samples:
            extra = set(sample.labels) - LABELS - {"le"}
            if extra:
                found.add(f"{family.name}: labels {sorted(extra)} may carry an id")
    return found


def test_the_lint_catches_an_id_label_and_an_outcome_name() -> None:
    bad = CollectorRegistry()
    Counter("doorstep_uploads", "x", ["camera_id"], registry=bad).labels("c1").inc()
    Counter("doorstep_requests_declined", "x", registry=bad).inc()
    assert len(faults(bad)) == 2


def test_every_product_and_http_metric_passes(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        client.get("/healthz")
        client.get("/api/v1/me/tokens/0123456789abcdef")
    assert faults(PRODUCT) == set()
    assert faults(app.state.doorstep.registry) == set()
    names = {family.name for family in PRODUCT.collect()}
    assert {"doorstep_clips_stored", "doorstep_pushes_sent", "doorstep_queue_depth"} <= names


@pytest.mark.parametrize("status", [200, 204, 303, 403, 404, 409, 500])
def test_statuses_are_counted_by_class_only(status: int) -> None:
    from doorstep.platform.http.metrics import status_class

    assert status_class(status) == f"{str(status)[0]}xx"
