"""The demo neighbourhood: its own data folder, demo accounts, and a way to start over."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from doorstep.domain.geo import Coordinates
from doorstep.errors import ConfigurationError
from doorstep.settings import Environment, Settings
from doorstep.storage.accounts import create_user
from doorstep.storage.db import Database
from doorstep.storage.migrate import migrate
from doorstep.storage.models import Role, User

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
        "agency member (police)",
        None,
    ),
    DemoLogin("reviewer1@demo.doorstep.test", "Reviewer Kim", Role.REVIEWER, "reviewer", None),
    DemoLogin(
        "reviewer2@demo.doorstep.test", "Reviewer Osei", Role.REVIEWER, "second reviewer", None
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


def seed(settings: Settings) -> None:
    """Create the demo accounts once; later starts keep what the demo already has."""
    db = Database(settings.resolved_database_url)
    try:
        migrate(db.engine)
        with db.session() as session:
            for login in DEMO_LOGINS:
                if session.scalar(select(User.id).where(User.email == login.email)):
                    continue
                create_user(
                    session,
                    email=login.email,
                    password=DEMO_PASSWORD,
                    display_name=login.display_name,
                    home=login.home,
                    cell_resolution=settings.public_cell_resolution,
                    role=login.role,
                )
    finally:
        db.dispose()


def banner(settings: Settings) -> str:
    """What the demo prints at start: the address and the logins."""
    url = f"http://{settings.host}:{settings.port}"
    width = max(len(login.email) for login in DEMO_LOGINS)
    lines = [
        "",
        f"  Doorstep demo is running at {url}",
        f"  Data folder: {settings.data_dir}  (start over with `doorstep demo --reset`)",
        "",
        f"  Demo logins (password for all: {DEMO_PASSWORD})",
    ]
    lines += [f"    {login.email:<{width}}  {login.what}" for login in DEMO_LOGINS]
    lines.append("")
    return "\n".join(lines)
