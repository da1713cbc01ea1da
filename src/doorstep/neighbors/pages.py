"""Neighbors pages: the feed, its map, posts, the guidelines, moderation, messages and tips."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import h3
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from doorstep.errors import DoorstepError, Forbidden, NotFound
from doorstep.neighbors import api as neighbors
from doorstep.neighbors import store as feed
from doorstep.neighbors.models import Comment, Post
from doorstep.neighbors.rules import RACE_ONLY_EXPLANATION, PostCategory
from doorstep.platform.http.deps import DbDep, OptionalPrincipal, Principal, StateDep
from doorstep.platform.http.render import render

router = APIRouter(include_in_schema=False)

LongText = Annotated[str, Form(max_length=20_000)]
ShortText = Annotated[str, Form(max_length=2_000)]
Radius = Annotated[
    float,
    Query(ge=feed.MIN_RADIUS_MILES, le=feed.MAX_RADIUS_MILES, allow_inf_nan=False),
]
CategoryFilter = Annotated[str, Query(max_length=40)]
RADIUS_CHOICES = (0.5, 1.0, 2.0, 3.0, 5.0)
CATEGORY_NAMES = {
    PostCategory.CRIME.value: "Crime",
    PostCategory.SAFETY.value: "Safety",
    PostCategory.SUSPICIOUS_ACTIVITY.value: "Suspicious activity",
    PostCategory.UNEXPECTED_VISITOR.value: "Unexpected visitor",
    PostCategory.LOST_PET.value: "Lost pet",
    PostCategory.FOUND_PET.value: "Found pet",
    PostCategory.NEIGHBORLY_MOMENT.value: "Neighbourly moment",
}
FILTER_NAMES = {**CATEGORY_NAMES, neighbors.ALERTS_FILTER: "Agency alerts"}
MAP_SIZE = 600
MAP_MARGIN = 12


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _login(request: Request) -> RedirectResponse:
    return _see_other("/login?next=" + quote(request.url.path))


def _page(
    request: Request,
    principal: Principal,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    request.state.principal = principal
    shared = {"category_names": CATEGORY_NAMES, "filter_names": FILTER_NAMES}
    return render(request, template, {**shared, **context}, status=status)


def _form_error(err: DoorstepError) -> DoorstepError:
    # Server faults are not form mistakes: let the one handler show them.
    if err.status >= 500:
        raise err
    return err


@router.get("/feed")
def feed_page(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    radius: Radius = feed.DEFAULT_RADIUS_MILES,
    category: CategoryFilter = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The feed around home, newest first, with its filters."""
    if principal is None:
        return _login(request)
    user = principal.user
    context: dict[str, Any] = {
        "radius": radius,
        "category": category,
        "radius_choices": RADIUS_CHOICES,
    }
    if user.home_cell is None:
        return _page(request, principal, "feed.html", {**context, "no_home": True})
    page = neighbors.read_feed_page(
        db, user, state.settings, radius=radius, category=category or None, cursor=cursor or None
    )
    older = None
    if page.next_cursor:
        older = "/feed?" + urlencode(
            {"radius": radius, "category": category, "cursor": page.next_cursor}
        )
    return _page(request, principal, "feed.html", {**context, "page": page, "older": older})


def _map_shapes(centre: str, cells: list[str], counts: dict[str, int]) -> list[dict[str, Any]]:
    """Hexagons of ``cells`` projected around ``centre`` into the map's pixel box."""
    lat0, lon0 = h3.cell_to_latlng(centre)
    squeeze = math.cos(math.radians(lat0))
    outlines = {
        cell: [((lon - lon0) * squeeze, lat0 - lat) for lat, lon in h3.cell_to_boundary(cell)]
        for cell in cells
    }
    xs = [x for outline in outlines.values() for x, _ in outline]
    ys = [y for outline in outlines.values() for _, y in outline]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    scale = (MAP_SIZE - 2 * MAP_MARGIN) / span
    shapes = []
    for cell, outline in outlines.items():
        count = counts.get(cell, 0)
        level = 0 if count == 0 else 1 if count == 1 else 2 if count < 5 else 3 if count < 10 else 4
        # One decimal of a pixel: the drawing is only as fine as the cell outlines it shows.
        points = " ".join(
            f"{MAP_MARGIN + (x - min(xs)) * scale:.1f},{MAP_MARGIN + (y - min(ys)) * scale:.1f}"
            for x, y in outline
        )
        shapes.append(
            {"cell": cell, "count": count, "level": level, "points": points, "home": cell == centre}
        )
    return shapes


