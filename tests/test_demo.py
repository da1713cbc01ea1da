"""The demo's public-safety record: departments, a past request with shares, a warrant, the report.

One demo folder is seeded for the whole module with `doorstep demo --seed-only`, exactly as a
user would; every test then reads it through the database or the app built on the same settings.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.agencies.models import Agency, AgencyMember, AgencyStatus
from doorstep.app import create_app
from doorstep.cameras.models import Camera
from doorstep.cli import main
from doorstep.clips.models import Clip
from doorstep.demo import history as demo_history
from doorstep.demo import run as demo
from doorstep.doorbell.models import Ring
from doorstep.geo.geometry import polygon_contains
from doorstep.legal import rules as legal_rules
from doorstep.legal.models import Disclosure, EmergencyRequest, LegalDemand
from doorstep.maps import service as maps
from doorstep.master_key import load_master_key
from doorstep.platform.blobs import make_blob_store
from doorstep.platform.db import Database
from doorstep.platform.keys import WORK_FOLDER, Keys
from doorstep.requests.consent import AnswerState, ShareState
from doorstep.requests.models import EvidenceAccess, Rfa, RfaRecipient, Share
from doorstep.requests.rules import RfaDraft, check_rfa, parse_geojson
from doorstep.requests.service import digest_of, read_agency_copy
from doorstep.settings import Settings
from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency.models import AuditEntry
from doorstep.transparency.verify import verify_server
from tests.browser import CHROMIUM_FLAGS, free_port
from tests.conftest import service_missing
from tests.factories import log_in

OWNER, NEIGHBOUR, OFFICER, REVIEWER, SECOND_REVIEWER = (login.email for login in demo.DEMO_LOGINS)


@dataclass(frozen=True)
class Seeded:
    """A demo folder seeded once, its settings, and what `doorstep demo` printed."""

    folder: Path
    settings: Settings
    banner: str


def _seed(folder: Path) -> str:
    """Run `doorstep demo --seed-only` on ``folder`` (no DOORSTEP_ variables); return its output."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        for name in [key for key in os.environ if key.startswith("DOORSTEP_")]:
            patch.delenv(name)
        # `doorstep demo` sets this for its server processes; undone when the context ends.
        patch.setenv("DOORSTEP_DATA_DIR", str(folder))
        # Set as someone trying email would; the demo ignores it and must say so.
        patch.setenv("DOORSTEP_SMTP_HOST", "127.0.0.1")
        assert main(["demo", "--seed-only", "--data-dir", str(folder)]) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    folder = tmp_path_factory.mktemp("demo") / "doorstep-demo"
    banner = _seed(folder)
    return Seeded(folder, demo.demo_settings(folder, host="127.0.0.1", port=8000), banner)


@pytest.fixture
def db(seeded: Seeded) -> Iterator[Session]:
    database = Database(seeded.settings.resolved_database_url)
    with database.session() as session:
        yield session
    database.dispose()


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings)) as test_client:
        yield test_client


def _user(db: Session, email: str) -> User:
    return db.scalars(select(User).where(User.email == email)).one()


def _count(db: Session, query: Select[Any]) -> int:
    return int(db.scalar(query) or 0)


def _past_request(db: Session) -> Rfa:
    return db.scalars(select(Rfa).where(Rfa.case_number == demo_history.RFA_CASE)).one()


# --- agencies ------------------------------------------------------------------------------------


def test_two_verified_departments_cover_the_neighbourhood(db: Session) -> None:
    verified = list(db.scalars(select(Agency).where(Agency.status == AgencyStatus.VERIFIED.value)))
    assert {agency.kind for agency in verified} == {"law_enforcement", "fire"}
    homes = [
        (lat, lon)
        for lat, lon in db.execute(select(User.home_lat, User.home_lon))
        if lat is not None and lon is not None
    ]
    cameras = [
        (lat, lon)
        for lat, lon in db.execute(select(Camera.lat, Camera.lon))
        if lat is not None and lon is not None
    ]
    assert len(homes) >= 300
    for agency in verified:
        assert agency.verified_at is not None
        assert agency.verified_by is not None
        assert _user_by_id(db, agency.verified_by).role == Role.REVIEWER.value
        assert agency.cells
        region = parse_geojson(agency.jurisdiction)
        for point in homes + cameras:
            assert any(polygon_contains(shape, point) for shape in region.polygons), agency.name


