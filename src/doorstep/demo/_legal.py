"""The demo's legal record: a warrant honoured and an emergency request approved."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from doorstep.cameras import service as cameras
from doorstep.demo._cast import agency_named, by_distance, camera_named, user_by_id
from doorstep.demo._footage import Footage
from doorstep.demo._story import (
    EMERGENCY_ATTESTATION,
    EMERGENCY_CASE,
    POLICE,
    WARRANT_COURT,
    WARRANT_DOCUMENT,
    WARRANT_REFERENCE,
    Cast,
    Times,
)
from doorstep.geo.cells import Coordinates
from doorstep.legal import service as legal_service
from doorstep.legal.rules import EmergencyCategory
from doorstep.legal.schemas import DemandCreate, EmergencyCreate
from doorstep.platform.http.state import AppState
from doorstep.requests import service as rfa_service

# --- a warrant -----------------------------------------------------------------------------------


def record_warrant(state: AppState, cast: Cast, times: Times, footage: Footage) -> None:
    """A reviewer records a warrant for the owner's side gate camera, honours it, and closes it."""
    with state.db.session() as db:
        if legal_service.demand_recorded(db, WARRANT_REFERENCE):
            return
        camera_id = camera_named(user_by_id(db, cast.owner), "Side gate").id
    start, end = times.warrant_window
    footage.stored(state, camera_id, start + timedelta(minutes=47), seed=23)
    with state.db.session() as db:
        reviewer = user_by_id(db, cast.reviewer)
        body = DemandCreate(
            kind="warrant",
            agency_id=agency_named(db, POLICE.name).id,
            court=WARRANT_COURT,
            reference=WARRANT_REFERENCE,
            document_sha256=hashlib.sha256(WARRANT_DOCUMENT).hexdigest(),
            account_id=cast.owner,
            device_ids=[camera_id],
            window_start=start,
            window_end=end,
            covers_footage=True,
            allows_unredacted=False,
        )
        demand = legal_service.record_demand(db, state, reviewer, body)
        legal_service.disclose_footage(db, state, reviewer, demand.id, [], unredacted=False)
        legal_service.close_demand(db, state, reviewer, demand.id, "complied_full")


# --- an emergency request ------------------------------------------------------------------------


#: Where the missing child was last seen, north-east of the centre along 14th Ave.
PLAYGROUND = (0.0042, 0.0061)


def record_emergency(
    state: AppState, cast: Cast, times: Times, centre: Coordinates, footage: Footage
) -> None:
    """The police file an emergency; both reviewers approve; it ends and the owner is told."""
    with state.db.session() as db:
        if legal_service.emergency_filed(db, EMERGENCY_CASE):
            return
        playground = Coordinates(centre.lat + PLAYGROUND[0], centre.lon + PLAYGROUND[1])
        asked = set(rfa_service.asked_owners(db))
        owners = cameras.camera_owner_ids(db)
        candidates = [o for o in owners if o not in asked and o != cast.owner]
        camera_id = camera_named(by_distance(db, candidates, playground)[0]).id
    start, end = times.emergency_window
    footage.stored(state, camera_id, start + timedelta(minutes=38), seed=53)
    with state.db.session() as db:
        officer = user_by_id(db, cast.officer)
        body = EmergencyCreate(
            case_number=EMERGENCY_CASE,
            device_ids=[camera_id],
            window_start=start,
            window_end=end,
            attestation=EMERGENCY_ATTESTATION,
            category=EmergencyCategory.MISSING_PERSON,
        )
        row = legal_service.file_emergency(db, state, officer, body)
        request_id = row.id
    # Each reviewer decides on their own; the second approval releases the clips in scope.
    for reviewer in (cast.reviewer, cast.second_reviewer):
        with state.db.session() as db:
            legal_service.approve_emergency(db, state, user_by_id(db, reviewer), request_id)
    with state.db.session() as db:
        legal_service.end_emergency(db, state, user_by_id(db, cast.officer), request_id)
