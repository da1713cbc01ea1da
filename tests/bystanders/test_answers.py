"""An owner's answer, taken once: two answers racing each other, the second refused."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.models import User
from doorstep.bystanders import service
from doorstep.bystanders.models import PENDING, BystanderRecipient
from doorstep.bystanders.schemas import ClipChoice
from doorstep.errors import Conflict
from tests.agencies.test_api import owner_with_clip
from tests.bystanders.test_api import bystander_body


def _asked(app: FastAPI) -> tuple[TestClient, str, str, str]:
    """An owner with one clip in a new request: their client, id, the clip's and request's ids."""
    owner, _csrf, clip_id = owner_with_clip(app, "near@example.org")
    created = TestClient(app).post("/api/v1/bystander-requests", json=bystander_body())
    assert created.status_code == 201, created.text
    [item] = owner.get("/api/v1/bystander-inbox").json()
    return owner, str(owner.get("/api/v1/me").json()["id"]), clip_id, str(item["id"])


def test_of_two_answers_sent_at_once_the_second_is_refused(app: FastAPI) -> None:
    owner, owner_id, clip_id, request_id = _asked(app)
    state = app.state.doorstep
    with state.db.session() as first, state.db.session() as second:
        # Both answers read the request while it was still pending ...
        stale = second.get(BystanderRecipient, (request_id, owner_id))
        assert stale is not None
        assert stale.state == PENDING
        declining = first.get(User, owner_id)
        assert declining is not None
        service.answer(first, state, declining, request_id, [])
        first.commit()
        # ... and the one that writes second changes nothing, its clip included.
        deleting = second.get(User, owner_id)
        assert deleting is not None
        with pytest.raises(Conflict):
            service.answer(
                second,
                state,
                deleting,
                request_id,
                [ClipChoice(clip_id=clip_id, action="delete")],
            )
    assert owner.get(f"/api/v1/clips/{clip_id}").status_code == 200
    assert owner.get(f"/api/v1/bystander-inbox/{request_id}").json()["answer"] == "decline"
