"""The demo neighbourhood: its own data folder, demo accounts, and a way to start over."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from doorstep.accounts import service as accounts
from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.cameras import service as camera_service
from doorstep.cameras.models import Camera
from doorstep.demo import streets
from doorstep.demo._cast import account_by_email
from doorstep.demo._phone import DemoPhone
from doorstep.demo.history import (
    EMERGENCY_CASE,
    FIRE,
    FIRE_CASE,
    POLICE,
    RFA_CASE,
    WARRANT_REFERENCE,
    seed_history,
)
from doorstep.demo.neighbourhood import populate
from doorstep.errors import ConfigurationError, DoorstepError
from doorstep.geo.cells import Coordinates
from doorstep.maps import service as maps
from doorstep.platform.db import Database
from doorstep.platform.migrate import migrate
from doorstep.settings import Environment, Settings

if TYPE_CHECKING:
    from doorstep.agent.runner import CameraAgent
    from doorstep.agent.state import AgentState

DEMO_DIR = Path("doorstep-demo")
MARKER = ".doorstep-demo"
DEMO_PASSWORD = "porch-light-2026"
# The middle of the demo neighbourhood; homes are spread on a street grid around it.
CENTRE = Coordinates(45.5231, -122.6765)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """One of the demo accounts printed at start."""

    email: str
    display_name: str
    role: Role
    what: str
    home: Coordinates | None


DEMO_LOGINS = (
    DemoLogin(
        "owner@demo.doorstep.test",
        "Avery (camera owner)",
        Role.RESIDENT,
        "resident with cameras",
        Coordinates(45.5236, -122.6771),
    ),
    DemoLogin(
        "neighbour@demo.doorstep.test",
        "Sam (neighbour)",
        Role.RESIDENT,
        "neighbour, no camera",
        Coordinates(45.5226, -122.6752),
    ),
    DemoLogin(
        "officer@demo.doorstep.test",
        "Officer Diaz",
        Role.AGENCY_MEMBER,
        f"police: member of {POLICE.name}",
        None,
    ),
    DemoLogin(
        "reviewer1@demo.doorstep.test",
        "Reviewer Kim",
        Role.REVIEWER,
        "reviewer: verified the police, recorded the warrant",
        None,
    ),
    DemoLogin(
        "reviewer2@demo.doorstep.test",
        "Reviewer Osei",
        Role.REVIEWER,
        "second reviewer: verified the fire department",
        None,
    ),
)


def demo_settings(data_dir: Path, *, host: str, port: int) -> Settings:
    """Settings for the demo: always the embedded default, always its own folder."""
    return Settings(
        env=Environment.DEVELOPMENT,
        data_dir=data_dir,
        database_url="",
        blob_store="local",
        host=host,
        port=port,
    )


def prepare_folder(data_dir: Path, *, reset: bool) -> None:
    """Create the demo folder or wipe it on ``--reset``; never touch a folder it didn't make."""
    marker = data_dir / MARKER
    if data_dir.exists() and any(data_dir.iterdir()) and not marker.exists():
        raise ConfigurationError(
            f"{data_dir} is not a demo folder (no {MARKER} file); the demo will not touch it"
        )
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text("This folder belongs to `doorstep demo`; --reset deletes it.\n")


def draw_streets(settings: Settings) -> None:
    """Write the neighbourhood's street base map and gazetteer (again: they hold no user data)."""
    maps.write_base_map(settings, streets.plan(CENTRE))
    maps.write_gazetteer(settings, streets.gazetteer(CENTRE))


def seed(settings: Settings) -> None:
    """Create the demo accounts, neighbourhood and history once; later starts keep what is there."""
    draw_streets(settings)
    db = Database(settings.resolved_database_url)
    try:
        migrate(db.engine)
        with db.session() as session:
            for login in DEMO_LOGINS:
                if accounts.find_user_by_email(session, login.email) is not None:
                    continue
                accounts.create_user(
                    session,
                    email=login.email,
                    password=DEMO_PASSWORD,
                    display_name=login.display_name,
                    home=login.home,
                    cell_resolution=settings.public_cell_resolution,
                    role=login.role,
                )
            populate(session, CENTRE, settings.public_cell_resolution)
            owner = account_by_email(session, DEMO_LOGINS[0].email)
            owner_cameras(session, owner, settings)
    finally:
        db.dispose()
    # Before the server starts, with its own settings (see seed_history): when the demo answers,
    # its record is complete. The owner, the officer and the two reviewers act in it.
    cast = [DEMO_LOGINS[i].email for i in (0, 2, 3, 4)]
    seed_history(settings, cast, CENTRE)


