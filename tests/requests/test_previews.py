"""The owner's redacted preview is a background job whose state any API process can read.

A request reaching an owner queues the previews of their clips; ``…/preview/status`` tells
queued, running (with the fraction done), ready or failed; the preview route waits for the job
but never redacts on its own thread, and answers 202 with the status when the job is not done.
Each test runs the app through the ``client`` fixture (with a task queue, a worker too).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import doorstep.media.redact
from doorstep.platform.queue.core import TASKS, JobContext, JobQueue
from doorstep.requests import service_previews
from doorstep.requests.models import PreviewJob
from doorstep.requests.service_previews import PREVIEW_MAKE, PREVIEW_REQUEST
from tests.agencies.test_api import app_state, owner_with_clip, verified_agency
from tests.factories import settle_jobs
from tests.requests.test_api import _answer, _created, post_rfa

Redact = Callable[..., Any]


def _fake_redaction(
    monkeypatch: pytest.MonkeyPatch, before: Callable[[Any], None] | None = None
) -> list[str]:
    """Redaction that copies the clip as it is; returns the names of the threads it ran on."""
    threads: list[str] = []

    def redact_file(source: Path, target: Path, **options: Any) -> Any:
        threads.append(threading.current_thread().name)
        if before is not None:
            before(options.get("progress"))
        shutil.copyfile(source, target)
        return SimpleNamespace(faces_found=0)

    monkeypatch.setattr(doorstep.media.redact, "redact_file", redact_file)
    return threads


def _idle(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del context, jobs, args
    return None


def _status(owner: TestClient, rfa_id: str, clip_id: str) -> dict[str, Any]:
    response = owner.get(f"/api/v1/inbox/{rfa_id}/clips/{clip_id}/preview/status")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _until(
    owner: TestClient, rfa_id: str, clip_id: str, state: str, progress: float | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        status = _status(owner, rfa_id, clip_id)
        if status["state"] == state and progress in (None, status["progress"]):
            return status
        assert time.monotonic() < deadline, f"the preview never got {state}: {status}"
        time.sleep(0.05)


@pytest.mark.usefixtures("client")
def test_a_request_reaching_an_owner_queues_the_preview_of_their_clip(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []

    def record(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
        del context, jobs
        sent.extend(args)
        return None

    monkeypatch.setitem(TASKS.handlers, PREVIEW_MAKE, record)
    owner, _csrf, clip_id = owner_with_clip(app, "previewed@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    deadline = time.monotonic() + 30
    while not sent:
        assert time.monotonic() < deadline, "no preview job was sent for the owner's clip"
        time.sleep(0.05)
    assert sent == [clip_id]
    with app_state(app).db.session() as db:
        job = db.get(PreviewJob, clip_id)
        assert job is not None
        assert job.state == "queued"
    assert _status(owner, rfa["id"], clip_id) == {"state": "queued", "progress": 0.0}


@pytest.mark.usefixtures("client")
def test_the_status_goes_from_running_with_progress_to_ready(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def halfway(progress: Any) -> None:
        progress(3, 10)
        assert release.wait(60)

    _fake_redaction(monkeypatch, halfway)
    owner, _csrf, clip_id = owner_with_clip(app, "progress@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    try:
        assert _until(owner, rfa["id"], clip_id, "running", 0.3) == {
            "state": "running",
            "progress": 0.3,
        }
    finally:
        release.set()
    assert _until(owner, rfa["id"], clip_id, "ready") == {"state": "ready", "progress": 1.0}
    preview = owner.get(f"/api/v1/inbox/{rfa['id']}/clips/{clip_id}/preview")
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "video/mp4"


@pytest.mark.usefixtures("client")
def test_a_failed_redaction_is_reported_as_failed(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(progress: Any) -> None:
        del progress
        raise RuntimeError("the face model is missing")

    threads = _fake_redaction(monkeypatch, broken)
    owner, _csrf, clip_id = owner_with_clip(app, "failed@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    assert _until(owner, rfa["id"], clip_id, "failed")["state"] == "failed"
    # The preview asks for another try; it fails again, and says so rather than erring.
    preview = owner.get(f"/api/v1/inbox/{rfa['id']}/clips/{clip_id}/preview")
    assert preview.status_code == 202
    assert preview.json()["state"] == "failed"
    assert preview.headers["retry-after"]
    assert len(threads) == 2


@pytest.mark.usefixtures("client")
def test_the_preview_route_waits_for_the_job_and_never_redacts_itself(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No preview is queued by the request, so the route is the one to ask for it.
    monkeypatch.setitem(TASKS.handlers, PREVIEW_REQUEST, _idle)
    threads = _fake_redaction(monkeypatch)
    owner, _csrf, clip_id = owner_with_clip(app, "waiting@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    assert _status(owner, rfa["id"], clip_id)["state"] == "queued"
    route_threads: list[str] = []
    ready_preview = service_previews.ready_preview

    def watched(*args: Any, **kwargs: Any) -> Any:
        route_threads.append(threading.current_thread().name)
        return ready_preview(*args, **kwargs)

    monkeypatch.setattr("doorstep.requests.service.ready_preview", watched)
    preview = owner.get(f"/api/v1/inbox/{rfa['id']}/clips/{clip_id}/preview")
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "video/mp4"
    assert len(threads) == 1
    assert len(route_threads) == 1
    assert threads[0] != route_threads[0]


@pytest.mark.usefixtures("client")
def test_a_preview_not_made_in_time_answers_202_with_its_status(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No worker ever takes the job.
    monkeypatch.setitem(TASKS.handlers, PREVIEW_REQUEST, _idle)
    monkeypatch.setitem(TASKS.handlers, PREVIEW_MAKE, _idle)
    monkeypatch.setattr(service_previews, "PREVIEW_WAIT_SECONDS", 0.5)
    threads = _fake_redaction(monkeypatch)
    owner, _csrf, clip_id = owner_with_clip(app, "slow@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    preview = owner.get(f"/api/v1/inbox/{rfa['id']}/clips/{clip_id}/preview")
    assert preview.status_code == 202
    assert preview.json() == {"state": "queued", "progress": 0.0}
    assert int(preview.headers["retry-after"]) > 0
    assert threads == []
    page = owner.get(f"/requests/{rfa['id']}")
    assert "Preparing the redacted preview… 0%" in page.text
    assert '<script type="module" src="/static/js/preview.js"></script>' in page.text


@pytest.mark.usefixtures("client")
def test_a_share_waits_for_the_running_preview_rather_than_redacting_again(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def held(progress: Any) -> None:
        del progress
        assert release.wait(60)

    threads = _fake_redaction(monkeypatch, held)
    owner, csrf, clip_id = owner_with_clip(app, "sharing@example.org")
    agency, agency_csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, agency_csrf))
    _until(owner, rfa["id"], clip_id, "running")
    # The answer (and, with a task queue, the worker) makes the copy while the preview is held.
    timer = threading.Timer(1.0, release.set)
    timer.start()
    try:
        shared = _answer(owner, csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    finally:
        timer.cancel()
        release.set()
    assert shared.status_code == 200, shared.text
    settle_jobs(app)
    # The copy is made, from the one redaction the preview job made.
    assert len(agency.get("/api/v1/evidence").json()) == 1
    assert len(threads) == 1
