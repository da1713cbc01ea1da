"""Neighbors pages: the feed, its map, posts, the guidelines, moderation, messages and tips.

Moderation pages are in ``pages_moderation``, messages and tips in ``pages_relay``; their routes
are served by this module's router.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.errors import DoorstepError
from doorstep.maps import service as maps
from doorstep.neighbors import _pages as layout
from doorstep.neighbors import (
    pages_moderation,
    pages_relay,
    service,
    service_feed,
    service_moderation,
    service_relay,
)
from doorstep.neighbors._feed_map import MAP_SIZE, map_shapes, street_map_cells
from doorstep.neighbors._pages import LongText, ShortText
from doorstep.neighbors.rules import (
    DEFAULT_RADIUS_MILES,
    MAX_PHOTO_BYTES,
    MAX_RADIUS_MILES,
    MIN_RADIUS_MILES,
    RACE_ONLY_EXPLANATION,
    is_reviewer,
)
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.middleware import body_limit
from doorstep.platform.http.render import render

router = APIRouter(include_in_schema=False)

Radius = Annotated[
    float,
    Query(ge=MIN_RADIUS_MILES, le=MAX_RADIUS_MILES, allow_inf_nan=False),
]
CategoryFilter = Annotated[str, Query(max_length=40)]
RADIUS_CHOICES = (0.5, 1.0, 2.0, 3.0, 5.0)


@router.get("/feed")
def feed_page(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    radius: Radius = DEFAULT_RADIUS_MILES,
    category: CategoryFilter = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The feed around home, newest first, with its filters."""
    if principal is None:
        return layout.login(request)
    user = principal.user
    context: dict[str, Any] = {
        "radius": radius,
        "category": category,
        "radius_choices": RADIUS_CHOICES,
    }
    if user.home_cell is None:
        return layout.page(request, principal, "feed.html", {**context, "no_home": True})
    page = service_feed.read_feed_page(
        db,
        user,
        state.settings,
        service_feed.feed_windows(state),
        radius=radius,
        category=category or None,
        cursor=cursor or None,
    )
    older = None
    if page.next_cursor:
        older = "/feed?" + urlencode(
            {"radius": radius, "category": category, "cursor": page.next_cursor}
        )
    return layout.page(request, principal, "feed.html", {**context, "page": page, "older": older})


@router.get("/feed/map")
def feed_map_page(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    radius: Radius = DEFAULT_RADIUS_MILES,
    category: CategoryFilter = "",
) -> Response:
    """The feed as a map of cells, drawn here as SVG: no tiles, nothing from elsewhere."""
    if principal is None:
        return layout.login(request)
    context: dict[str, Any] = {
        "radius": radius,
        "category": category,
        "radius_choices": RADIUS_CHOICES,
        "size": MAP_SIZE,
    }
    if principal.user.home_cell is None:
        return layout.page(request, principal, "feed_map.html", {**context, "no_home": True})
    found = service_feed.feed_map(db, principal.user, state.settings, radius, category or None)
    shapes = map_shapes(found.centre, found.cells, found.counts)
    busy = sorted((s for s in shapes if s["count"]), key=lambda s: -int(s["count"]))
    extra: dict[str, Any] = {"shapes": shapes, "busy": busy, "map_geo": street_map_cells(shapes)}
    extra["base_map"] = maps.base_map(state.settings)
    return layout.page(request, principal, "feed_map.html", {**context, **extra})


@router.get("/guidelines")
def guidelines_page(request: Request, principal: OptionalPrincipal) -> Response:
    """The community guidelines for Neighbors."""
    request.state.principal = principal
    return render(request, "guidelines.html", {"race_only": RACE_ONLY_EXPLANATION})


# --- posting -------------------------------------------------------------------------------------


@router.get("/posts/new")
def new_post_page(request: Request, principal: OptionalPrincipal) -> Response:
    """The form for a new post."""
    if principal is None:
        return layout.login(request)
    return layout.page(request, principal, "post_new.html", {"form": {}})


async def _photo_bytes(photo: UploadFile | None) -> bytes | None:
    if photo is None or not photo.filename:
        return None
    return await photo.read(MAX_PHOTO_BYTES + 1)


