"""The demo's public-safety record: two departments, a past request, a warrant, an emergency.

Everything is made through the functions the API and the web pages call: agency applications
and verification, posting and answering Requests for Assistance, the share job that redacts and
watermarks each copy, evidence downloads, recording and honouring a warrant, two reviewers'
approvals of an emergency request. So the audit log, the owners' disclosure histories, the agency
pages and the transparency report all come from stored records, as they would on a real server.

The footage is rendered by ``video.synthetic``: short clips stored with the times of the events,
so the owners' clips fall inside the request's, the warrant's and the emergency's windows.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.agencies import service as agencies
from doorstep.agencies.models import Agency, AgencyKind
from doorstep.cameras.models import Camera
from doorstep.clips.models import Clip
from doorstep.clips.store import ClipMeta, store_clip
from doorstep.geo.cells import Coordinates, distance_m
from doorstep.invitations import service as invitations
from doorstep.legal import service as legal_service
from doorstep.legal.models import EmergencyRequest, LegalDemand
from doorstep.legal.schemas import DemandCreate, EmergencyCreate
from doorstep.platform.blobs import make_blob_store
from doorstep.platform.db import Database
from doorstep.platform.http.state import AppState
from doorstep.platform.keys import Keys
from doorstep.platform.queue import core as queue
from doorstep.platform.security import hash_password, new_secret
from doorstep.platform.types import utcnow
from doorstep.requests import service as rfa_service
from doorstep.requests.models import EvidenceAction, Rfa, RfaRecipient, Share
from doorstep.requests.rules import Circle, RfaDraft, polygon
from doorstep.settings import Settings, load_master_key

log = logging.getLogger(__name__)

#: Rendered footage per stored clip: enough for a visitor to walk up and leave, few enough
#: frames that redacting five clips keeps `doorstep demo` quick to start.
CLIP_SECONDS = 5.0
CLIP_FPS = 6
#: How long the share jobs may take between them before the demo gives up.
SHARE_JOBS_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class DemoAgency:
    """A department of the demo town and the account that applied for it (not a demo login)."""

    name: str
    kind: AgencyKind
    contact: str
    chief_email: str
    chief_name: str
    #: The jurisdiction's corners as (north, east) offsets in degrees from the demo centre.
    outline: tuple[tuple[float, float], ...]

    def jurisdiction(self, centre: Coordinates) -> dict[str, Any]:
        """The jurisdiction as a GeoJSON Polygon around ``centre``."""
        ring = [
            [round(centre.lon + east, 6), round(centre.lat + north, 6)]
            for north, east in self.outline
        ]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


POLICE = DemoAgency(
    name="Alder Park Police Department",
    kind=AgencyKind.LAW_ENFORCEMENT,
    contact="Records unit, records@alderpark-police.example, non-emergency line 555-0144",
    chief_email="chief@police.demo.doorstep.test",
    chief_name="Chief R. Morgan",
    outline=(
        (-0.0150, -0.0230),
        (-0.0150, 0.0180),
        (-0.0040, 0.0240),
        (0.0160, 0.0200),
        (0.0160, -0.0200),
        (0.0050, -0.0260),
    ),
)
FIRE = DemoAgency(
    name="Alder Park Fire & Rescue",
    kind=AgencyKind.FIRE,
    contact="Fire marshal's office, marshal@alderpark-fire.example, 555-0190",
    chief_email="chief@fire.demo.doorstep.test",
    chief_name="Chief T. Okafor",
    outline=(
        (-0.0250, -0.0120),
        (-0.0250, 0.0150),
        (-0.0100, 0.0330),
        (0.0120, 0.0330),
        (0.0240, 0.0120),
        (0.0240, -0.0150),
        (0.0100, -0.0330),
        (-0.0120, -0.0330),
    ),
)

RFA_CASE = "PD26-004187"
RFA_RADIUS_M = 330.0
RFA_INCIDENT = "Package theft"
RFA_DESCRIPTION = (
    "Two parcels were taken from porches on Alder St and 13th Ave during this window. A person "
    "in a dark rain jacket with a grey backpack was seen carrying boxes east along Alder St. If "
    "your camera faces the sidewalk or the street, footage from this window may help. Please do "
    "not approach anyone; call the non-emergency line with anything else you saw."
)
FIRE_CASE = "FM26-0312"
FIRE_INCIDENT = "Suspicious fire"
FIRE_DESCRIPTION = (
    "A recycling bin beside a garage on Birch St was set alight during this window. It was put "
    "out quickly and nobody was hurt. The fire marshal is looking for anyone seen walking or "
    "cycling along Birch St or the alley behind it."
)
WARRANT_REFERENCE = "SW 26-0913"
WARRANT_COURT = "Circuit Court of Alder County"
WARRANT_DOCUMENT = (
    b"Search warrant SW 26-0913, Circuit Court of Alder County: footage of the side gate camera "
    b"at the named account for the stated window, burglary investigation PD26-003950."
)
EMERGENCY_CASE = "PD26-004262"
EMERGENCY_ATTESTATION = (
    "A seven-year-old child was reported missing from the Alder Park playground at the start of "
    "this window and may have walked past this camera along 14th Ave. There is a danger to the "
    "child's life that cannot wait for a warrant."
)


@dataclass(frozen=True, slots=True)
class Times:
    """When the demo's events happened, fixed relative to the hour the demo was first seeded."""

    hour: datetime

    @property
    def rfa_window(self) -> tuple[datetime, datetime]:
        """Yesterday evening, two hours."""
        return self.hour - timedelta(hours=26), self.hour - timedelta(hours=24)

    @property
    def fire_window(self) -> tuple[datetime, datetime]:
        """Overlapping the evening of the theft: a different incident on the next street."""
        return self.hour - timedelta(hours=25, minutes=45), self.hour - timedelta(hours=23)

    @property
    def warrant_window(self) -> tuple[datetime, datetime]:
        """A night four days ago."""
        return self.hour - timedelta(days=4, hours=3), self.hour - timedelta(days=4, hours=1)

    @property
    def emergency_window(self) -> tuple[datetime, datetime]:
        """Earlier today."""
        return self.hour - timedelta(hours=5), self.hour - timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class Cast:
    """Ids of the demo accounts the story needs."""

    owner: str
    officer: str
    reviewer: str
    second_reviewer: str


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
        queue.JobContext(state.db, state.keys), threads=settings.job_threads
    )
    # As in the server: jobs queued by a request (the share copies) start once it commits.
    queue.dispatch_after_commit(state.db._factory, jobs, wait_seconds=0)
    try:
        with state.db.session() as db:
            if _rfa(db, FIRE_CASE) is None:
                log.info("demo: recording the public-safety history (first start only)")
            cast = _cast(db, emails)
            times = Times(utcnow().replace(minute=0, second=0, microsecond=0))
            police = _agency(db, state, POLICE, centre, _user(db, cast.reviewer))
            fire = _agency(db, state, FIRE, centre, _user(db, cast.second_reviewer))
            officer = _user(db, cast.officer)
            if agencies.membership(db, officer) is None:
                # The chief invites and hands over the code; the officer accepts with it, as
                # both would on their pages.
                chief = db.scalars(select(User).where(User.email == POLICE.chief_email)).one()
                invited = invitations.invite_to_agency(db, police, chief, officer.email)
                invitations.accept(db, officer, invited.invitation.id, invited.code)
            fire_id = fire.id
        with tempfile.TemporaryDirectory(prefix="doorstep-demo-") as folder:
            footage = Footage(state.keys, Path(folder))
            if not _past_request(state, cast, times, centre, footage):
                # Seeded by an earlier start: any copy it left unmade is made again.
                _resume_copies(state, jobs)
            # While the queue makes the share copies, the reviewers' disclosures are made here.
            _warrant(state, cast, times, footage)
            _emergency(state, cast, times, centre, footage)
            _fire_request(state, fire_id, times, centre)
            _close_past_request(state, cast)
    finally:
        jobs.close()
        state.db.dispose()