@router.get("/feed/map")
def feed_map_page(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    radius: Radius = feed.DEFAULT_RADIUS_MILES,
    category: CategoryFilter = "",
) -> Response:
    """The feed as a map of cells, drawn here as SVG: no tiles, nothing from elsewhere."""
    if principal is None:
        return _login(request)
    context: dict[str, Any] = {
        "radius": radius,
        "category": category,
        "radius_choices": RADIUS_CHOICES,
        "size": MAP_SIZE,
    }
    if principal.user.home_cell is None:
        return _page(request, principal, "feed_map.html", {**context, "no_home": True})
    centre = neighbors.home_cell(principal.user, state.settings)
    cells = feed.feed_cells(centre, radius)
    counts = feed.cell_counts(db, cells, feed.parse_category(category or None))
    shapes = _map_shapes(centre, cells, counts)
    busy = sorted((s for s in shapes if s["count"]), key=lambda s: -int(s["count"]))
    return _page(request, principal, "feed_map.html", {**context, "shapes": shapes, "busy": busy})


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
        return _login(request)
    return _page(request, principal, "post_new.html", {"form": {}})


async def _photo_bytes(photo: UploadFile | None) -> bytes | None:
    if photo is None or not photo.filename:
        return None
    return await photo.read(neighbors.MAX_PHOTO_BYTES + 1)


@router.post("/posts/new")
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
        return _login(request)
    form = {"text": text, "category": category, "contact_opt_in": bool(contact_opt_in)}
    try:
        data = await _photo_bytes(photo)
        # The photo is checked before anything is written, so a bad file stores nothing.
        clean = neighbors.clean_upload(data) if data is not None else None
        post = feed.create_post(
            db,
            principal.user,
            text=text,
            category=category,
            cell_resolution=state.settings.public_cell_resolution,
            contact_opt_in=bool(contact_opt_in),
        )
        if clean is not None:
            neighbors.store_photo(neighbors.photo_store(request), post, clean)
    except DoorstepError as err:
        error = _form_error(err)
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
        shared = {"category_names": CATEGORY_NAMES}
        return render(
            request, "post_new.html", {**shared, **context}, status=error.status, headers=headers
        )
    return _see_other(f"/posts/{post.id}?posted=1")


# --- one post ------------------------------------------------------------------------------------


def _post_page(
    request: Request,
    principal: Principal,
    db: Session,
    post_id: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    post = feed.get_post(db, post_id, principal.user)
    detail = neighbors.post_detail(db, post, principal.user)
    context = {"post": detail, "is_reviewer": feed.is_reviewer(principal.user), **extra}
    return _page(request, principal, "post_detail.html", context, status=status)


@router.get("/posts/{post_id}")
def post_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, posted: int = 0
) -> Response:
    """A post, its comments and what one can do with it."""
    if principal is None:
        return _login(request)
    notice = "Posted. Neighbours nearby can see it now." if posted else None
    return _post_page(request, principal, db, post_id, notice=notice)


def _act_on_post(
    request: Request,
    principal: Principal,
    db: Session,
    post_id: str,
    error_slot: str,
    notice: str,
    action: Any,
) -> Response:
    post = feed.get_post(db, post_id, principal.user)
    try:
        action(post)
    except DoorstepError as err:
        db.rollback()
        return _post_page(
            request, principal, db, post_id, status=err.status, **{error_slot: _form_error(err)}
        )
    return _post_page(request, principal, db, post_id, notice=notice)


@router.post("/posts/{post_id}/comment")
def comment(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, text: ShortText
) -> Response:
    """Add a comment."""
    if principal is None:
        return _login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "comment_error",
        "Comment added.",
        lambda post: feed.add_comment(db, post, principal.user, text),
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
        return _login(request)
    mark = on == "1"
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "action_error",
        "Marked helpful." if mark else "Helpful mark removed.",
        lambda post: feed.mark_helpful(db, post, principal.user, mark),
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
        return _login(request)
    following = on == "1"
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "action_error",
        "Following this post." if following else "No longer following.",
        lambda post: feed.follow(db, post, principal.user, following),
    )


@router.post("/posts/{post_id}/report")
def report_post(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, reason: ShortText
) -> Response:
    """Report a post to the reviewers."""
    if principal is None:
        return _login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "report_error",
        "Thanks. A reviewer will look at this post.",
        lambda post: feed.report(db, post, principal.user, reason),
    )


