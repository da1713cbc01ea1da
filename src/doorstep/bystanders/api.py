"""Bystander requests: anyone asks (no account), the status link, owners' inbox and answers."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from doorstep.accounts.auth import CurrentUser
from doorstep.accounts.throttling import client_address
from doorstep.bystanders import service
from doorstep.bystanders.rules import BystanderDraft
from doorstep.bystanders.schemas import (
    BystanderAnswer,
    BystanderCreate,
    BystanderCreated,
    BystanderInboxItem,
    BystanderInboxRequest,
    BystanderStatus,
    BystanderTotals,
)
from doorstep.geo.cells import Coordinates
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.requests.rules import draft_area

router = APIRouter(prefix="/api/v1", tags=["bystanders"])


@router.post(
    "/bystander-requests",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(429),
)
def create_request(
    body: BystanderCreate, request: Request, db: DbDep, state: StateDep
) -> BystanderCreated:
    """Ask owners in an area to blur or delete footage of you; no account, no name needed.

    The answer's ``status_url`` is the only way back to the request's counts: keep it.
    """
    centre = Coordinates(body.centre.lat, body.centre.lon) if body.centre else None
    draft = BystanderDraft(
        area=draft_area(centre, body.radius_m, body.polygon),
        start=body.window_start,
        end=body.window_end,
        description=body.description,
    )
    service.admit(db, state, client_address(request))
    return service.create_request(db, state, draft)


@router.get("/bystander-requests/status/{bystander_token}")
def request_status(bystander_token: str, db: DbDep, state: StateDep) -> BystanderStatus:
    """A request behind its status link: counts only, each below k withheld."""
    return service.status(db, bystander_token, state.settings.camera_map_k)


@router.get("/bystander-requests/totals")
def totals(db: DbDep, state: StateDep) -> BystanderTotals:
    """Every bystander request counted: requests, owners asked, clips blurred and deleted."""
    return service.public_totals(db, state.settings.camera_map_k)


@router.get("/bystander-inbox")
def inbox(user: CurrentUser, db: DbDep) -> list[BystanderInboxItem]:
    """Bystander requests that reached the caller's cameras, newest first."""
    return service.inbox(db, user)


@router.get("/bystander-inbox/{bystander_id}")
def inbox_item(bystander_id: str, user: CurrentUser, db: DbDep) -> BystanderInboxRequest:
    """One request with the caller's own clips in its window."""
    return service.inbox_request(db, user, bystander_id)


@router.post("/bystander-inbox/{bystander_id}/answer", responses=problems.responses(409))
def answer(
    bystander_id: str, body: BystanderAnswer, user: CurrentUser, db: DbDep, state: StateDep
) -> BystanderInboxRequest:
    """Delete or blur the chosen clips, or decline with an empty list; one answer per request."""
    return service.answer(db, state, user, bystander_id, body.choices)