@router.post("/posts/new", openapi_extra=body_limit(MAX_PHOTO_BYTES + 64 * 1024))
async def create_post(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    text: LongText,
    category: Annotated[str, Form(max_length=40)],
    contact_opt_in: Annotated[str, Form(max_length=10)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Publish a post; on a refusal the form comes back with the text kept and the reason."""
    if principal is None:
        return layout.login(request)
    form = {"text": text, "category": category, "contact_opt_in": bool(contact_opt_in)}
    try:
        data = await _photo_bytes(photo)
        # The photo is checked before anything is written, so a bad file stores nothing; the
        # decoding and the database block, so they run off the event loop.
        post = await run_in_threadpool(
            service.publish_post,
            db,
            state.blobs,
            principal.user,
            state.settings,
            text=text,
            category=category,
            contact_opt_in=bool(contact_opt_in),
            photo=data,
        )
    except DoorstepError as err:
        error = layout.form_error(err)
        db.rollback()
        headers = None
        context = {
            "form": form,
            "error": error,
            "race_only": error.extra.get("reason") == "race_only",
        }
        if "retry_after" in error.extra:
            headers = {"Retry-After": str(error.extra["retry_after"])}
        request.state.principal = principal
        shared = {"category_names": layout.CATEGORY_NAMES}
        return render(
            request, "post_new.html", {**shared, **context}, status=error.status, headers=headers
        )
    return layout.see_other(f"/posts/{post.id}?posted=1")


# --- one post ------------------------------------------------------------------------------------


def _post_page(
    request: Request,
    principal: Principal,
    db: DbDep,
    post_id: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    detail = service.read_post(db, post_id, principal.user)
    context = {"post": detail, "is_reviewer": is_reviewer(principal.user), **extra}
    return layout.page(request, principal, "post_detail.html", context, status=status)


@router.get("/posts/{post_id}")
def post_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, posted: int = 0
) -> Response:
    """A post, its comments and what one can do with it."""
    if principal is None:
        return layout.login(request)
    notice = "Posted. Neighbours nearby can see it now." if posted else None
    return _post_page(request, principal, db, post_id, notice=notice)


def _act_on_post(
    request: Request,
    principal: Principal,
    db: DbDep,
    post_id: str,
    error_slot: str,
    notice: str,
    action: Any,
) -> Response:
    post = service.get_post(db, post_id, principal.user)
    try:
        action(post)
    except DoorstepError as err:
        db.rollback()
        return _post_page(
            request,
            principal,
            db,
            post_id,
            status=err.status,
            **{error_slot: layout.form_error(err)},
        )
    return _post_page(request, principal, db, post_id, notice=notice)


@router.post("/posts/{post_id}/comment")
def comment(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, text: ShortText
) -> Response:
    """Add a comment."""
    if principal is None:
        return layout.login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "comment_error",
        "Comment added.",
        lambda post: service.add_comment(db, post, principal.user, text),
    )


@router.post("/posts/{post_id}/helpful")
def helpful(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    post_id: str,
    on: Annotated[str, Form(max_length=5)] = "1",
) -> Response:
    """Mark or unmark a post helpful."""
    if principal is None:
        return layout.login(request)
    mark = on == "1"
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "action_error",
        "Marked helpful." if mark else "Helpful mark removed.",
        lambda post: service.mark_helpful(db, post, principal.user, mark),
    )


@router.post("/posts/{post_id}/follow")
def follow(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    post_id: str,
    on: Annotated[str, Form(max_length=5)] = "1",
) -> Response:
    """Follow or unfollow a post."""
    if principal is None:
        return layout.login(request)
    following = on == "1"
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "action_error",
        "Following this post." if following else "No longer following.",
        lambda post: service.follow(db, post, principal.user, following),
    )


@router.post("/posts/{post_id}/report")
def report_post(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, reason: ShortText
) -> Response:
    """Report a post to the reviewers."""
    if principal is None:
        return layout.login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "report_error",
        "Thanks. A reviewer will look at this post.",
        lambda post: service_moderation.report(db, post, principal.user, reason),
    )


@router.post("/posts/{post_id}/comments/{comment_id}/report")
def report_comment(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    post_id: str,
    comment_id: str,
    reason: ShortText,
) -> Response:
    """Report a comment to the reviewers."""
    if principal is None:
        return layout.login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "report_error",
        "Thanks. A reviewer will look at this comment.",
        lambda post: service_moderation.report(
            db, post, principal.user, reason, service.comment_of(db, post, comment_id)
        ),
    )


@router.post("/posts/{post_id}/appeal")
def appeal(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, text: ShortText
) -> Response:
    """Appeal a removal, once."""
    if principal is None:
        return layout.login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "appeal_error",
        "Appeal sent. A different look will be taken at your post.",
        lambda post: service_moderation.appeal(db, post, principal.user, text),
    )


@router.post("/posts/{post_id}/message")
def message_author(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, text: ShortText
) -> Response:
    """Write to the author through Doorstep."""
    if principal is None:
        return layout.login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "message_error",
        "Message sent through Doorstep. Replies arrive in your messages.",
        lambda post: service_relay.send_to_author(db, post, principal.user, text),
    )


# Registered after this module's own routes, in the order they always had.
router.include_router(pages_moderation.router)
router.include_router(pages_relay.router)