@dataclass(frozen=True, slots=True)
class Doorbell:
    """A simulated doorbell: a rendered scene looped by a real agent in this process."""

    name: str
    folder: Path
    footage: Path
    pairing_code: str | None


DOORBELLS = (("Front door", 11), ("Side gate", 23))
#: How far into the rendered footage its visitor stands at the door.
VISITOR_AT_DOOR = 0.5


def owner_cameras(session: Session, owner: User, settings: Settings) -> list[Camera]:
    """The demo owner's doorbells, added at their home the first time."""
    by_name = {camera.name: camera for camera in owner.cameras}
    return [
        by_name.get(name)
        or camera_service.add_camera(
            session,
            owner,
            name=name,
            position=None,
            requests_opt_in=True,
            cell_resolution=settings.public_cell_resolution,
        )
        for name, _seed in DOORBELLS
    ]


def prepare_doorbells(settings: Settings) -> list[Doorbell]:
    """Give the demo owner two cameras, render their scenes, and make codes for unpaired agents."""
    from doorstep.agent.state import load_state
    from doorstep.media.synthetic import render_visit

    owner_email = DEMO_LOGINS[0].email
    doorbells: list[Doorbell] = []
    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            owner = account_by_email(session, owner_email)
            cameras = owner_cameras(session, owner, settings)
            for index, ((name, seed), camera) in enumerate(zip(DOORBELLS, cameras, strict=True)):
                folder = settings.data_dir / "doorbells" / f"camera-{index + 1}"
                footage = folder / "scene.mp4"
                if not footage.exists():
                    folder.mkdir(parents=True, exist_ok=True)
                    render_visit(footage, seed=seed, seconds=30 + 7 * index)
                try:
                    paired = load_state(folder).camera_id == camera.id
                except DoorstepError:
                    paired = False
                code = None if paired else camera_service.new_pairing_code(session, camera)
                doorbells.append(Doorbell(name, folder, footage, code))
    finally:
        db.dispose()
    return doorbells


#: How long the demo waits for each doorbell to stop.
AGENT_STOP_SECONDS = 30.0


def run_doorbells(url: str, doorbells: list[Doorbell], stop: threading.Event) -> None:
    """Wait for the server, pair any new agents, and run each doorbell in its own thread."""
    import httpx

    from doorstep.agent.client import DeviceClient
    from doorstep.agent.options import AgentOptions
    from doorstep.agent.runner import CameraAgent
    from doorstep.agent.state import AgentState, save_state

    while not stop.is_set():
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        stop.wait(0.25)
    agents: list[CameraAgent] = []
    running: list[threading.Thread] = []
    for doorbell in doorbells:
        if doorbell.pairing_code:
            pairing = DeviceClient(url).pair(doorbell.pairing_code)
            save_state(doorbell.folder, AgentState(url, pairing.camera_id, pairing.token))
        options = AgentOptions(source=str(doorbell.footage), loop=True, realtime=True)
        agent = CameraAgent(doorbell.folder, doorbell_state(doorbell.folder, url), options)
        agents.append(agent)
        thread = threading.Thread(target=agent.run, name=f"doorbell {doorbell.name}", daemon=True)
        thread.start()
        running.append(thread)
        threading.Thread(
            target=_visitors_ring,
            args=(agent, doorbell.footage, stop),
            name=f"doorbell {doorbell.name} visitors",
            daemon=True,
        ).start()
    stop.wait()
    for agent in agents:
        agent.stop()
    # Each agent finishes its clip and closes its calls and codecs before the process exits:
    # a codec thread still running at exit can abort the interpreter.
    for thread in running:
        thread.join(AGENT_STOP_SECONDS)


