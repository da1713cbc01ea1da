"""Neighbors: the safety feed around home, posts, comments, moderation, relay, tips, alerts.

Every location in these responses is a public H3 cell and its centre (invariant I1).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from doorstep.accounts.auth import AgencyUser, CurrentUser, FeedWriter, ReviewerUser
from doorstep.geo.cells import Coordinates
from doorstep.neighbors import service, service_feed, service_moderation, service_relay
from doorstep.neighbors._public import tip_public
from doorstep.neighbors.rules import (
    DEFAULT_RADIUS_MILES,
    MAX_PAGE_SIZE,
    MAX_PHOTO_BYTES,
    MAX_RADIUS_MILES,
    MIN_RADIUS_MILES,
    PAGE_SIZE,
)
from doorstep.neighbors.schemas import (
    AlertCreate,
    AlertPublic,
    AppealCreate,
    CommentCreate,
    CommentPublic,
    DecisionCreate,
    DecisionPublic,
    FeedPublic,
    MessageCreate,
    MessagePublic,
    PostCreate,
    PostDetail,
    QueueItemPublic,
    ReportCreate,
    TipCreate,
    TipPublic,
    ToggleCreate,
)
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep, read_in_one_hop
from doorstep.platform.http.middleware import body_limit

router = APIRouter(prefix="/api/v1", tags=["neighbors"])

Radius = Annotated[
    float,
    Query(
        ge=MIN_RADIUS_MILES,
        le=MAX_RADIUS_MILES,
        allow_inf_nan=False,
        description="Miles around home.",
    ),
]


@router.get(
    "/feed", response_model=FeedPublic, responses=problems.responses(*problems.ONE_HOP_READ)
)
async def read_feed(
    request: Request,
    state: StateDep,
    radius: Radius = DEFAULT_RADIUS_MILES,
    category: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> Response:
    """Posts within ``radius`` miles of home, newest first, and agency alerts for home."""
    windows = service_feed.feed_windows(state)
    # The busiest read there is: one thread hop for all of it (see read_in_one_hop).
    return await read_in_one_hop(
        request,
        FeedPublic,
        lambda db, principal: service_feed.read_feed_page(
            db,
            principal.user,
            state.settings,
            windows,
            radius=radius,
            category=category,
            cursor=cursor,
            limit=limit,
        ),
    )


@router.get("/feed/map")
def feed_map(
    user: CurrentUser,
    db: DbDep,
    state: StateDep,
    radius: Radius = DEFAULT_RADIUS_MILES,
    category: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, int]:
    """Visible posts per cell within ``radius`` (cells only; never a finer position)."""
    return service_feed.feed_map(db, user, state.settings, radius, category).counts


@router.get("/feed/moderation")
def moderation_queue(user: ReviewerUser, db: DbDep) -> list[QueueItemPublic]:
    """Held, reported and appealed posts, for reviewers."""
    return service_moderation.queue(db, user)


@router.get("/feed/messages")
def list_messages(user: CurrentUser, db: DbDep) -> list[MessagePublic]:
    """The caller's relay messages, newest first."""
    return service_relay.messages(db, user)


@router.post("/feed/messages/{message_id}/replies", status_code=status.HTTP_201_CREATED)
def reply_to_message(
    message_id: str, body: MessageCreate, principal: FeedWriter, db: DbDep
) -> MessagePublic:
    """Answer a message; it goes back through Doorstep to whoever sent it."""
    return service_relay.reply_to(db, message_id, principal.user, body.text)


@router.post("/posts", status_code=status.HTTP_201_CREATED, responses=problems.responses(404, 429))
def create_post(body: PostCreate, principal: FeedWriter, db: DbDep, state: StateDep) -> PostDetail:
    """Publish a post at the cell of ``location`` or of home; add a photo with PUT .../photo."""
    location = Coordinates(body.location.lat, body.location.lon) if body.location else None
    return service.write_post(
        db,
        principal.user,
        text=body.text,
        category=body.category.value,
        location=location,
        cell_resolution=state.settings.public_cell_resolution,
        contact_opt_in=body.contact_opt_in,
        clip_id=body.clip_id,
    )


@router.get("/posts/{post_id}")
def read_post(post_id: str, user: CurrentUser, db: DbDep) -> PostDetail:
    """One post with its comments."""
    return service.read_post(db, post_id, user)


@router.put(
    "/posts/{post_id}/photo",
    responses=problems.responses(413, 415),
    openapi_extra=body_limit(MAX_PHOTO_BYTES + 64 * 1024),
)
async def upload_photo(
    post_id: str, request: Request, principal: FeedWriter, db: DbDep, state: StateDep
) -> PostDetail:
    """Attach a JPEG, PNG or WebP photo (at most 5 MB) to one's own post; metadata is removed."""
    data = await request.body()
    # Re-encoding the photo, the blob write and the database all block: off the event loop.
    return await run_in_threadpool(
        service.upload_photo, db, state.blobs, post_id, principal.user, data
    )


