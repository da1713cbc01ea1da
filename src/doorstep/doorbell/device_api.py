"""What a camera's agent calls for the doorbell: a press, the live-session long-poll, answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from fastapi import Query as QueryParam

from doorstep.accounts.auth import DevicePrincipal
from doorstep.doorbell import service, service_device
from doorstep.doorbell.rules import MAX_RING_SNAPSHOT, MAX_WAIT_SECONDS, RECHECK_SECONDS
from doorstep.doorbell.schemas import Answer, DeviceFeed, RingPressed, TurnServers
from doorstep.errors import PayloadTooLarge
from doorstep.platform.http import longpoll, problems
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.middleware import body_limit

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


@router.post(
    "/ring",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Report a press of the doorbell's button",
    responses=problems.responses(401, 413, 415, 422),
    # The snapshot, the form's other fields and the multipart framing around them.
    openapi_extra=body_limit(MAX_RING_SNAPSHOT + 64 * 1024),
)
def ring(
    principal: DevicePrincipal,
    db: DbDep,
    state: StateDep,
    source: Annotated[str, Form(max_length=10, description="button, mqtt, key, cli or demo")],
    snapshot: Annotated[
        UploadFile | None, File(description="JPEG of the moment, at most 1 MiB; none end to end")
    ] = None,
) -> RingPressed:
    """A press rings the owner's open pages (and allowed household's) with the snapshot.

    A press within 10 s of the camera's last ring is that ring: `rang` is false and nobody is
    alerted again. The snapshot is held only in memory, for two minutes, and never stored.
    """
    data = None
    if snapshot is not None:
        data = snapshot.file.read(MAX_RING_SNAPSHOT + 1)
        if len(data) > MAX_RING_SNAPSHOT:
            raise PayloadTooLarge("a ring's snapshot is at most 1 MiB")
    return service_device.device_press(db, state.held, principal.token, source, data)


@router.get(
    "/live-sessions",
    summary="Wait for live sessions to answer and for those that ended",
    responses=problems.responses(401, 403, 422, 503),
)
async def live_sessions(
    request: Request,
    state: StateDep,
    wait: Annotated[int, QueryParam(ge=0, le=MAX_WAIT_SECONDS)] = 45,
    active: Annotated[
        list[str], QueryParam(max_length=32, description="Sessions the agent has taken up")
    ] = [],  # noqa: B006 - FastAPI copies a query list's default
    mjpeg: Annotated[
        bool | None,
        QueryParam(
            description="Whether the agent is sending MJPEG frames now; when given, a change "
            "of the MJPEG page's state answers at once"
        ),
    ] = None,
) -> DeviceFeed:
    """A long-poll for the camera's agent; it counts as the camera's heartbeat too.

    It answers at once with offers not among `active`, `active` ones that ended, or an MJPEG
    page opened or closed (when the agent sends `mjpeg` and it differs); else after `wait`
    seconds, with `mjpeg` as it is then. It holds no database permit while it waits.
    """
    camera_id = await longpoll.in_short_session(
        request, lambda db, caller: service_device.device_camera_id(db, caller.token)
    )
    return await longpoll.hold(
        request,
        service.device_key(camera_id),
        seconds=wait,
        recheck=RECHECK_SECONDS,
        check=lambda db, caller: service_device.device_feed(
            db,
            caller.token,
            active,
            live=state.live,
            settings=state.settings,
        ),
        done=lambda feed: feed.news(mjpeg),
    )


@router.post(
    "/live-sessions/{session_id}/answer",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Answer a live session's offer",
    responses=problems.responses(401, 404, 409, 422),
)
def answer(session_id: str, body: Answer, principal: DevicePrincipal, db: DbDep) -> Response:
    """The agent's WebRTC answer; 409 once the session ended or expired, 404 if not its own."""
    service_device.device_answer(db, principal.token, session_id, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/live-sessions/{session_id}/end",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End a live session from the camera's side",
    responses=problems.responses(401, 404),
)
def end(session_id: str, principal: DevicePrincipal, db: DbDep) -> Response:
    """The agent stopped the session; the viewer's page hears of it at once."""
    service_device.device_end(db, principal.token, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/turn", summary="TURN credentials for the camera", responses=problems.responses(401))
def turn(principal: DevicePrincipal, db: DbDep, state: StateDep) -> TurnServers:
    """Short-lived credentials for the operator's TURN relay, if it runs one."""
    return service_device.device_turn(db, principal.token, state.settings)
