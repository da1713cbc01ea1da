"""Admission to the database: bounded, in arrival order, a 503 when the wait is too long.

Without it, more requests than pooled connections could leave every handler thread waiting for a
connection held by a request that waits for a thread; the load bench saw that stall for the
pool's whole timeout and end in 503s.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.cameras.device_api import live_frame
from doorstep.errors import Unavailable
from doorstep.platform.http.admission import Admission
from doorstep.platform.http.deps import optional_principal
from tests.factories import resident


def test_no_more_than_the_limit_hold_a_permit_at_once() -> None:
    admission = Admission(2, wait_s=5)
    holding = 0
    most = 0

    async def work() -> None:
        nonlocal holding, most
        async with admission.permit():
            holding += 1
            most = max(most, holding)
            await asyncio.sleep(0.01)
            holding -= 1

    async def main() -> None:
        await asyncio.gather(*(work() for _ in range(7)))

    asyncio.run(main())
    assert most == 2
    assert holding == 0


def test_permits_go_in_arrival_order() -> None:
    admission = Admission(1, wait_s=5)
    order: list[int] = []

    async def work(number: int) -> None:
        async with admission.permit():
            order.append(number)
            await asyncio.sleep(0)

    async def main() -> None:
        tasks = []
        for number in range(5):
            tasks.append(asyncio.create_task(work(number)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert order == [0, 1, 2, 3, 4]


def test_waiting_too_long_is_a_503_that_says_when_to_retry() -> None:
    admission = Admission(1, wait_s=0.05)

    async def main() -> None:
        async with admission.permit():
            with pytest.raises(Unavailable) as caught:
                async with admission.permit():
                    pytest.fail("a second permit was given while the only one was held")
        assert caught.value.extra["retry_after"] > 0
        # The one that gave up took nothing: the permit is free again.
        async with admission.permit():
            pass

    asyncio.run(main())


def test_a_failing_request_gives_its_permit_back() -> None:
    admission = Admission(1, wait_s=0.05)

    async def main() -> None:
        with pytest.raises(RuntimeError):
            async with admission.permit():
                raise RuntimeError("the handler failed")
        async with admission.permit():
            pass

    asyncio.run(main())


def test_one_admission_serves_one_event_loop_after_another() -> None:
    admission = Admission(1, wait_s=0.05)

    async def twice() -> None:
        async with admission.permit():
            pass
        async with admission.permit():
            pass

    asyncio.run(twice())
    asyncio.run(twice())


@contextmanager
def _held(client: TestClient, admission: Admission) -> Iterator[None]:
    """Hold ``admission``'s permits in the app's event loop for the block."""
    release = anyio.Event()
    held = anyio.Event()

    async def hold() -> None:
        async with admission.permit():
            held.set()
            await release.wait()

    portal = client.portal
    assert portal is not None
    future = portal.start_task_soon(hold)
    portal.call(held.wait)
    try:
        yield
    finally:
        portal.call(release.set)
        future.result(timeout=5)


HOME = {"lat": 45.5236, "lon": -122.6771}


# /me goes through the dependencies; the feed and the timeline through deps.read_in_one_hop.
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/clips", "/api/v1/feed"])
def test_every_database_request_waits_for_a_permit(
    app: FastAPI, client: TestClient, path: str
) -> None:
    resident(client, home=HOME)
    state = app.state.doorstep
    state.admission = Admission(1, wait_s=0.2)
    with _held(client, state.admission):
        busy = client.get(path)
    assert busy.status_code == 503
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert int(busy.headers["retry-after"]) > 0
    assert client.get(path).status_code == 200


def test_clip_uploads_wait_in_a_lane_of_their_own(app: FastAPI, client: TestClient) -> None:
    resident(client)
    state = app.state.doorstep
    state.upload_admission = Admission(1, wait_s=0.2)
    with _held(client, state.upload_admission):
        # Uploads queued up do not hold back a resident's page...
        assert client.get("/api/v1/me").status_code == 200
        # ...and an upload waits for the upload lane, whoever else is waiting.
        upload = client.post("/api/v1/devices/clips", headers={"authorization": "Bearer x"})
    assert upload.status_code == 503


def test_a_request_that_fails_gives_its_permit_back(app: FastAPI, client: TestClient) -> None:
    resident(client, home=HOME)
    state = app.state.doorstep
    state.admission = Admission(1, wait_s=0.2)
    assert client.get("/api/v1/clips/no-such-clip").status_code == 404
    # Had the 404 kept the only permit, this would wait 0.2 s and be a 503.
    assert client.get("/api/v1/me").status_code == 200
    # The same for a read refused inside its single hop.
    forged = client.get("/api/v1/clips", headers={"authorization": "Bearer dst_forged"})
    assert forged.status_code == 401
    assert client.get("/api/v1/feed").status_code == 200


def test_a_form_body_is_read_before_a_database_permit_is_taken() -> None:
    # Dependencies resolve in the order declared: a slow body must not hold a permit.
    order = list(inspect.signature(optional_principal).parameters)
    assert order.index("csrf") < order.index("db")


def test_a_live_frame_is_read_before_a_database_permit_is_taken() -> None:
    order = list(inspect.signature(live_frame).parameters)
    assert order.index("body") < order.index("principal")