@router.get("/posts/{post_id}/photo", responses={200: {"content": {"image/jpeg": {}}}})
def read_photo(post_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> Response:
    """The post's photo, as cleaned on upload."""
    data = service.read_photo(db, state.blobs, post_id, user)
    return Response(
        data, media_type="image/jpeg", headers={"cache-control": "private, max-age=300"}
    )


@router.post(
    "/posts/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(409),
)
def create_comment(
    post_id: str, body: CommentCreate, principal: FeedWriter, db: DbDep
) -> CommentPublic:
    """Comment on a post."""
    return service.comment_on(db, post_id, principal.user, body.text)


@router.post("/posts/{post_id}/helpful")
def mark_helpful(post_id: str, body: ToggleCreate, principal: FeedWriter, db: DbDep) -> PostDetail:
    """Mark a post helpful (or take the mark back); one mark per account."""
    return service.set_helpful(db, post_id, principal.user, body.on)


@router.post("/posts/{post_id}/follow")
def follow_post(post_id: str, body: ToggleCreate, principal: FeedWriter, db: DbDep) -> PostDetail:
    """Follow a post (or stop following it)."""
    return service.set_following(db, post_id, principal.user, body.on)


@router.post(
    "/posts/{post_id}/reports",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(409),
)
def report_post(
    post_id: str, body: ReportCreate, principal: FeedWriter, db: DbDep
) -> dict[str, str]:
    """Report a post to the reviewers, with the reason."""
    row = service_moderation.report_post(db, post_id, principal.user, body.reason)
    return {"id": row.id, "status": "received"}


@router.post(
    "/posts/{post_id}/comments/{comment_id}/reports",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(409),
)
def report_comment(
    post_id: str, comment_id: str, body: ReportCreate, principal: FeedWriter, db: DbDep
) -> dict[str, str]:
    """Report a comment to the reviewers, with the reason."""
    row = service_moderation.report_post(db, post_id, principal.user, body.reason, comment_id)
    return {"id": row.id, "status": "received"}


@router.post(
    "/posts/{post_id}/appeal",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(409),
)
def appeal_post(post_id: str, body: AppealCreate, principal: FeedWriter, db: DbDep) -> PostDetail:
    """Appeal the removal of one's own post (once)."""
    return service_moderation.appeal_post(db, post_id, principal.user, body.text)


@router.post("/posts/{post_id}/decisions", status_code=status.HTTP_201_CREATED)
def decide_post(
    post_id: str, body: DecisionCreate, user: ReviewerUser, db: DbDep
) -> DecisionPublic:
    """Keep or remove a post, with the reason its author will see."""
    return service_moderation.decide_on_post(db, post_id, user, body.decision, body.reason)


@router.post(
    "/posts/{post_id}/comments/{comment_id}/decisions", status_code=status.HTTP_201_CREATED
)
def decide_comment(
    post_id: str, comment_id: str, body: DecisionCreate, user: ReviewerUser, db: DbDep
) -> DecisionPublic:
    """Keep or remove a reported comment."""
    return service_moderation.decide_on_comment(
        db, post_id, comment_id, user, body.decision, body.reason
    )


@router.post("/posts/{post_id}/messages", status_code=status.HTTP_201_CREATED)
def message_author(
    post_id: str, body: MessageCreate, principal: FeedWriter, db: DbDep
) -> MessagePublic:
    """Write to a post's author through Doorstep, if they asked to be contacted."""
    return service_relay.message_author(db, post_id, principal.user, body.text)


@router.post("/tips", status_code=status.HTTP_201_CREATED)
def send_tip(body: TipCreate, principal: FeedWriter, db: DbDep) -> TipPublic:
    """Send a tip to an agency; nothing ties it to the sender unless they reveal themselves."""
    tip = service_relay.send_tip(
        db, principal.user, body.agency_id, body.text, reveal=body.reveal_identity
    )
    return tip_public(tip)


@router.get("/alerts", responses=problems.responses(422))
def list_alerts(user: CurrentUser, db: DbDep, state: StateDep) -> list[AlertPublic]:
    """Agency alerts covering the caller's home."""
    return service_relay.alerts_at_home(db, user, state.settings)


@router.post("/alerts", status_code=status.HTTP_201_CREATED)
def post_alert(body: AlertCreate, user: AgencyUser, db: DbDep, state: StateDep) -> AlertPublic:
    """Post an alert to the residents of cells inside the agency's own jurisdiction.

    Every home an alert cell reaches (its descendants at the public resolution) must lie inside
    the jurisdiction's outline, or the alert is refused with 403 naming the cells; cells coarser
    than resolution 5, more than 500 cells, or a reach over 50,000 public cells are a 422.
    """
    return service_relay.publish_alert(db, user, state.settings, text=body.text, cells=body.cells)