def _user_by_id(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    assert user is not None
    return user


def test_the_demo_officer_belongs_to_the_police(db: Session) -> None:
    officer = _user(db, OFFICER)
    member = db.get(AgencyMember, officer.id)
    assert member is not None
    assert member.agency.name == demo_history.POLICE.name
    assert member.agency.kind == "law_enforcement"
    assert officer.role == Role.AGENCY_MEMBER.value


def test_the_banner_names_the_settings_the_demo_ignored(seeded: Seeded) -> None:
    assert "ignored DOORSTEP_DATA_DIR, DOORSTEP_SMTP_HOST." in seeded.banner
    assert f"DOORSTEP_DATA_DIR={seeded.folder} doorstep serve" in seeded.banner
    assert "ignored" not in demo.banner(seeded.settings)


def test_the_demo_terminal_is_spared_alembic_plugin_lines(seeded: Seeded) -> None:
    assert seeded.banner
    assert not logging.getLogger("alembic.runtime.plugins").isEnabledFor(logging.INFO)


def test_the_banner_says_who_is_police_and_who_reviews(seeded: Seeded) -> None:
    lines = {line.split()[0]: line for line in seeded.banner.splitlines() if "@" in line}
    assert "police" in lines[OFFICER]
    assert demo_history.POLICE.name in lines[OFFICER]
    assert "reviewer" in lines[REVIEWER]
    assert "reviewer" in lines[SECOND_REVIEWER]
    assert "police" not in lines[OWNER]


def test_the_demo_draws_its_streets_and_the_residents_addresses_are_on_them(
    seeded: Seeded,
) -> None:
    base_map = maps.base_map(seeded.settings)
    assert base_map is not None
    assert base_map.tile_type == "mvt"
    lines = {line.split()[0]: line for line in seeded.banner.splitlines() if "@" in line}
    for email in (OWNER, NEIGHBOUR):
        address = lines[email].rsplit(", at ", 1)[1].strip()
        assert [place.label for place in maps.search_places(seeded.settings, address)] == [address]


# --- the past request ----------------------------------------------------------------------------


def test_the_past_request_passes_the_policy_and_is_closed(db: Session) -> None:
    rfa = _past_request(db)
    assert rfa.agency.name == demo_history.POLICE.name
    assert rfa.closed_at is not None
    assert rfa.window_end <= rfa.created_at
    assert rfa.incident_type
    assert len(rfa.description) > 80
    # The stored area, checked again by the domain's policy against the jurisdiction.
    draft = RfaDraft(
        case_number=rfa.case_number,
        incident_type=rfa.incident_type,
        offence_category=rfa.offence_category,
        description=rfa.description,
        area=rfa.shape(),
        start=rfa.window_start,
        end=rfa.window_end,
    )
    checked = check_rfa(
        draft,
        jurisdiction=parse_geojson(rfa.agency.jurisdiction),
        existing_for_case=0,
        now=rfa.created_at,
    )
    assert 0.025 <= checked.area_sq_mi <= 0.5


def test_owners_shared_named_and_anonymously_and_declined(db: Session, seeded: Seeded) -> None:
    rfa = _past_request(db)
    answers = [
        row.state for row in db.scalars(select(RfaRecipient).where(RfaRecipient.rfa_id == rfa.id))
    ]
    assert answers.count(AnswerState.DECLINED.value) >= 1
    assert answers.count(AnswerState.SHARED.value) >= 2
    shares = list(db.scalars(select(Share).where(Share.rfa_id == rfa.id)))
    anonymous = [share for share in shares if share.anonymous]
    named = [share for share in shares if not share.anonymous]
    assert anonymous
    assert named
    assert all(share.owner_name is None for share in anonymous)
    for share in named:
        assert share.owner_name == _user_by_id(db, share.owner_id).display_name
    # Every copy was really made: sealed, and its plaintext is the file whose SHA-256 is on record.
    keys = Keys(
        load_master_key(seeded.settings),
        make_blob_store(seeded.settings),
        seeded.settings.data_dir / WORK_FOLDER,
    )
    for share in shares:
        assert share.wrapped_key is not None
        assert re.fullmatch(r"[0-9a-f]{64}", share.sha256)
        plain = read_agency_copy(keys, share, 0, share.size - 1)
        assert digest_of(plain) == share.sha256
    first = b"".join(read_agency_copy(keys, shares[0], 0, 11))
    assert first[4:8] == b"ftyp"


def test_the_demos_evidence_copy_carries_provenance_a_c2pa_reader_validates(
    db: Session, seeded: Seeded, client: TestClient, tmp_path: Path
) -> None:
    import c2pa

    from doorstep.media.provenance import signing_identity
    from doorstep.transparency.evidence import main_evidence

    share = db.scalars(select(Share).where(Share.rfa_id == _past_request(db).id)).first()
    assert share is not None
    keys = Keys(
        load_master_key(seeded.settings),
        make_blob_store(seeded.settings),
        seeded.settings.data_dir / WORK_FOLDER,
    )
    copy = tmp_path / "evidence.mp4"
    copy.write_bytes(b"".join(read_agency_copy(keys, share, 0, share.size - 1)))
    root = signing_identity(seeded.settings.data_dir).root_pem
    settings = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": root}}
    with (
        c2pa.Context.from_dict(settings) as context,
        copy.open("rb") as handle,
        c2pa.Reader("video/mp4", handle, None, context) as reader,
    ):
        assert reader.get_validation_state() == "Trusted"
    ca = tmp_path / "ca.pem"
    ca.write_text(root)
    assert main_evidence(["verify", str(copy), "--ca", str(ca)], http=client) == 0


def test_the_agency_downloaded_the_owners_share_and_the_owner_sees_it(
    db: Session, client: TestClient
) -> None:
    owner = _user(db, OWNER)
    officer = _user(db, OFFICER)
    share = db.scalars(
        select(Share).where(Share.owner_id == owner.id, Share.rfa_id == _past_request(db).id)
    ).one()
    assert share.state == ShareState.DOWNLOADED.value
    access = db.scalars(select(EvidenceAccess).where(EvidenceAccess.share_id == share.id)).first()
    assert access is not None
    assert access.user_id == officer.id
    log_in(client, OWNER, demo.DEMO_PASSWORD)
    history = client.get("/api/v1/disclosures").json()
    mine = next(item for item in history if item["id"] == share.id)
    assert mine["agency_name"] == demo_history.POLICE.name
    assert "download" in [a["action"] for a in mine["accesses"]]
    page = client.get("/disclosures")
    assert page.status_code == 200
    assert demo_history.RFA_CASE in page.text
    legal = client.get("/api/v1/me/disclosures/legal").json()
    assert [item["case"] for item in legal] == [demo_history.WARRANT_REFERENCE]


def test_an_open_fire_request_waits_for_the_owners_answer(client: TestClient) -> None:
    log_in(client, OWNER, demo.DEMO_PASSWORD)
    inbox = {item["request"]["case_number"]: item for item in client.get("/api/v1/inbox").json()}
    assert inbox[demo_history.RFA_CASE]["answer"] == "shared"
    fire = inbox[demo_history.FIRE_CASE]
    assert fire["answer"] == "pending"
    assert fire["request"]["agency_name"] == demo_history.FIRE.name
    detail = client.get(f"/api/v1/inbox/{fire['request']['id']}").json()
    assert detail["clips"], "the owner has a clip inside the fire request to share"


# --- warrant and emergency -----------------------------------------------------------------------


def test_some_visitors_rang_the_doorbell_during_their_visit(db: Session) -> None:
    rings = list(db.scalars(select(Ring)))
    assert rings
    assert {ring.source for ring in rings} == {"demo"}
    for ring in rings:
        during = select(func.count(Clip.id)).where(
            Clip.camera_id == ring.camera_id,
            Clip.started_at <= ring.pressed_at,
            Clip.ended_at >= ring.pressed_at,
        )
        assert _count(db, during) == 1


def test_a_reviewer_recorded_a_scoped_warrant_and_its_disclosure(db: Session) -> None:
    warrant = db.scalars(
        select(LegalDemand).where(LegalDemand.reference == demo_history.WARRANT_REFERENCE)
    ).one()
    assert warrant.kind == legal_rules.DemandKind.WARRANT.value
    assert warrant.recorded_by == _user(db, REVIEWER).id
    assert warrant.device_ids
    assert warrant.window_start is not None
    assert warrant.window_end is not None
    assert not warrant.allows_unredacted
    disclosures = list(db.scalars(select(Disclosure).where(Disclosure.demand_id == warrant.id)))
    assert disclosures
    for row in disclosures:
        assert row.what == "footage"
        assert row.camera_id in warrant.device_ids
        assert row.clip_started_at is not None
        assert warrant.window_start <= row.clip_started_at <= warrant.window_end
        assert row.wrapped_key is not None
        assert not row.unredacted
        assert row.notified_at is not None
    assert warrant.outcome == "complied_full"


def test_two_different_reviewers_approved_the_emergency(db: Session) -> None:
    row = db.scalars(
        select(EmergencyRequest).where(EmergencyRequest.case_number == demo_history.EMERGENCY_CASE)
    ).one()
    reviewers = {_user(db, REVIEWER).id, _user(db, SECOND_REVIEWER).id}
    assert set(row.approvals) == reviewers
    assert row.state == legal_rules.EmergencyState.OVER.value
    assert row.category == legal_rules.EmergencyCategory.MISSING_PERSON.value
    disclosed = list(db.scalars(select(Disclosure).where(Disclosure.emergency_id == row.id)))
    assert disclosed
    assert all(d.notified_at is not None for d in disclosed)


# --- the public record ---------------------------------------------------------------------------


def test_the_transparency_report_counts_the_records(db: Session, client: TestClient) -> None:
    body = client.get("/api/v1/transparency").json()
    overall = [row for row in body["periods"] if row["agency_id"] == "*"]

    def total(name: str) -> int:
        return sum(int(row[name]) for row in overall)

    asked = db.execute(select(RfaRecipient.rfa_id, func.count()).group_by(RfaRecipient.rfa_id))
    k = Settings.model_fields["camera_map_k"].default
    expected = {
        "rfas": _count(db, select(func.count()).select_from(Rfa)),
        # Each request adds the low end of the range it shows, not its exact count.
        "owners_reached": sum(disclosure_counts.coarse(n, k).at_least for _rfa, n in asked),
        "warrants_received": _count(db, select(func.count()).where(LegalDemand.kind == "warrant")),
        "warrants_complied_full": _count(
            db,
            select(func.count()).where(
                LegalDemand.kind == "warrant", LegalDemand.outcome == "complied_full"
            ),
        ),
        "emergency_received": _count(db, select(func.count()).select_from(EmergencyRequest)),
        "emergency_granted": _count(
            db,
            select(func.count()).where(EmergencyRequest.state.in_(["approved", "over"])),
        ),
        "agencies_onboarded": _count(
            db, select(func.count()).where(Agency.status == AgencyStatus.VERIFIED.value)
        ),
    }
    for name, count in expected.items():
        assert count > 0, name
        assert total(name) == count, name
    assert expected["rfas"] == 2
    assert expected["agencies_onboarded"] == 2
    # Clips shared are ranges: each request adds the one its own page shows.
    clips = dict(db.execute(select(Share.rfa_id, func.count()).group_by(Share.rfa_id)).all())
    assert sum(clips.values()) > 0
    shown = [
        disclosure_counts.coarse(int(clips.get(rfa_id, 0)), k)
        for rfa_id in db.scalars(select(Rfa.id))
    ]
    reported = [row["clips_shared"] for row in overall]
    assert sum(r["at_least"] for r in reported) == sum(r.at_least for r in shown)
    assert sum(r["at_most"] for r in reported) == sum(r.at_most for r in shown)
    page = client.get("/transparency").text
    assert "Nothing to report yet" not in page
    counted = re.findall(r'data-testid="rfas">(\d+)<', page)
    assert sum(int(n) for n in counted) == expected["rfas"]
    labels = re.findall(r'data-testid="clips-shared">([^<]+)<', page)
    assert labels == [row["label"] for row in reported]


def test_the_audit_log_verifies_and_records_every_disclosure(
    db: Session, client: TestClient
) -> None:
    report = verify_server(client)
    assert report.ok, report.problem
    actions = set(db.scalars(select(AuditEntry.action)))
    assert {
        "share.create",
        "evidence.download",
        "legal_demand.record",
        "legal_demand.disclose",
        "emergency.approve",
        "emergency.disclose",
        "disclosure.notice",
    } <= actions
    assert report.size == _count(db, select(func.count()).select_from(AuditEntry))


def _identities(db: Session, user: User) -> list[str]:
    marks = [user.email, user.id, user.display_name]
    if user.home_lat is not None and user.home_lon is not None:
        marks += [str(user.home_lat), str(user.home_lon)]
    cameras = list(db.scalars(select(Camera).where(Camera.owner_id == user.id)))
    marks += [camera.id for camera in cameras]
    marks += [str(c.lat) for c in cameras if c.lat is not None]
    return marks


def test_public_pages_show_both_departments_and_no_anonymous_owner(
    db: Session, client: TestClient
) -> None:
    rfa = _past_request(db)
    hidden = [share.owner_id for share in db.scalars(select(Share)) if share.anonymous]
    hidden += list(
        db.scalars(
            select(RfaRecipient.owner_id).where(RfaRecipient.state == AnswerState.DECLINED.value)
        )
    )
    assert hidden
    police = db.scalars(select(Agency).where(Agency.name == demo_history.POLICE.name)).one()
    public = {
        "/agencies": client.get("/agencies"),
        "/api/v1/agencies": client.get("/api/v1/agencies"),
        f"/agencies/{police.id}": client.get(f"/agencies/{police.id}"),
        f"/rfa/{rfa.id}": client.get(f"/rfa/{rfa.id}"),
        "/api/v1/requests": client.get("/api/v1/requests"),
        "/transparency": client.get("/transparency"),
        "/api/v1/audit/entries": client.get("/api/v1/audit/entries", params={"start": 0}),
    }
    for path, response in public.items():
        assert response.status_code == 200, path
    for name in (demo_history.POLICE.name, demo_history.FIRE.name):
        assert name.replace("&", "&amp;") in public["/agencies"].text
    directory = {agency["name"]: agency for agency in public["/api/v1/agencies"].json()}
    assert set(directory) == {demo_history.POLICE.name, demo_history.FIRE.name}
    stats = directory[demo_history.POLICE.name]["stats"]
    assert stats["requests"] == 1
    # Counts are ranges: the request reached enough homes to show one, and the few who shared
    # are below k, so how many is withheld (I3).
    assert stats["asked"]["at_least"] >= 5
    assert stats["shared"] == {"at_least": 0, "at_most": 4, "label": "fewer than 5"}
    for owner_id in hidden:
        for mark in _identities(db, _user_by_id(db, owner_id)):
            for path, response in public.items():
                assert mark not in response.text, f"{path} shows {mark!r}"


def test_the_officer_sees_anonymous_evidence_without_its_owner(
    db: Session, client: TestClient
) -> None:
    log_in(client, OFFICER, demo.DEMO_PASSWORD)
    locker = client.get("/api/v1/evidence")
    assert locker.status_code == 200
    items = locker.json()
    assert {item["case_number"] for item in items} == {demo_history.RFA_CASE}
    anonymous = [item for item in items if item["anonymous"]]
    assert anonymous
    assert all(item["shared_by"] is None for item in anonymous)
    owner = _user(db, OWNER)
    assert any(item["shared_by"] == owner.display_name for item in items)
    text = locker.text + client.get("/agency/evidence").text + client.get("/agency").text
    for share in db.scalars(select(Share).where(Share.anonymous)):
        for mark in _identities(db, _user_by_id(db, share.owner_id)):
            assert mark not in text
    dashboard = client.get("/agency")
    assert dashboard.status_code == 200
    assert demo_history.RFA_CASE in dashboard.text


def test_seeding_again_changes_nothing(seeded: Seeded) -> None:
    def tally() -> dict[str, int]:
        database = Database(seeded.settings.resolved_database_url)
        with database.session() as session:
            counts = {
                table.__name__: _count(session, select(func.count()).select_from(table))
                for table in (Agency, Rfa, RfaRecipient, Share, LegalDemand, EmergencyRequest)
            }
            counts["audit"] = _count(session, select(func.count()).select_from(AuditEntry))
            counts["users"] = _count(session, select(func.count()).select_from(User))
        database.dispose()
        return counts

    before = tally()
    _seed(seeded.folder)
    assert tally() == before


# --- in a real browser ---------------------------------------------------------------------------


@pytest.fixture
def demo_server(seeded: Seeded) -> Iterator[str]:
    """The seeded demo served on a free loopback port, as `doorstep demo` serves it."""
    port = free_port()
    settings = demo.demo_settings(seeded.folder, host="127.0.0.1", port=port)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the demo server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.browser
def test_the_record_in_a_browser(demo_server: str) -> None:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        service_missing("Debian chromium (apt-get install chromium)")
    outside: list[str] = []
    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        page = browser.new_context().new_page()
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith((demo_server + "/", "data:", "blob:"))
                else None
            ),
        )
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(demo_server + "/transparency")
        rfas = page.get_by_test_id("rfas").first.inner_text()
        clips = page.get_by_test_id("clips-shared").first.inner_text()
        warrants = page.get_by_test_id("warrants").first.inner_text()
        assert int(rfas) > 0
        assert clips.startswith("fewer than") or int(clips.split("–")[0].replace(",", "")) > 0
        assert int(warrants.split("/")[0]) > 0
        page.goto(demo_server + "/agencies")
        expect(page.get_by_role("link", name=demo_history.POLICE.name)).to_be_visible()
        expect(page.get_by_role("link", name=demo_history.FIRE.name)).to_be_visible()
        page.goto(demo_server + "/login?next=/agency")
        page.get_by_label("Email").fill(OFFICER)
        page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(demo_server + "/agency")
        expect(page.get_by_role("heading", name=demo_history.POLICE.name)).to_be_visible()
        expect(page.get_by_text(demo_history.RFA_CASE)).to_be_visible()
        page.goto(demo_server + "/agency/evidence")
        expect(page.get_by_text("Shared anonymously").first).to_be_visible()
        browser.close()
    assert outside == []
    assert refused == []


