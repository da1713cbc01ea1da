"""Notices beyond the open page and the push: email for legal notices, Apprise for all of them.

``echo`` is called with every event queued for an account (``platform.bus.memory.ECHOES``) in
its transaction; it only sends jobs after the commit (``NOTICE_MAIL``, ``NOTICE_APPRISE``), so
neither a relay nor a target ever holds up the request that made the event.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts import service as accounts
from doorstep.accounts import service_email, service_targets
from doorstep.notify.rules import Kind, push_for
from doorstep.platform.mail import Letter
from doorstep.platform.queue.core import send_after_commit
from doorstep.platform.types import utcnow
from doorstep.settings import Settings

#: Mail one legal notice to the account's proven address.
NOTICE_MAIL = "notice_mail"
#: Send one notice to one Apprise target.
NOTICE_APPRISE = "notice_apprise"

_BASIS = {
    "legal_demand": "a legal demand (a warrant or court order) that a reviewer recorded and "
    "checked against its scope",
    "emergency": "an emergency request approved by two reviewers; you are told now that it is over",
}


def _text(value: object, limit: int = 120) -> str:
    return str(value)[:limit] if isinstance(value, str | int) else ""


def is_legal_notice(event: dict[str, Any]) -> bool:
    """A notice that footage was disclosed (not a later view or download of it)."""
    detail = event.get("disclosure")
    return event.get("type") == "disclosure" and isinstance(detail, dict) and "basis" in detail


def notice_text(event: dict[str, Any], now: str) -> tuple[str, str] | None:
    """The title and line an Apprise target gets for an event: those of its push, if it has one.

    Not for a ring someone answered: a push replaces the ring's notification under its tag, but
    a text message or a chat line cannot be taken back, so it would only be a second message.
    """
    push = push_for(event, now)
    if push is None or push.kind is Kind.ANSWERED:
        return None
    return (push.title, push.body)


def echo(db: Session, account_id: str, event: dict[str, Any]) -> None:
    """Send the event's email and Apprise jobs after the commit, if it makes any."""
    if is_legal_notice(event):
        compact = {
            "disclosure": {
                k: event["disclosure"].get(k) for k in ("basis", "agency_name", "what", "url")
            }
        }
        send_after_commit(db, NOTICE_MAIL, account_id, json.dumps(compact))
    text = notice_text(event, utcnow().isoformat())
    if text is None:
        return
    for target_id in service_targets.target_ids(db, account_id):
        send_after_commit(db, NOTICE_APPRISE, target_id, *text)


def notice_letter(db: Session, settings: Settings, account_id: str, notice: str) -> Letter | None:
    """The legal notice's mail, or None when the account has no proven address (or is gone)."""
    user = accounts.find_user(db, account_id)
    if user is None or user.email_verified_at is None:
        return None
    detail = json.loads(notice).get("disclosure", {})
    agency = _text(detail.get("agency_name"), 80) or "an agency"
    basis = _text(detail.get("basis"), 20)
    base = service_email.base_url(settings)
    url = detail.get("url")
    # A path of ours only: "@evil.example/x" after the base would be a link to another host.
    if not isinstance(url, str) or not url.startswith("/") or url[1:2] in ("/", "\\"):
        url = "/disclosures/legal"
    subject = (
        "An emergency disclosure of your footage is over"
        if basis == "emergency"
        else f"Your footage was disclosed to {agency}"
    )
    text = (
        f"Footage from your Doorstep cameras was disclosed to {agency}.\n\n"
        f"Why: {_BASIS.get(basis, basis or 'see the page below')}.\n"
        + (f"What: {_text(detail.get('what'), 200)}\n" if detail.get("what") else "")
        + "\nDoorstep tells you of every disclosure of your footage; a court may delay the notice "
        "only by an order with an end date, and you are told when it ends.\n\n"
        f"Every disclosure, with its details:\n\n  {base}{url}\n"
        f"\n-- \nDoorstep at {base}\n"
    )
    return Letter(user.email, subject, text)
