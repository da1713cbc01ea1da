"""The demo's lost pet: Sam's dog went missing this morning; Avery's camera saw an animal.

Avery (the demo owner) finds the notice on their Lost pets page with the one clip of theirs that
shows an animal, and nothing is shared until they click; Sam sees only what Avery shares.
"""

from __future__ import annotations

from datetime import timedelta

from doorstep.demo._cast import account_by_email, camera_named, user_by_id
from doorstep.demo._footage import Footage
from doorstep.demo._story import Cast, Times
from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import Circle
from doorstep.pets import service as pets
from doorstep.pets.rules import NoticeDraft
from doorstep.platform.http.state import AppState

#: The demo's neighbour without a camera (``run.DEMO_LOGINS``), who lost the dog.
POSTER_EMAIL = "neighbour@demo.doorstep.test"
RADIUS_M = 250.0


def record_lost_pet(
    state: AppState, cast: Cast, times: Times, centre: Coordinates, footage: Footage
) -> None:
    """Sam posts a notice for the last hours; Avery's front door saw an animal then."""
    with state.db.session() as db:
        poster = account_by_email(db, POSTER_EMAIL)
        mine, _near = pets.list_notices(db, poster)
        if mine:
            return
        start, end = times.hour - timedelta(hours=6), times.hour - timedelta(hours=1)
        draft = NoticeDraft(
            species="dog",
            name="Biscuit",
            description="Small brown terrier with a red collar; shy, answers to Biscuit.",
            area=Circle(centre, RADIUS_M),
            start=start,
            end=end,
        )
        pets.post_notice(
            db,
            state.blobs,
            poster,
            draft,
            cell_resolution=state.settings.public_cell_resolution,
        )
        camera = camera_named(user_by_id(db, cast.owner), "Front door")
        footage.clip(db, camera, start + timedelta(hours=2, minutes=7), seed=62, label="animal")
