"""Neighbors relay pages: messages about posts and tips to agencies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.errors import DoorstepError
from doorstep.neighbors import _pages as layout
from doorstep.neighbors import service_relay
from doorstep.neighbors._pages import LongText, ShortText
from doorstep.platform.http.deps import DbDep

router = APIRouter(include_in_schema=False)


def _messages_page(
    request: Request, principal: Principal, db: DbDep, status: int = 200, **extra: Any
) -> Response:
    messages = service_relay.messages(db, principal.user)
    return layout.page(
        request, principal, "messages.html", {"messages": messages, **extra}, status=status
    )


@router.get("/messages")
def messages_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Relay messages about posts; nobody's email or name is shown."""
    if principal is None:
        return layout.login(request)
    return _messages_page(request, principal, db)


@router.post("/messages/{message_id}/reply")
def reply(
    request: Request, principal: OptionalPrincipal, db: DbDep, message_id: str, text: ShortText
) -> Response:
    """Answer a message."""
    if principal is None:
        return layout.login(request)
    try:
        service_relay.reply(db, message_id, principal.user, text)
    except DoorstepError as err:
        return _messages_page(
            request, principal, db, status=err.status, error=layout.form_error(err)
        )
    return _messages_page(request, principal, db, notice="Reply sent.")


@router.get("/feed/tips")
def tip_page(request: Request, principal: OptionalPrincipal) -> Response:
    """The form for a tip to an agency."""
    if principal is None:
        return layout.login(request)
    return layout.page(request, principal, "feed_tip.html", {"form": {}})


@router.post("/feed/tips")
def send_tip(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    agency_id: Annotated[str, Form(max_length=64)],
    text: LongText,
    reveal_identity: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Send a tip, anonymous unless the sender reveals themselves."""
    if principal is None:
        return layout.login(request)
    form = {"agency_id": agency_id, "text": text, "reveal_identity": bool(reveal_identity)}
    try:
        service_relay.send_tip(db, principal.user, agency_id, text, reveal=bool(reveal_identity))
    except DoorstepError as err:
        context = {"form": form, "error": layout.form_error(err)}
        return layout.page(request, principal, "feed_tip.html", context, status=err.status)
    return layout.page(request, principal, "feed_tip.html", {"form": {}, "sent": True})
