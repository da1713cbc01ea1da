"""The demo's public-safety record: two departments, a past request, a warrant, an emergency.

Everything is made through the features' services, the calls the API and the web pages make:
agency applications and verification, posting and answering Requests for Assistance, the share
job that redacts and watermarks each copy, evidence downloads, recording and honouring a warrant,
two reviewers' approvals of an emergency request. So the audit log, the owners' disclosure
histories, the agency pages and the transparency report all come from stored records, as they
would on a real server.

The footage is rendered by ``media.synthetic``: short clips stored with the times of the events,
so the owners' clips fall inside the request's, the warrant's and the emergency's windows.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import doorstep.tasks  # noqa: F401 - the share copies this history's queue makes are tasks
from doorstep.agencies import service as agencies
from doorstep.demo._bystanders import ask_as_a_bystander
from doorstep.demo._cast import account_by_email, cast_of, user_by_id, verified_agency
from doorstep.demo._footage import Footage
from doorstep.demo._legal import record_emergency, record_warrant
from doorstep.demo._pets import record_lost_pet
from doorstep.demo._requests import (
    close_past_request,
    record_fire_request,
    record_past_request,
    resume_copies,
    rfa_for_case,
)
from doorstep.demo._story import (
    EMERGENCY_ATTESTATION,
    EMERGENCY_CASE,
    FIRE,
    FIRE_CASE,
    FIRE_DESCRIPTION,
    FIRE_INCIDENT,
    POLICE,
    RFA_CASE,
    RFA_DESCRIPTION,
    RFA_INCIDENT,
    RFA_RADIUS_M,
    WARRANT_COURT,
    WARRANT_DOCUMENT,
    WARRANT_REFERENCE,
    Cast,
    DemoAgency,
    Times,
)
from doorstep.geo.cells import Coordinates
from doorstep.invitations import service as invitations
from doorstep.master_key import load_master_key
from doorstep.platform.blobs import make_blob_store
from doorstep.platform.db import Database
from doorstep.platform.http.state import AppState
from doorstep.platform.queue import core as queue
from doorstep.platform.types import utcnow
from doorstep.settings import Settings

__all__ = [
    "EMERGENCY_ATTESTATION",
    "EMERGENCY_CASE",
    "FIRE",
    "FIRE_CASE",
    "FIRE_DESCRIPTION",
    "FIRE_INCIDENT",
    "POLICE",
    "RFA_CASE",
    "RFA_DESCRIPTION",
    "RFA_INCIDENT",
    "RFA_RADIUS_M",
    "WARRANT_COURT",
    "WARRANT_DOCUMENT",
    "WARRANT_REFERENCE",
    "Cast",
    "DemoAgency",
    "Times",
    "seed_history",
]

log = logging.getLogger(__name__)


def _state(settings: Settings) -> AppState:
    """The pieces of a running app, built from the server's own settings."""
    return AppState(
        settings=settings,
        db=Database(settings.resolved_database_url),
        master_key=load_master_key(settings),
        blobs=make_blob_store(settings),
    )


def seed_history(settings: Settings, emails: Sequence[str], centre: Coordinates) -> None:
    """Record the demo's public-safety history once; later starts keep what is there.

    This runs before the server starts, with the server's own Settings: the same database, the
    master key the server loads from the data folder, the same blob folder. Nothing needs the
    running app; the share jobs run on an in-process queue of their own, exactly as the server's
    would, and the notifications queued on the way are dropped (no browser is listening yet; the
    owners find every disclosure in their histories). So when `doorstep demo` answers, the whole
    record is there.

    ``emails`` are the demo owner, the police officer and the two reviewers, in that order.
    """
    state = _state(settings)
    jobs = queue.InProcessQueue(
        queue.JobContext(state.db, state.keys, settings), threads=settings.job_threads
    )
    # As in the server: jobs queued by a request (the share copies) start once it commits.
    queue.dispatch_after_commit(state.db._factory, jobs, wait_seconds=0)
    try:
        with state.db.session() as db:
            if rfa_for_case(db, FIRE_CASE) is None:
                log.info("demo: recording the public-safety history (first start only)")
            cast = cast_of(db, emails)
            times = Times(utcnow().replace(minute=0, second=0, microsecond=0))
            police = verified_agency(db, state, POLICE, centre, user_by_id(db, cast.reviewer))
            fire = verified_agency(db, state, FIRE, centre, user_by_id(db, cast.second_reviewer))
            officer = user_by_id(db, cast.officer)
            if agencies.membership(db, officer) is None:
                # The chief invites and hands over the code; the officer accepts with it, as
                # both would on their pages.
                chief = account_by_email(db, POLICE.chief_email)
                invited = invitations.invite_to_agency(db, police, chief, officer.email)
                invitations.accept(db, officer, invited.invitation.id, invited.code)
            fire_id = fire.id
        with tempfile.TemporaryDirectory(prefix="doorstep-demo-") as folder:
            footage = Footage(state.keys, Path(folder))
            if not record_past_request(state, cast, times, centre, footage):
                # Seeded by an earlier start: any copy it left unmade is made again.
                resume_copies(state, jobs)
            # While the queue makes the share copies, the reviewers' disclosures are made here.
            record_warrant(state, cast, times, footage)
            record_emergency(state, cast, times, centre, footage)
            record_fire_request(state, fire_id, times, centre)
            record_lost_pet(state, cast, times, centre, footage)
            close_past_request(state, cast)
            ask_as_a_bystander(state, times, centre)
    finally:
        jobs.close()
        state.db.dispose()