def _comment_of(db: Session, post: Post, comment_id: str) -> Comment:
    found = db.get(Comment, comment_id)
    if found is None or found.post_id != post.id:
        raise NotFound("no such comment")
    return found


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
        return _login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "report_error",
        "Thanks. A reviewer will look at this comment.",
        lambda post: feed.report(
            db, post, principal.user, reason, _comment_of(db, post, comment_id)
        ),
    )


@router.post("/posts/{post_id}/appeal")
def appeal(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, text: ShortText
) -> Response:
    """Appeal a removal, once."""
    if principal is None:
        return _login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "appeal_error",
        "Appeal sent. A different look will be taken at your post.",
        lambda post: feed.appeal(db, post, principal.user, text),
    )


@router.post("/posts/{post_id}/message")
def message_author(
    request: Request, principal: OptionalPrincipal, db: DbDep, post_id: str, text: ShortText
) -> Response:
    """Write to the author through Doorstep."""
    if principal is None:
        return _login(request)
    return _act_on_post(
        request,
        principal,
        db,
        post_id,
        "message_error",
        "Message sent through Doorstep. Replies arrive in your messages.",
        lambda post: feed.send_to_author(db, post, principal.user, text),
    )


# --- moderation ----------------------------------------------------------------------------------


def _reviewer(principal: Principal) -> None:
    if not feed.is_reviewer(principal.user):
        raise Forbidden("only reviewers can open the moderation queue")


def _queue_page(
    request: Request, principal: Principal, db: Session, status: int = 200, **extra: Any
) -> Response:
    _reviewer(principal)
    items = [neighbors.queue_item_public(i, principal.user) for i in feed.moderation_queue(db)]
    return _page(request, principal, "moderation.html", {"items": items, **extra}, status=status)


@router.get("/moderation")
def moderation_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """The reviewers' queue: held, reported and appealed posts."""
    if principal is None:
        return _login(request)
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
        return _login(request)
    _reviewer(principal)
    post = feed.get_post(db, post_id, principal.user)
    try:
        feed.decide_post(db, post, principal.user, decision, reason)
    except DoorstepError as err:
        return _queue_page(request, principal, db, status=err.status, error=_form_error(err))
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
        return _login(request)
    _reviewer(principal)
    post = feed.get_post(db, post_id, principal.user)
    try:
        feed.decide_comment(db, _comment_of(db, post, comment_id), principal.user, decision, reason)
    except DoorstepError as err:
        return _queue_page(request, principal, db, status=err.status, error=_form_error(err))
    return _queue_page(request, principal, db, notice=f"Decision recorded: {decision}.")


# --- messages and tips ---------------------------------------------------------------------------


def _messages_page(
    request: Request, principal: Principal, db: Session, status: int = 200, **extra: Any
) -> Response:
    rows = feed.inbox(db, principal.user)
    messages = [neighbors.message_public(m, principal.user) for m in rows]
    return _page(
        request, principal, "messages.html", {"messages": messages, **extra}, status=status
    )


@router.get("/messages")
def messages_page(request: Request, principal: OptionalPrincipal, db: DbDep) -> Response:
    """Relay messages about posts; nobody's email or name is shown."""
    if principal is None:
        return _login(request)
    return _messages_page(request, principal, db)


@router.post("/messages/{message_id}/reply")
def reply(
    request: Request, principal: OptionalPrincipal, db: DbDep, message_id: str, text: ShortText
) -> Response:
    """Answer a message."""
    if principal is None:
        return _login(request)
    try:
        feed.reply(db, message_id, principal.user, text)
    except DoorstepError as err:
        return _messages_page(request, principal, db, status=err.status, error=_form_error(err))
    return _messages_page(request, principal, db, notice="Reply sent.")


@router.get("/feed/tips")
def tip_page(request: Request, principal: OptionalPrincipal) -> Response:
    """The form for a tip to an agency."""
    if principal is None:
        return _login(request)
    return _page(request, principal, "feed_tip.html", {"form": {}})


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
        return _login(request)
    form = {"agency_id": agency_id, "text": text, "reveal_identity": bool(reveal_identity)}
    try:
        feed.send_tip(db, principal.user, agency_id, text, reveal=bool(reveal_identity))
    except DoorstepError as err:
        context = {"form": form, "error": _form_error(err)}
        return _page(request, principal, "feed_tip.html", context, status=err.status)
    return _page(request, principal, "feed_tip.html", {"form": {}, "sent": True})
