"""Server-sent events: every open page of an account hears about new clips and events at once.

Each event carries its id (``clips.service_replay``): a browser that reconnects sends the last
one it saw as ``Last-Event-ID`` and is sent the events it missed, in order, before the live
ones, none twice. An event's start snapshot, announced before any clip exists, is served here
while it is held.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from doorstep.accounts.auth import ClipReader
from doorstep.clips import service_events, service_replay
from doorstep.clips.rules import RECONNECT_MS
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["events"])

KEEPALIVE_SECONDS = 15.0


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    request: Request, principal: ClipReader, db: DbDep, state: StateDep
) -> StreamingResponse:
    """A text/event-stream of the caller's events (new clips, alerts); a token needs clips:read.

    ``Last-Event-ID`` (sent by a reconnecting browser) or ``?last_event_id=`` replays the
    caller's events after it.
    """
    # Following before reading what was missed: an event committed in between is in both, and
    # sent once; one committed after is live.
    subscription = state.bus.subscribe(principal.user.id)
    try:
        replay = await run_in_threadpool(
            service_replay.missed, db, principal.user, _last_event_id(request)
        )
    except BaseException:
        state.bus.unsubscribe(subscription)
        raise

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield f": connected\nretry: {RECONNECT_MS}\n\n".encode()
            if not replay.understood:
                yield b": Last-Event-ID not understood; only new events follow\n\n"
            replayed = set()
            for event in replay.events:
                replayed.add(event[service_replay.SEQ])
                yield _frame(event)
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(subscription.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if event.get(service_replay.SEQ) in replayed:
                    continue
                yield _frame(event)
        finally:
            state.bus.unsubscribe(subscription)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


def _last_event_id(request: Request) -> str | None:
    # The header is the browser's own on reconnecting; the parameter is for a page that had to
    # open a new EventSource (which cannot set headers) after the old one failed.
    return request.headers.get("last-event-id") or request.query_params.get("last_event_id")


def _frame(event: dict[str, Any]) -> bytes:
    seq = event.get(service_replay.SEQ)
    data = {key: value for key, value in event.items() if key != service_replay.SEQ}
    payload = json.dumps(data, separators=(",", ":"))
    frame = f"event: {event.get('type', 'message')}\ndata: {payload}\n"
    # After the data: a reader of "event:" then "data:" lines is not surprised by the id.
    if isinstance(seq, int):
        frame += f"id: {seq}\n"
    return (frame + "\n").encode()


@router.get(
    "/cameras/{camera_id}/events/{event_id}/snapshot",
    responses={200: {"content": {"image/jpeg": {}}}, **problems.responses(404)},
)
def event_snapshot(
    camera_id: str, event_id: str, principal: ClipReader, db: DbDep, state: StateDep
) -> Response:
    """The picture an event started with, for the camera's owner, for two minutes at most."""
    data = service_events.event_snapshot(db, state.held, principal.user, camera_id, event_id)
    return Response(data, media_type="image/jpeg", headers={"cache-control": "private, no-store"})
