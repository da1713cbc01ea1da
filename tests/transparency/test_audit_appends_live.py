"""Audit entries appended at once, on a real server: each one gets its own place in the log.

A household member's Clips page asks for every thumbnail at once, and each snapshot is an
audited access. The appends race on the log's size; none may fail or take another's ``seq``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
from sqlalchemy import select

from doorstep.settings import Settings
from doorstep.transparency import audit_store as audit
from doorstep.transparency.models import AuditEntry
from doorstep.transparency.verify import verify_server
from tests.browser import LiveServer, free_port, serve
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import accept_invitations, resident
from tests.samples import tiny_clip

#: More snapshot requests at once than the server has threads for database work.
AT_ONCE = 24


@dataclass(frozen=True)
class Household:
    """Ada's camera with one clip, Bob in its household (without live view), both signed in."""

    camera_id: str
    clip_id: str
    ada_cookies: dict[str, str]
    bob_cookies: dict[str, str]
    bob_csrf: str


def household(server: LiveServer, clip: Path) -> Household:
    """Set up ``Household`` on ``server`` over HTTP, as the two residents would."""
    with (
        httpx.Client(base_url=server.url, timeout=30) as ada,
        httpx.Client(base_url=server.url, timeout=30) as bob,
    ):
        csrf = resident(cast(Any, ada))
        camera = _camera(cast(Any, ada), csrf)
        token = _pair(cast(Any, ada), csrf, camera["id"])
        uploaded = _upload(cast(Any, ada), token, clip.read_bytes())
        assert uploaded.status_code == 201, uploaded.text
        bob_csrf = resident(cast(Any, bob), "bob@example.org", display_name="Bob")
        invited = ada.post(
            f"/api/v1/cameras/{camera['id']}/household",
            json={"email": "bob@example.org"},
            headers={"x-csrf-token": csrf},
        )
        assert invited.status_code == 202, invited.text
        accept_invitations(cast(Any, bob), bob_csrf, invited)
        return Household(
            camera["id"], uploaded.json()["id"], dict(ada.cookies), dict(bob.cookies), bob_csrf
        )


def test_snapshots_fetched_at_once_each_append_an_entry(settings: Settings, tmp_path: Path) -> None:
    with serve(settings.model_copy(update={"port": free_port()})) as server:
        home = household(server, tiny_clip(tmp_path / "clip.mp4"))
        state = server.state
        with state.db.session() as db:
            before = audit.tree_head_size(db)

        def fetch(_: int) -> int:
            with httpx.Client(base_url=server.url, cookies=home.bob_cookies, timeout=60) as bob:
                return bob.get(f"/api/v1/clips/{home.clip_id}/snapshot").status_code

        with ThreadPoolExecutor(AT_ONCE) as pool:
            statuses = list(pool.map(fetch, range(AT_ONCE)))
        assert statuses == [200] * AT_ONCE

        with state.db.session() as db:
            size = audit.tree_head_size(db)
            seqs = list(db.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        # One entry per look, numbered without a gap or a repeat, and the state agrees.
        assert size == before + AT_ONCE
        assert seqs == list(range(size))
        with httpx.Client(base_url=server.url, timeout=30) as anyone:
            report = verify_server(cast(Any, anyone))
        assert report.ok, report.problem
        assert report.size == size
