"""The demo's Requests for Assistance: the past police request and the open fire request."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies import service as agencies
from doorstep.demo._cast import _agency_named, _by_distance, _camera, _user
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
from doorstep.requests.models import EvidenceAction, Rfa, RfaRecipient, Share
from doorstep.requests.rules import Circle, RfaDraft, polygon

#: How long the share jobs may take between them before the demo gives up.
SHARE_JOBS_TIMEOUT = 120.0


# --- the past Request for Assistance -------------------------------------------------------------


def _past_request(
    state: AppState, cast: Cast, times: Times, centre: Coordinates, footage: Footage
) -> bool:
    """The police ask about a package theft; some owners share (named or not), some decline.

    Returns False when an earlier start already made the request.
    """
    with state.db.session() as db:
        police = _agency_named(db, POLICE.name)
        if rfa_service.requests_for_case(db, police, RFA_CASE):
            return False
        start, end = times.rfa_window
        draft = RfaDraft(
            case_number=RFA_CASE,
            incident_type=RFA_INCIDENT,
            description=RFA_DESCRIPTION,
            area=Circle(centre, RFA_RADIUS_M),
            start=start,
            end=end,
        )
        rfa = rfa_service.post_request(db, state, _user(db, cast.officer), draft)
        rfa_id = rfa.id
        asked = db.scalars(select(RfaRecipient.owner_id).where(RfaRecipient.rfa_id == rfa_id))
        owner = _user(db, cast.owner)
        neighbours = _by_distance(db, [o for o in asked if o != owner.id], centre)
        # Who does what: the demo owner shares with their name, the two nearest neighbours
        # share anonymously, the next two decline, and the rest never answer.
        answers: list[tuple[User, str | None, int]] = [(owner, "named", 11)]
        answers += [(n, "anonymous", 31 + i) for i, n in enumerate(neighbours[:2])]
        answers += [(n, None, 41 + i) for i, n in enumerate(neighbours[2:4])]
        clips: dict[str, str] = {}
        for index, (person, how, seed) in enumerate(answers):
            if how is not None:
                when = start + timedelta(minutes=23 + 17 * index)
                camera = _camera(person, "Front door")
                clips[person.id] = footage.clip(db, camera, when, seed=seed).id
        people = [(person.id, how) for person, how, _seed in answers]
    for person_id, how in people:
        # One answer per owner, each committed on its own as from their browser; a share's
        # copy is made by the job queue once the answer commits.
        with state.db.session() as db:
            rfa_service.answer_request(
                db,
                state,
                _user(db, person_id),
                rfa_id,
                share=how is not None,
                clip_ids=[clips[person_id]] if how else [],
                anonymous=how == "anonymous",
            )
    return True


def _resume_copies(state: AppState, jobs: queue.JobQueue) -> None:
    with state.db.session() as db:
        preparing = [s.id for s in db.scalars(select(Share)) if rfa_service.is_preparing(s)]
    for share_id in preparing:
        jobs.send(queue.SHARE_PREPARE, share_id)


def _close_past_request(state: AppState, cast: Cast) -> None:
    """Once the copies are ready the officer downloads the owner's, views another, and closes."""
    with state.db.session() as db:
        rfa = _rfa(db, RFA_CASE)
        if rfa is None or rfa.closed_at is not None:
            return
        rfa_id = rfa.id
    _wait_for_copies(state, rfa_id)
    with state.db.session() as db:
        officer = _user(db, cast.officer)
        shares = list(db.scalars(select(Share).where(Share.rfa_id == rfa_id)))
        named = [s for s in shares if s.owner_id == cast.owner]
        anonymous = [s for s in shares if s.anonymous]
        for share in named[:1]:
            rfa_service.open_evidence(db, state, officer, share.id, EvidenceAction.DOWNLOAD)
        for share in anonymous[:1]:
            rfa_service.open_evidence(db, state, officer, share.id, EvidenceAction.VIEW)
        rfa_service.close_request(db, officer, rfa_id)


def _rfa(db: Session, case_number: str) -> Rfa | None:
    return db.scalar(select(Rfa).where(Rfa.case_number == case_number))


def _wait_for_copies(state: AppState, rfa_id: str) -> None:
    """Wait until the job queue has made every share's agency copy."""
    deadline = time.monotonic() + SHARE_JOBS_TIMEOUT
    while time.monotonic() < deadline:
        with state.db.session() as db:
            shares = list(db.scalars(select(Share).where(Share.rfa_id == rfa_id)))
            if not any(rfa_service.is_preparing(share) for share in shares):
                return
        time.sleep(0.1)
    raise RuntimeError("the demo's share copies were not made in time")


# --- an open request from the fire department ----------------------------------------------------


#: The fire request's area: a few blocks around Birch St, as (north, east) offsets of its corners.
FIRE_AREA = ((-0.0021, -0.0029), (-0.0021, 0.0041), (0.0029, 0.0041), (0.0029, -0.0029))


def _fire_request(state: AppState, fire_id: str, times: Times, centre: Coordinates) -> None:
    """The fire marshal asks about a bin fire; still open, so the demo owner can answer it."""
    with state.db.session() as db:
        fire = agencies.get_agency(db, fire_id)
        if rfa_service.requests_for_case(db, fire, FIRE_CASE):
            return
        chief = db.scalars(select(User).where(User.email == FIRE.chief_email)).one()
        start, end = times.fire_window
        area = polygon([(centre.lat + n, centre.lon + e) for n, e in FIRE_AREA])
        draft = RfaDraft(
            case_number=FIRE_CASE,
            incident_type=FIRE_INCIDENT,
            description=FIRE_DESCRIPTION,
            area=area,
            start=start,
            end=end,
        )
        rfa_service.post_request(db, state, chief, draft)