def _tasks_after_importing(module: str) -> list[str]:
    code = (
        f"import {module}\n"
        "from doorstep.platform.queue.core import TASKS\n"
        "print(*sorted(TASKS.names()))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_the_demo_history_runs_every_task_the_server_runs_on_its_own() -> None:
    # `doorstep demo` seeds its history before any app exists: its queue must know the share
    # tasks without relying on the app having been imported first.
    from_server = _tasks_after_importing("doorstep.app")
    assert "share_prepare" in from_server
    assert _tasks_after_importing("doorstep.demo.history") == from_server


def test_the_demo_owner_sees_the_lost_dog_and_only_their_animal_clip(client: TestClient) -> None:
    log_in(client, OWNER, demo.DEMO_PASSWORD)
    near = client.get("/api/v1/pets").json()["near"]
    assert [notice["name"] for notice in near] == ["Biscuit"]
    (clip,) = near[0]["my_animal_clips"]
    assert clip["shared"] is False
    log_in(client, "neighbour@demo.doorstep.test", demo.DEMO_PASSWORD)
    (mine,) = client.get("/api/v1/pets").json()["mine"]
    # Nothing reaches the poster before the owner clicks share.
    assert mine["shares"] == []
    assert mine["my_animal_clips"] == []


def test_a_bystander_asked_the_owner_to_blur_footage_of_the_evening(client: TestClient) -> None:
    log_in(client, OWNER, demo.DEMO_PASSWORD)
    [asked] = client.get("/api/v1/bystander-inbox").json()
    assert asked["answer"] == "pending"
    detail = client.get(f"/api/v1/bystander-inbox/{asked['id']}").json()
    assert detail["clips"], "the owner has a clip of that evening to blur or delete"
    assert "1 waiting" in client.get("/requests").text