def _cast(db: Session, emails: Sequence[str]) -> Cast:
    ids = [db.scalars(select(User.id).where(User.email == email)).one() for email in emails]
    owner, officer, reviewer, second_reviewer = ids
    return Cast(owner, officer, reviewer, second_reviewer)


def _user(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    assert user is not None
    return user


# --- agencies ------------------------------------------------------------------------------------


def _agency(
    db: Session, state: AppState, spec: DemoAgency, centre: Coordinates, reviewer: User
) -> Agency:
    """The department, applied for by its chief and verified by a reviewer."""
    found = db.scalar(select(Agency).where(Agency.name == spec.name))
    if found is not None:
        return found
    resolution = state.settings.public_cell_resolution
    chief = db.scalar(select(User).where(User.email == spec.chief_email))
    if chief is None:
        # Not a demo login: like the neighbourhood's residents, a password nobody knows.
        chief = User(
            email=spec.chief_email,
            password_hash=_unknown_password(),
            display_name=spec.chief_name,
            role=Role.RESIDENT.value,
        )
        db.add(chief)
        db.flush()
    agency = agencies.apply(
        db,
        chief,
        name=spec.name,
        kind=spec.kind.value,
        jurisdiction=spec.jurisdiction(centre),
        contact=spec.contact,
        cell_resolution=resolution,
    )
    return agencies.decide(db, agency.id, reviewer, verify=True)


@functools.cache
def _unknown_password() -> str:
    """One hash of a random password, for accounts nobody logs in to (hashing is slow)."""
    return hash_password(new_secret())


def _agency_named(db: Session, name: str) -> Agency:
    return db.scalars(select(Agency).where(Agency.name == name)).one()


# --- footage -------------------------------------------------------------------------------------


class Footage:
    """Renders a short doorstep visit and stores it as a camera's clip, sealed like an upload."""

    def __init__(self, keys: Keys, folder: Path) -> None:
        self.keys = keys
        self.folder = folder

    def clip(self, db: Session, camera: Camera, started_at: datetime, *, seed: int) -> Clip:
        """A clip of ``camera`` starting at ``started_at``, stored as the upload API stores it."""
        # Imported here: only media/ loads the codecs, and only the demo's first start needs them.
        from doorstep.media.probe import encode_preview, probe_clip
        from doorstep.media.source import open_source
        from doorstep.media.synthetic import render_visit

        path = self.folder / f"{camera.id}-{seed}.mp4"
        render_visit(path, seconds=CLIP_SECONDS, fps=CLIP_FPS, seed=seed)
        probe = probe_clip(path)
        with open_source(path) as source:
            # The middle of the clip, when the visitor is at the door.
            middle = int(CLIP_SECONDS * source.fps / 2)
            image = next(f.image for f in source.frames() if f.index >= middle)
        assert image is not None
        meta = ClipMeta(
            started_at=started_at,
            ended_at=started_at + timedelta(seconds=probe.duration_s or CLIP_SECONDS),
            peak_motion=0.38,
            labels=["motion", "person"],
        )
        clip, _created = store_clip(
            db,
            self.keys,
            camera,
            meta,
            video=path,
            snapshot=encode_preview(image),
            width=probe.width,
            height=probe.height,
            has_audio=probe.has_audio,
        )
        return clip

    def stored(self, state: AppState, camera_id: str, started_at: datetime, *, seed: int) -> None:
        """A clip stored on its own, then its redacted copy made, as an owner's preview would be.

        The redaction runs outside any write: a disclosure that follows only watermarks the copy,
        so the database is never held for long while the job queue needs it.
        """
        with state.db.session() as db:
            camera = db.get(Camera, camera_id)
            assert camera is not None
            clip_id = self.clip(db, camera, started_at, seed=seed).id
        with state.db.session() as db:
            clip = db.get(Clip, clip_id)
            assert clip is not None
            rfa_service.redacted_preview(db, state.keys, clip)


def _camera(owner: User, name: str | None = None) -> Camera:
    cameras = sorted(owner.cameras, key=lambda camera: camera.name)
    return next(camera for camera in cameras if name is None or camera.name == name)


def _by_distance(db: Session, owner_ids: Sequence[str], point: Coordinates) -> list[User]:
    """Owners ordered by how near their nearest camera is to ``point`` (then by email)."""
    ranked = []
    for owner_id in owner_ids:
        owner = db.get(User, owner_id)
        assert owner is not None
        nearest = min(
            distance_m(point, Coordinates(camera.lat, camera.lon))
            for camera in owner.cameras
            if camera.lat is not None and camera.lon is not None
        )
        ranked.append((nearest, owner.email, owner))
    return [owner for _, _, owner in sorted(ranked, key=lambda item: (item[0], item[1]))]


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


# --- a warrant -----------------------------------------------------------------------------------


def _warrant(state: AppState, cast: Cast, times: Times, footage: Footage) -> None:
    """A reviewer records a warrant for the owner's side gate camera, honours it, and closes it."""
    with state.db.session() as db:
        recorded = select(LegalDemand.id).where(LegalDemand.reference == WARRANT_REFERENCE)
        if db.scalar(recorded) is not None:
            return
        camera_id = _camera(_user(db, cast.owner), "Side gate").id
    start, end = times.warrant_window
    footage.stored(state, camera_id, start + timedelta(minutes=47), seed=23)
    with state.db.session() as db:
        reviewer = _user(db, cast.reviewer)
        body = DemandCreate(
            kind="warrant",
            agency_id=_agency_named(db, POLICE.name).id,
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


def _emergency(
    state: AppState, cast: Cast, times: Times, centre: Coordinates, footage: Footage
) -> None:
    """The police file an emergency; both reviewers approve; it ends and the owner is told."""
    with state.db.session() as db:
        filed = select(EmergencyRequest.id).where(EmergencyRequest.case_number == EMERGENCY_CASE)
        if db.scalar(filed) is not None:
            return
        playground = Coordinates(centre.lat + PLAYGROUND[0], centre.lon + PLAYGROUND[1])
        asked = set(db.scalars(select(RfaRecipient.owner_id)))
        owners = db.scalars(select(Camera.owner_id).distinct())
        candidates = [o for o in owners if o not in asked and o != cast.owner]
        camera_id = _camera(_by_distance(db, candidates, playground)[0]).id
    start, end = times.emergency_window
    footage.stored(state, camera_id, start + timedelta(minutes=38), seed=53)
    with state.db.session() as db:
        officer = _user(db, cast.officer)
        body = EmergencyCreate(
            case_number=EMERGENCY_CASE,
            device_ids=[camera_id],
            window_start=start,
            window_end=end,
            attestation=EMERGENCY_ATTESTATION,
        )
        row = legal_service.file_emergency(db, state, officer, body)
        request_id = row.id
    # Each reviewer decides on their own; the second approval releases the clips in scope.
    for reviewer in (cast.reviewer, cast.second_reviewer):
        with state.db.session() as db:
            legal_service.approve_emergency(db, state, _user(db, reviewer), request_id)
    with state.db.session() as db:
        legal_service.end_emergency(db, state, _user(db, cast.officer), request_id)


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
