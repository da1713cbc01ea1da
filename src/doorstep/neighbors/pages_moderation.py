"""Neighbors moderation pages: the reviewers' queue and their keep-or-remove decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.errors import DoorstepError, Forbidden
from doorstep.neighbors import _pages as layout
from doorstep.neighbors import service, service_moderation
from doorstep.neighbors._pages import ShortText
from doorstep.neighbors.rules import is_reviewer
from doorstep.platform.http.deps import DbDep

router = APIRouter(include_in_schema=False)


def _reviewer(principal: Principal) -> None:
    if not is_reviewer(principal.user):
        raise Forbidden("only reviewers can open the moderation queue")


def _queue_page(
    request: Request, principal: Principal, db: DbDep, status: int = 200, **extra: Any
) -> Response:
    _reviewer(principal)
    items = service_moderation.queue(db, principal.user)
    return layout.page(
        request, principal, "moderation.html", {"items": items, **extra}, status=status
    )


@router.get("/moderation")
def moderation_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """The reviewers' queue: held, reported and appealed posts."""
    if principal is None:
        return layout.login(request)
    return _queue_page(request, principal, db)


@router.post("/moderation/posts/{post_id}")
def decide_post(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    post_id: str,
    decision: Annotated[str, Form(max_length=10)],
    reason: ShortText,
) -> Response:
    """Keep or remove a post, with a reason."""
    if principal is None:
        return layout.login(request)
    _reviewer(principal)
    post = service.get_post(db, post_id, principal.user)
    try:
        service_moderation.decide_post(db, post, principal.user, decision, reason)
    except DoorstepError as err:
        return _queue_page(request, principal, db, status=err.status, error=layout.form_error(err))
    return _queue_page(request, principal, db, notice=f"Decision recorded: {decision}.")


@router.post("/moderation/posts/{post_id}/comments/{comment_id}")
def decide_comment(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    post_id: str,
    comment_id: str,
    decision: Annotated[str, Form(max_length=10)],
    reason: ShortText,
) -> Response:
    """Keep or remove a reported comment, with a reason."""
    if principal is None:
        return layout.login(request)
    _reviewer(principal)
    post = service.get_post(db, post_id, principal.user)
    try:
        comment = service.comment_of(db, post, comment_id)
        service_moderation.decide_comment(db, comment, principal.user, decision, reason)
    except DoorstepError as err:
        return _queue_page(request, principal, db, status=err.status, error=layout.form_error(err))
    return _queue_page(request, principal, db, notice=f"Decision recorded: {decision}.")
