"""Server-sent events: every open page of an account hears about new clips at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from doorstep.accounts.auth import ClipReader
from doorstep.platform.http.deps import StateDep

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
