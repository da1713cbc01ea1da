"""Published tree heads: every one reachable page by page, each provably a prefix of the latest."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.transparency import audit_store as audit
from doorstep.transparency import service as transparency
from doorstep.transparency.merkle import verify_consistency
from doorstep.transparency.verify import verify_server
from tests.agencies.test_api import app_state


def _grow(app: FastAPI, client: TestClient, times: int) -> None:
    """Append an entry and publish a head, ``times`` over."""
    state = app_state(app)
    for n in range(times):
        with state.db.session() as db:
            audit.record(
                db, state.master_key, "test.entry", actor=None, owner_id=None, detail={"n": n}
            )
        assert client.get("/api/v1/audit/head").status_code == 200


def _all_heads(client: TestClient) -> list[dict[str, Any]]:
    # From size 1: the app's periodic job may or may not have published the empty log's head.
    heads: list[dict[str, Any]] = []
    start: int | None = 1
    while start is not None:
        page = client.get("/api/v1/audit/heads", params={"start": start}).json()
        heads.extend(page["heads"])
        start = page["next_start"]
    return heads


def test_the_history_pages_on_and_every_proof_leads_to_the_latest_head(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transparency, "HEADS_PAGE", 2)
    _grow(app, client, 5)
    first = client.get("/api/v1/audit/heads", params={"start": 1}).json()
    assert [h["size"] for h in first["heads"]] == [1, 2]
    assert first["next_start"] == 3
    heads = _all_heads(client)
    assert [h["size"] for h in heads] == [1, 2, 3, 4, 5]
    latest = heads[-1]
    for earlier in heads[:-1]:
        assert earlier["consistency_url"].endswith(f"old={earlier['size']}&new=5")
        proof = client.get(earlier["consistency_url"]).json()["proof"]
        assert verify_consistency(
            earlier["size"],
            latest["size"],
            bytes.fromhex(earlier["root"]),
            bytes.fromhex(latest["root"]),
            [bytes.fromhex(h) for h in proof],
        )
    report = verify_server(client)
    assert report.ok, report.problem


def test_a_start_past_the_end_is_an_empty_last_page(app: FastAPI, client: TestClient) -> None:
    _grow(app, client, 2)
    page = client.get("/api/v1/audit/heads", params={"start": 50}).json()
    assert page["heads"] == []
    assert page["next_start"] is None
    assert client.get("/api/v1/audit/heads", params={"start": -1}).status_code == 422
