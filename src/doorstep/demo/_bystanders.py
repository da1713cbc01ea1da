"""The demo's bystander request: someone who walked past on the evening of the theft asks."""

from __future__ import annotations

from doorstep.bystanders import service as bystanders
from doorstep.bystanders.rules import BystanderDraft
from doorstep.demo._story import Times
from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import Circle
from doorstep.platform.http.state import AppState

#: The area the passer-by draws around where they walked, in metres.
BYSTANDER_RADIUS_M = 150
BYSTANDER_DESCRIPTION = "Blue raincoat, pushing a pram"


def ask_as_a_bystander(state: AppState, times: Times, centre: Coordinates) -> None:
    """A stranger, with no account, asks owners near the centre to blur footage of them (once)."""
    with state.db.session() as db:
        if bystanders.has_requests(db):
            return
        start, end = times.rfa_window
        draft = BystanderDraft(
            Circle(centre, BYSTANDER_RADIUS_M), start, end, BYSTANDER_DESCRIPTION
        )
        bystanders.create_request(db, state, draft)
