"""The demo's Requests for Assistance: the past police request and the open fire request."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies import service as agencies
from doorstep.demo._cast import (
    account_by_email,
    agency_named,
    by_distance,
    camera_named,
    user_by_id,
)
from doorstep.demo._footage import Footage
from doorstep.demo._story import (
    FIRE,
    FIRE_CASE,
    FIRE_DESCRIPTION,
    FIRE_INCIDENT,
    POLICE,
    RFA_CASE,
    RFA_DESCRIPTION,
    RFA_INCIDENT,
    RFA_RADIUS_M,
    Cast,
    Times,
)
from doorstep.geo.cells import Coordinates
from doorstep.platform.http.state import AppState
from doorstep.platform.queue import core as queue
from doorstep.requests import service as rfa_service
from doorstep.requests.models import EvidenceAction, Rfa
from doorstep.requests.rules import Circle, RfaDraft, polygon

#: How long the share jobs may take between them before the demo gives up.
SHARE_JOBS_TIMEOUT = 120.0


# --- the past Request for Assistance -------------------------------------------------------------


def record_past_request(
    state: AppState, cast: Cast, times: Times, centre: Coordinates, footage: Footage
) -> bool:
    """The police ask about a package theft; some owners share (named or not), some decline.

    Returns False when an earlier start already made the request.
    """
    with state.db.session() as db:
        police = agency_named(db, POLICE.name)
        if rfa_service.requests_for_case(db, police, RFA_CASE):
            return False
        start, end = times.rfa_window
        draft = RfaDraft(
            case_number=RFA_CASE,
            incident_type=RFA_INCIDENT,
            offence_category="burglary",
            description=RFA_DESCRIPTION,
            area=Circle(centre, RFA_RADIUS_M),
            start=start,
            end=end,
        )
        rfa = rfa_service.post_request(db, state, user_by_id(db, cast.officer), draft)
        rfa_id = rfa.id
        asked = rfa_service.asked_owners(db, rfa_id)
        owner = user_by_id(db, cast.owner)
        neighbours = by_distance(db, [o for o in asked if o != owner.id], centre)
        # Who does what: the demo owner shares with their name, the two nearest neighbours
        # share anonymously, the next two decline, and the rest never answer.
        answers: list[tuple[User, str | None, int]] = [(owner, "named", 11)]
        answers += [(n, "anonymous", 31 + i) for i, n in enumerate(neighbours[:2])]
        answers += [(n, None, 41 + i) for i, n in enumerate(neighbours[2:4])]
        clips: dict[str, str] = {}
        for index, (person, how, seed) in enumerate(answers):
            if how is not None:
                when = start + timedelta(minutes=23 + 17 * index)
                camera = camera_named(person, "Front door")
                clips[person.id] = footage.clip(db, camera, when, seed=seed).id
        people = [(person.id, how) for person, how, _seed in answers]
    for person_id, how in people:
        # One answer per owner, each committed on its own as from their browser; a share's
        # copy is made by the job queue once the answer commits.
        with state.db.session() as db:
            rfa_service.answer_request(
                db,
                state,
                user_by_id(db, person_id),
                rfa_id,
                share=how is not None,
                clip_ids=[clips[person_id]] if how else [],
                anonymous=how == "anonymous",
            )
    return True


def resume_copies(state: AppState, jobs: queue.JobQueue) -> None:
    """Queue again every share copy an earlier start left unmade."""
    with state.db.session() as db:
        preparing = rfa_service.preparing_share_ids(db)
    for share_id in preparing:
        jobs.send(queue.SHARE_PREPARE, share_id)


def close_past_request(state: AppState, cast: Cast) -> None:
    """Once the copies are ready the officer downloads the owner's, views another, and closes."""
    with state.db.session() as db:
        rfa = rfa_for_case(db, RFA_CASE)
        if rfa is None or rfa.closed_at is not None:
            return
        rfa_id = rfa.id
    _wait_for_copies(state, rfa_id)
    with state.db.session() as db:
        officer = user_by_id(db, cast.officer)
        shares = rfa_service.request_shares(db, rfa_id)
        named = [s for s in shares if s.owner_id == cast.owner]
        anonymous = [s for s in shares if s.anonymous]
        for share in named[:1]:
            rfa_service.open_evidence(db, state, officer, share.id, EvidenceAction.DOWNLOAD)
        for share in anonymous[:1]:
            rfa_service.open_evidence(db, state, officer, share.id, EvidenceAction.VIEW)
        rfa_service.close_request(db, officer, rfa_id)


def rfa_for_case(db: Session, case_number: str) -> Rfa | None:
    """The demo's request with this case number, if made."""
    return rfa_service.request_for_case(db, case_number)


def _wait_for_copies(state: AppState, rfa_id: str) -> None:
    """Wait until the job queue has made every share's agency copy."""
    deadline = time.monotonic() + SHARE_JOBS_TIMEOUT
    while time.monotonic() < deadline:
        with state.db.session() as db:
            shares = rfa_service.request_shares(db, rfa_id)
            if not any(rfa_service.is_preparing(share) for share in shares):
                return
        time.sleep(0.1)
    raise RuntimeError("the demo's share copies were not made in time")


# --- an open request from the fire department ----------------------------------------------------


#: The fire request's area: a few blocks around Birch St, as (north, east) offsets of its corners.
FIRE_AREA = ((-0.0021, -0.0029), (-0.0021, 0.0041), (0.0029, 0.0041), (0.0029, -0.0029))


def record_fire_request(state: AppState, fire_id: str, times: Times, centre: Coordinates) -> None:
    """The fire marshal asks about a bin fire; still open, so the demo owner can answer it."""
    with state.db.session() as db:
        fire = agencies.get_agency(db, fire_id)
        if rfa_service.requests_for_case(db, fire, FIRE_CASE):
            return
        chief = account_by_email(db, FIRE.chief_email)
        start, end = times.fire_window
        area = polygon([(centre.lat + n, centre.lon + e) for n, e in FIRE_AREA])
        draft = RfaDraft(
            case_number=FIRE_CASE,
            incident_type=FIRE_INCIDENT,
            offence_category="fire",
            description=FIRE_DESCRIPTION,
            area=area,
            start=start,
            end=end,
        )
        rfa_service.post_request(db, state, chief, draft)