def doorbell_state(folder: Path, url: str) -> AgentState:
    """A paired doorbell's pairing, at the address the demo runs at this time.

    A demo started again with another ``--port`` or ``--host`` is the same server (same data,
    same camera tokens) at a new address; its doorbells must follow it, not keep calling the old
    one, where nothing answers and their clips would wait in the spool.
    """
    from doorstep.agent.state import load_state, save_state

    state = load_state(folder)
    if state.server != url:
        state = replace(state, server=url)
        save_state(folder, state)
    return state


def _visitors_ring(agent: CameraAgent, footage: Path, stop: threading.Event) -> None:
    """Every other visitor in the looping footage presses the button when at the door.

    The rendered visitor reaches the door halfway through the file; the press goes through the
    agent's bell like a real button's, so it rings the owner and records a ``ring`` clip.
    """
    from doorstep.media.probe import probe_clip

    seconds = probe_clip(footage).duration_s or 30.0
    if stop.wait(seconds * VISITOR_AT_DOOR):
        return
    while not stop.is_set():
        agent.doorbell.bell.press("demo")
        if stop.wait(seconds * 2):
            return


#: The demo owner's phone, as it shows in the account page's list of devices.
PHONE_NAME = "Demo phone"


def start_phone(settings: Settings) -> DemoPhone:
    """Start the demo's phone on loopback and subscribe it to the demo owner's pushes."""
    phone = DemoPhone()
    phone.start()
    subscribe_demo_phone(settings, phone.subscription())
    return phone


def subscribe_demo_phone(settings: Settings, subscription: dict[str, Any]) -> None:
    """Subscribe the owner's "Demo phone", replacing the one of an earlier start (a new port)."""
    from doorstep.notify import service as notify
    from doorstep.notify.schemas import PushDeviceCreate

    # The phone listens on loopback, an endpoint `serve` refuses; the demo's server accepts it
    # too (cli sets DOORSTEP_PUSH_ALLOW_LOOPBACK for it).
    loopback = settings.model_copy(update={"push_allow_loopback": True})
    body = PushDeviceCreate.model_validate({**subscription, "name": PHONE_NAME})
    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            owner = account_by_email(session, DEMO_LOGINS[0].email)
            for device in notify.list_devices(session, owner):
                if device.name == PHONE_NAME:
                    notify.remove_device(session, owner, device.id)
            notify.add_device(session, loopback, owner, body)
    finally:
        db.dispose()


def banner(settings: Settings, ignored: tuple[str, ...] = ()) -> str:
    """What the demo prints at start: the address, the logins, and any settings it ignored."""
    url = f"http://{settings.host}:{settings.port}"
    width = max(len(login.email) for login in DEMO_LOGINS)
    lines = [
        "",
        f"  Doorstep demo is running at {url}",
        f"  Data folder: {settings.data_dir}  (start over with `doorstep demo --reset`)",
        "",
        f"  Demo logins (password for all: {DEMO_PASSWORD})",
    ]
    lines += [
        f"    {login.email:<{width}}  {login.what}"
        + (f", at {streets.address_of(CENTRE, login.home)}" if login.home else "")
        for login in DEMO_LOGINS
    ]
    lines += [
        "",
        "  Two simulated doorbells (Front door, Side gate) are recording a rendered doorstep;",
        "  log in as the owner and open Clips to watch new clips and alerts arrive.",
        f'  The owner\'s "{PHONE_NAME}" gets their pushes: each one is printed here as it arrives.',
        "",
        f"  Already on record (see {url}/agencies, /transparency and /audit):",
        f"    {POLICE.name} and {FIRE.name}, both verified;",
        f"    police request {RFA_CASE}, closed: owners shared by name and anonymously,",
        "    others declined, and the police downloaded the owner's copy;",
        f"    warrant {WARRANT_REFERENCE} and emergency request {EMERGENCY_CASE} (both reviewers);",
        f"    fire request {FIRE_CASE}, still open: log in as the owner to answer it.",
        "",
    ]
    if ignored:
        # Someone who set DOORSTEP_SMTP_HOST expects mail; say why none comes, and how to get it.
        lines += [
            f"  The demo runs on its own settings and ignored {', '.join(ignored)}.",
            "  To try them (email, say) on this data, stop the demo and run",
            f"  `DOORSTEP_DATA_DIR={settings.data_dir} doorstep serve` with them set.",
            "",
        ]
    return "\n".join(lines)
