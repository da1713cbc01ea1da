"""The viewer's side of the doorbell: TURN credentials, live sessions' signalling, ring snapshots.

Who may: a camera's owner, and household members the owner allowed live view (each of their
sessions audited); never agencies, staff, neighbours or strangers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from fastapi import Query as QueryParam

from doorstep.accounts.auth import ClipReader
from doorstep.doorbell import service
from doorstep.doorbell.rules import MAX_WAIT_SECONDS, RECHECK_SECONDS
from doorstep.doorbell.schemas import (
    LiveSessionCreate,
    LiveSessionCreated,
    LiveSessionPublic,
    TurnServers,
)
from doorstep.platform.http import longpoll, problems
from doorstep.platform.http.deps import DbDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["doorbell"])


@router.get(
    "/turn", summary="TURN credentials for live view", responses=problems.responses(401, 403)
)
def turn(principal: ClipReader, db: DbDep, state: StateDep) -> TurnServers:
    """Short-lived credentials for the operator's TURN relay; none when it runs none.

    Only for a camera's owner or a household member allowed live view (403 for anyone else).
    """
    return service.viewer_turn(db, state.settings, principal.user)


@router.post(
    "/cameras/{camera_id}/live-sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Offer a camera's agent a live session",
    responses=problems.responses(401, 403, 404, 413, 422, 429),
)
def open_session(
    camera_id: str, body: LiveSessionCreate, principal: ClipReader, db: DbDep, state: StateDep
) -> LiveSessionCreated:
    """Send a WebRTC offer (ICE candidates inside it) to the camera's agent.

    The offer is checked line by line (422 for anything malformed) and expires unanswered in
    30 s; then wait for the answer at `GET /api/v1/live-sessions/{id}`. Answering a ring marks
    it answered. A camera has at most 4 live views open at once, one viewer 2 of them (429).
    """
    return service.open_session(db, state.master_key, principal.user, camera_id, body)


@router.get(
    "/live-sessions/{session_id}",
    summary="Wait for the agent's answer",
    responses=problems.responses(401, 403, 404, 503),
)
async def wait_session(
    session_id: str,
    request: Request,
    wait: Annotated[int, QueryParam(ge=0, le=MAX_WAIT_SECONDS)] = 10,
) -> LiveSessionPublic:
    """A long-poll: the session at once when answered or ended, else after `wait` seconds.

    It holds no database permit while it waits.
    """
    return await longpoll.hold(
        request,
        service.session_key(session_id),
        seconds=wait,
        recheck=RECHECK_SECONDS,
        check=lambda db, caller: service.caller_session(db, caller, session_id),
        done=lambda found: found.state != "offered",
    )


@router.delete(
    "/live-sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Hang up",
    responses=problems.responses(401, 404),
)
def end_session(session_id: str, principal: ClipReader, db: DbDep) -> Response:
    """End the session; the camera's agent hears at once and stops sending."""
    service.end_session(db, principal.user, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/rings/{ring_id}/snapshot",
    summary="A ring's snapshot",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **problems.responses(401, 403, 404)},
)
def ring_snapshot(ring_id: str, principal: ClipReader, db: DbDep, state: StateDep) -> Response:
    """The JPEG the camera sent with the ring, while it is held (two minutes); then 404."""
    data = service.ring_snapshot(db, state.held, state.master_key, principal.user, ring_id)
    return Response(data, media_type="image/jpeg", headers={"cache-control": "no-store"})
