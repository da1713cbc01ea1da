"""Server-sent events: every open page of an account hears about new clips and events at once.

An event's start snapshot, announced before any clip exists, is served here while it is held.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from doorstep.accounts.auth import ClipReader
from doorstep.clips import service_events
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["events"])

KEEPALIVE_SECONDS = 15.0


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(request: Request, principal: ClipReader, state: StateDep) -> StreamingResponse:
    """A text/event-stream of the caller's events (new clips, alerts); a token needs clips:read."""
    subscription = state.bus.subscribe(principal.user.id)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(subscription.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                payload = json.dumps(event, separators=(",", ":"))
                yield f"event: {event.get('type', 'message')}\ndata: {payload}\n\n".encode()
        finally:
            state.bus.unsubscribe(subscription)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


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
