"""An owner's answer: taken once, and its clips blurred on the task queue after it commits."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.models import User
from doorstep.bystanders import service, service_blur, store
from doorstep.bystanders.models import PENDING, BystanderRecipient
from doorstep.bystanders.schemas import ClipChoice
from doorstep.bystanders.service_blur import BLUR_CLIP
from doorstep.clips.models import Clip
from doorstep.clips.service_replace import replace_footage
from doorstep.errors import Conflict
from doorstep.media import blur
from doorstep.platform import after_commit
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


def _answer_blur(app: FastAPI, owner_id: str, request_id: str, clip_id: str) -> object:
    """Answer "blur" in a transaction of its own; returns the jobs it queued (not sent)."""
    state = app.state.doorstep
    with state.db.session() as db:
        owner = db.get(User, owner_id)
        assert owner is not None
        shown = service.answer(
            db, state, owner, request_id, [ClipChoice(clip_id=clip_id, action="blur")]
        )
        # Answered, and nothing blurred or counted yet: the clip is as it was.
        assert (shown.answer, shown.blurred, [clip.id for clip in shown.clips]) == (
            "answered",
            0,
            [clip_id],
        )
        return after_commit.take(db, after_commit.JOBS)


def test_a_blur_answer_commits_with_one_job_per_clip_and_decodes_nothing(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    _owner, owner_id, clip_id, request_id = _asked(app)

    def decoded(*_args: object) -> None:
        raise AssertionError("the footage was decoded inside the owner's request")

    monkeypatch.setattr(blur, "blur_footage", decoded)
    queued = _answer_blur(app, owner_id, request_id, clip_id)
    assert queued == [(BLUR_CLIP, (request_id, owner_id, clip_id))]


def test_a_failed_blur_job_leaves_the_clip_and_its_count_and_a_retry_blurs_it(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, owner_id, clip_id, request_id = _asked(app)
    state = app.state.doorstep
    _answer_blur(app, owner_id, request_id, clip_id)
    made: list[Clip] = []

    def replacing(*args: Any, **kwargs: Any) -> Clip:
        made.append(replace_footage(*args, **kwargs))
        return made[-1]

    def broken(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(service_blur, "replace_footage", replacing)
    monkeypatch.setattr(store, "count_blurred", broken)
    with pytest.raises(RuntimeError):
        service_blur.blur_for_request(state.db, state.keys, request_id, owner_id, clip_id)
    [half] = made
    assert not state.keys.blobs.exists(half.video_key)
    assert not state.keys.blobs.exists(half.snapshot_key)
    assert owner.get(f"/api/v1/clips/{clip_id}/video").status_code == 200
    assert owner.get(f"/api/v1/bystander-inbox/{request_id}").json()["blurred"] == 0

    monkeypatch.undo()
    assert service_blur.blur_for_request(state.db, state.keys, request_id, owner_id, clip_id)
    # A second run (a retry of a job that did finish) finds nothing left to blur.
    assert not service_blur.blur_for_request(state.db, state.keys, request_id, owner_id, clip_id)
    assert owner.get(f"/api/v1/clips/{clip_id}").status_code == 404
    shown = owner.get(f"/api/v1/bystander-inbox/{request_id}").json()
    assert shown["blurred"] == 1
    [blurred] = shown["clips"]
    assert owner.get(f"/api/v1/clips/{blurred['id']}").json()["has_audio"] is False
