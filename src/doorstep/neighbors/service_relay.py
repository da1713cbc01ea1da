"""Neighbors messages: relay messages about posts, tips to agencies, and agency alerts.

A relay message never shows either side's name or email; a tip keeps its sender only when they
reveal themselves; an alert reaches only homes inside the posting agency's jurisdiction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import AGENCY_STAFF
from doorstep.agencies import store as agencies
from doorstep.errors import Forbidden, InvalidInput, NotFound, PolicyRefused
from doorstep.geo import reach
from doorstep.geo.cells import FINEST_PUBLIC_RESOLUTION
from doorstep.neighbors import store
from doorstep.neighbors._public import alert_public, message_public
from doorstep.neighbors.models import AgencyAlert, Post, PostStatus, RelayMessage, Tip
from doorstep.neighbors.rules import (
    MAX_AGENCY_ID_LENGTH,
    MAX_AGENCY_NAME_LENGTH,
    MAX_ALERT_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_TIP_LENGTH,
    clean_text,
    refuse_race_only,
)
from doorstep.neighbors.schemas import AlertPublic, MessagePublic
from doorstep.neighbors.service import get_post, home_cell
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.types import utcnow
from doorstep.requests.rules import is_about_assembly
from doorstep.settings import Settings


def send_to_author(db: Session, post: Post, sender: User, text: str) -> RelayMessage:
    """Message a post's author through Doorstep, if they opted in to contact."""
    if post.author_id == sender.id:
        raise InvalidInput("this is your own post")
    if not post.contact_opt_in or post.status != PostStatus.VISIBLE.value:
        raise Forbidden("the author of this post did not ask to be contacted")
    clean = clean_text(text, field="text", limit=MAX_MESSAGE_LENGTH, what="a message")
    return store.add_message(db, post.id, sender.id, post.author_id, clean)


def message_author(db: Session, post_id: str, sender: User, text: str) -> MessagePublic:
    """Write to a post's author through Doorstep."""
    message = send_to_author(db, get_post(db, post_id, sender), sender, text)
    return message_public(message, sender)


def reply(db: Session, message_id: str, sender: User, text: str) -> RelayMessage:
    """Answer a message one received; the reply goes back to its sender."""
    original = store.find_message(db, message_id)
    if original is None or original.recipient_id != sender.id:
        raise NotFound("no such message")
    clean = clean_text(text, field="text", limit=MAX_MESSAGE_LENGTH, what="a message")
    return store.add_message(db, original.post_id, sender.id, original.sender_id, clean)


def reply_to(db: Session, message_id: str, sender: User, text: str) -> MessagePublic:
    """Answer a message, as the sender sees the answer."""
    return message_public(reply(db, message_id, sender, text), sender)


def inbox(db: Session, user: User, limit: int = 100) -> list[RelayMessage]:
    """Messages the user sent or received, newest first; received ones are marked read."""
    return store.inbox(db, user, utcnow(), limit)


def messages(db: Session, user: User) -> list[MessagePublic]:
    """The user's relay messages, newest first, from their side."""
    return [message_public(m, user) for m in inbox(db, user)]


# --- tips and agency alerts ----------------------------------------------------------------------


def send_tip(db: Session, sender: User, agency_id: str, text: str, *, reveal: bool) -> Tip:
    """Send a tip to an agency; anonymous unless ``reveal``, and then nothing ties it to anyone."""
    agency = agency_id.strip()
    if not agency or len(agency) > MAX_AGENCY_ID_LENGTH:
        raise InvalidInput("name the agency the tip is for", field="agency_id")
    clean = clean_text(text, field="text", limit=MAX_TIP_LENGTH, what="a tip")
    refuse_race_only(clean)
    row = Tip(
        agency_id=agency,
        text=clean,
        identity_revealed=reveal,
        sender_id=sender.id if reveal else None,
        sender_name=sender.display_name if reveal else None,
    )
    return store.add_tip(db, row)


def tips_for_agency(db: Session, agency_id: str) -> list[Tip]:
    """The tips sent to an agency, newest first."""
    return store.tips_for_agency(db, agency_id)


def post_alert(
    db: Session,
    author: User,
    *,
    agency_name: str,
    jurisdiction: dict[str, Any],
    text: str,
    cells: Sequence[str],
    cell_resolution: int,
) -> AgencyAlert:
    """Post an agency alert to the residents of ``cells``, each inside ``jurisdiction``.

    A cell reaching any home outside the agency's jurisdiction is refused (``Forbidden``):
    see ``geo.reach``, which also bounds the cells' resolution and number.
    """
    if author.role not in AGENCY_STAFF:
        raise Forbidden("only agency accounts post alerts")
    name = " ".join(agency_name.split())
    if not name or len(name) > MAX_AGENCY_NAME_LENGTH:
        raise InvalidInput("name the agency (1 to 120 characters)", field="agency_name")
    clean = clean_text(text, field="text", limit=MAX_ALERT_LENGTH, what="an alert")
    refuse_race_only(clean)
    covered = reach.check_alert_cells(
        cells, jurisdiction, min(cell_resolution, FINEST_PUBLIC_RESOLUTION)
    )
    alert = AgencyAlert(author_id=author.id, agency_name=name, text=clean, cells=covered)
    return store.add_alert(db, alert)


def alerts_for(db: Session, home_cell: str, limit: int = 10) -> list[AgencyAlert]:
    """Alerts covering ``home_cell``, newest first."""
    return store.alerts_for(db, home_cell, limit)


def residents_covered(db: Session, alert: AgencyAlert, cell_resolution: int) -> list[str]:
    """Ids of the accounts whose home cell lies in the alert's cells, to tell them live."""
    return store.residents_covered(db, alert, cell_resolution)


def alerts_at_home(db: Session, user: User, settings: Settings) -> list[AlertPublic]:
    """Agency alerts covering the user's home."""
    return [alert_public(a) for a in store.alerts_for(db, home_cell(user, settings))]


def check_alert(text: str) -> None:
    """Alerts follow the request policy too: never about assemblies (cells: ``post_alert``)."""
    if is_about_assembly(text):
        raise PolicyRefused(
            "alerts about protests, strikes or other lawful assembly are not allowed",
            field="text",
            extra={"reason": "protest"},
        )


def publish_alert(
    db: Session, author: User, settings: Settings, *, text: str, cells: Sequence[str]
) -> AlertPublic:
    """Post an alert as the author's agency and tell every resident it covers, after commit."""
    agency = agencies.agency_of(db, author)
    check_alert(text)
    alert = post_alert(
        db,
        author,
        agency_name=agency.name,
        jurisdiction=agency.jurisdiction,
        text=text,
        cells=cells,
        cell_resolution=settings.public_cell_resolution,
    )
    public = alert_public(alert)
    event = {"type": "agency_alert", "alert": public.model_dump(mode="json")}
    for resident_id in store.residents_covered(db, alert, settings.public_cell_resolution):
        notify_after_commit(db, resident_id, event)
    return public
