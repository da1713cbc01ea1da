"""Neighbors: the safety feed around home, posts, comments, moderation, relay, tips, alerts.

Every location in these responses is a public H3 cell and its centre (invariant I1).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Literal

import h3
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from doorstep.accounts.api import HomeLocation, PublicCell, Strict, public_cell_of
from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.agencies import service as agencies
from doorstep.errors import InvalidInput, NotFound, PayloadTooLarge, PolicyRefused
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.neighbors import store as feed
from doorstep.neighbors.rules import MAX_POST_LENGTH, PostCategory
from doorstep.neighbors.store import (
    AgencyAlert,
    Comment,
    FeedCursor,
    Post,
    PostStatus,
    QueueItem,
    RelayMessage,
    Tip,
    ViewerMarks,
)
from doorstep.platform.blobs import BlobStore
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.http import problems
from doorstep.platform.http.deps import (
    CurrentUser,
    DbDep,
    FeedWriter,
    Principal,
    StateDep,
    read_in_one_hop,
    require_role,
)
from doorstep.platform.http.state import AppState
from doorstep.requests.rules import is_about_assembly
from doorstep.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["neighbors"])

MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: The filter value that shows agency alerts instead of residents' posts.
ALERTS_FILTER = "agency_alert"

AgencyUser = Annotated[User, Depends(require_role(Role.AGENCY_MEMBER, Role.AGENCY_ADMIN))]
ReviewerUser = Annotated[User, Depends(require_role(Role.REVIEWER, Role.ADMIN))]
Radius = Annotated[
    float,
    Query(
        ge=feed.MIN_RADIUS_MILES,
        le=feed.MAX_RADIUS_MILES,
        allow_inf_nan=False,
        description="Miles around home.",
    ),
]


class PostCreate(Strict):
    """A new post; where it happened is optional and only its cell is kept."""

    text: Annotated[str, Field(max_length=MAX_POST_LENGTH * 2)]
    category: PostCategory
    contact_opt_in: bool = False
    clip_id: Annotated[str | None, Field(max_length=32)] = None
    location: HomeLocation | None = None


class CommentCreate(Strict):
    """A comment under a post."""

    text: Annotated[str, Field(max_length=feed.MAX_COMMENT_LENGTH * 2)]


class ReportCreate(Strict):
    """Why a post or comment breaks the guidelines."""

    reason: Annotated[str, Field(max_length=feed.MAX_REASON_LENGTH * 2)]


class AppealCreate(Strict):
    """Why a removed post should come back."""

    text: Annotated[str, Field(max_length=feed.MAX_REASON_LENGTH * 2)]


class DecisionCreate(Strict):
    """A reviewer's decision and the reason the author will see."""

    decision: Literal["keep", "remove"]
    reason: Annotated[str, Field(max_length=feed.MAX_REASON_LENGTH * 2)]


class ToggleCreate(Strict):
    """Turn a mark (helpful, following) on or off."""

    on: bool = True


class MessageCreate(Strict):
    """A relay message."""

    text: Annotated[str, Field(max_length=feed.MAX_MESSAGE_LENGTH * 2)]


class TipCreate(Strict):
    """An anonymous tip to an agency, unless ``reveal_identity``."""

    agency_id: Annotated[str, Field(max_length=64)]
    text: Annotated[str, Field(max_length=feed.MAX_TIP_LENGTH * 2)]
    reveal_identity: bool = False


class AlertCreate(Strict):
    """An agency alert for the residents of some cells."""

    agency_name: Annotated[
        str, Field(max_length=120, description="Ignored: alerts carry the verified agency's name")
    ] = ""
    text: Annotated[str, Field(max_length=feed.MAX_ALERT_LENGTH * 2)]
    cells: Annotated[
        list[Annotated[str, Field(max_length=16)]],
        Field(
            max_length=feed.MAX_ALERT_CELLS,
            description=(
                "H3 cells of resolution 5 up to the public resolution (finer ones are taken "
                "up to it); every home a cell reaches must lie inside the agency's jurisdiction."
            ),
        ),
    ]


class CommentPublic(BaseModel):
    """A comment as neighbours see it: no name, no account id."""

    id: str
    text: str
    author: str
    mine: bool
    status: str
    removal_reason: str | None
    created_at: datetime


class PostPublic(BaseModel):
    """A post as neighbours see it: "Neighbor", a coarse area, and the cell it is in."""

    id: str
    category: str
    text: str
    author: str
    area: str
    mine: bool
    location: PublicCell
    created_at: datetime
    status: str
    removal_reason: str | None
    contact_opt_in: bool
    photo_url: str | None
    clip_attached: bool
    helpful_count: int
    comment_count: int
    helpful_by_me: bool
    following: bool


class PostDetail(PostPublic):
    """A post with its comments and, for its author, the state of an appeal."""

    comments: list[CommentPublic]
    can_appeal: bool
    appeal_status: str | None


class AlertPublic(BaseModel):
    """An agency alert and the cells it covers."""

    id: str
    agency_name: str
    text: str
    created_at: datetime
    cells: list[PublicCell]


class FeedPublic(BaseModel):
    """One page of the feed around home."""

    radius_miles: float
    home_cell: PublicCell
    posts: list[PostPublic]
    alerts: list[AlertPublic]
    next_cursor: str | None


class ReportPublic(BaseModel):
    """An open report, as a reviewer sees it (the reporter stays anonymous)."""

    id: str
    reason: str
    comment_id: str | None
    comment_text: str | None
    created_at: datetime


class AppealPublic(BaseModel):
    """An author's appeal."""

    id: str
    text: str
    created_at: datetime
    outcome: str | None


class QueueItemPublic(BaseModel):
    """A post waiting for a reviewer."""

    post: PostPublic
    reports: list[ReportPublic]
    appeal: AppealPublic | None


class DecisionPublic(BaseModel):
    """A recorded moderation decision."""

    id: str
    post_id: str
    comment_id: str | None
    decision: str
    reason: str
    on_appeal: bool
    decided_at: datetime


class MessagePublic(BaseModel):
    """A relay message; neither side ever sees the other's email or name."""

    id: str
    post_id: str
    direction: Literal["sent", "received"]
    counterpart: str
    text: str
    created_at: datetime
    can_reply: bool


class TipPublic(BaseModel):
    """A tip as its sender sees it after sending."""

    id: str
    agency_id: str
    identity_revealed: bool
    created_at: datetime


# --- conversions shared with the pages -----------------------------------------------------------


def post_public(post: Post, viewer: User, marks: ViewerMarks) -> PostPublic:
    """A post for ``viewer``; the removal reason only for its author and reviewers."""
    mine = post.author_id == viewer.id
    return PostPublic(
        id=post.id,
        category=post.category,
        text=post.text,
        author="You" if mine else "Neighbor",
        area=feed.area_name(post.cell),
        mine=mine,
        location=public_cell_of(post.cell),
        created_at=post.created_at,
        status=post.status,
        removal_reason=post.status_reason if mine or feed.is_reviewer(viewer) else None,
        contact_opt_in=post.contact_opt_in,
        photo_url=f"/api/v1/posts/{post.id}/photo" if post.photo_key else None,
        clip_attached=post.clip_id is not None,
        helpful_count=post.helpful_count,
        comment_count=post.comment_count,
        helpful_by_me=post.id in marks.helpful,
        following=post.id in marks.following,
    )


def comment_public(comment: Comment, viewer: User) -> CommentPublic:
    """A comment for ``viewer``."""
    mine = comment.author_id == viewer.id
    show_reason = mine or feed.is_reviewer(viewer)
    return CommentPublic(
        id=comment.id,
        text=comment.text,
        author="You" if mine else "Neighbor",
        mine=mine,
        status=comment.status,
        removal_reason=comment.status_reason if show_reason else None,
        created_at=comment.created_at,
    )


def post_detail(db: Session, post: Post, viewer: User) -> PostDetail:
    """A post with its comments, for ``viewer``."""
    marks = feed.viewer_marks(db, viewer, [post.id])
    appeal = feed.appeal_for(db, post) if post.author_id == viewer.id else None
    appeal_status = None
    if appeal is not None:
        appeal_status = appeal.outcome or "pending"
    return PostDetail(
        **post_public(post, viewer, marks).model_dump(),
        comments=[comment_public(c, viewer) for c in feed.visible_comments(post, viewer)],
        can_appeal=(
            post.author_id == viewer.id
            and post.status == PostStatus.REMOVED.value
            and appeal is None
        ),
        appeal_status=appeal_status,
    )


def alert_public(alert: AgencyAlert) -> AlertPublic:
    """An alert with its cells."""
    return AlertPublic(
        id=alert.id,
        agency_name=alert.agency_name,
        text=alert.text,
        created_at=alert.created_at,
        cells=[public_cell_of(cell) for cell in alert.cells],
    )


def message_public(message: RelayMessage, viewer: User) -> MessagePublic:
    """A relay message from ``viewer``'s side."""
    sent = message.sender_id == viewer.id
    return MessagePublic(
        id=message.id,
        post_id=message.post_id,
        direction="sent" if sent else "received",
        counterpart="Neighbor",
        text=message.text,
        created_at=message.created_at,
        can_reply=not sent,
    )


def queue_item_public(item: QueueItem, viewer: User) -> QueueItemPublic:
    """A queue entry for a reviewer."""
    comments = {c.id: c for c in item.post.comments}
    return QueueItemPublic(
        post=post_public(item.post, viewer, ViewerMarks(frozenset(), frozenset())),
        reports=[
            ReportPublic(
                id=r.id,
                reason=r.reason,
                comment_id=r.comment_id,
                comment_text=comments[r.comment_id].text if r.comment_id in comments else None,
                created_at=r.created_at,
            )
            for r in item.reports
        ],
        appeal=(
            AppealPublic(
                id=item.appeal.id,
                text=item.appeal.text,
                created_at=item.appeal.created_at,
                outcome=item.appeal.outcome,
            )
            if item.appeal
            else None
        ),
    )


def tip_public(tip: Tip) -> TipPublic:
    """A tip as its sender sees it."""
    return TipPublic(
        id=tip.id,
        agency_id=tip.agency_id,
        identity_revealed=tip.identity_revealed,
        created_at=tip.created_at,
    )


def home_cell(user: User, settings: Settings) -> str:
    """The caller's home cell at the public resolution, or a clear error if no home is set."""
    if user.home_cell is None or user.home_lat is None or user.home_lon is None:
        raise InvalidInput("set your home in your account to read the feed around it", field="home")
    resolution = settings.public_cell_resolution
    if h3.get_resolution(user.home_cell) == resolution:
        return user.home_cell
    return public_cell(Coordinates(user.home_lat, user.home_lon), resolution)


def photo_store(request: Request) -> BlobStore:
    """The blob store that keeps public post photos."""
    state: AppState = request.app.state.doorstep
    return state.blobs


def store_photo(store: BlobStore, post: Post, clean_jpeg: bytes) -> None:
    """Keep a cleaned photo for ``post`` (public, so stored as is)."""
    key = feed.photo_key(post.id)
    store.put(key, io.BytesIO(clean_jpeg), max_size=MAX_PHOTO_BYTES)
    post.photo_key = key


def clean_upload(data: bytes) -> bytes:
    """Check an uploaded photo's size and content; return it re-encoded without metadata."""
    from doorstep.media.image import clean_photo

    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge("a photo is at most 5 MB")
    if not data:
        raise InvalidInput("the photo is empty", field="photo")
    return clean_photo(data)


def read_feed_page(
    db: Session,
    user: User,
    settings: Settings,
    *,
    radius: float,
    category: str | None,
    cursor: str | None,
    limit: int = feed.PAGE_SIZE,
) -> FeedPublic:
    """The feed page the API and the feed page both show."""
    centre = home_cell(user, settings)
    cells = feed.feed_cells(centre, radius)
    alerts_only = category == ALERTS_FILTER
    kind = None if alerts_only else feed.parse_category(category)
    page = feed.FeedPage([], None)
    if not alerts_only:
        after = FeedCursor.decode(cursor) if cursor else None
        page = feed.read_feed(db, cells, category=kind, cursor=after, limit=limit, viewer=user)
    alerts: list[AgencyAlert] = []
    if cursor is None and kind is None:
        alerts = feed.alerts_for(db, centre)
    marks = page.marks
    return FeedPublic(
        radius_miles=round(radius, 2),
        home_cell=public_cell_of(centre),
        posts=[post_public(p, user, marks) for p in page.posts],
        alerts=[alert_public(a) for a in alerts],
        next_cursor=page.next_cursor,
    )


# --- routes --------------------------------------------------------------------------------------


@router.get(
    "/feed", response_model=FeedPublic, responses=problems.responses(*problems.ONE_HOP_READ)
)
async def read_feed(
    request: Request,
    state: StateDep,
    radius: Radius = feed.DEFAULT_RADIUS_MILES,
    category: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=feed.MAX_PAGE_SIZE)] = feed.PAGE_SIZE,
) -> Response:
    """Posts within ``radius`` miles of home, newest first, and agency alerts for home."""

    def page(db: Session, principal: Principal) -> FeedPublic:
        return read_feed_page(
            db,
            principal.user,
            state.settings,
            radius=radius,
            category=category,
            cursor=cursor,
            limit=limit,
        )

    # The busiest read there is: one thread hop for all of it (see read_in_one_hop).
    return await read_in_one_hop(request, FeedPublic, page)


@router.get("/feed/map")
def feed_map(
    user: CurrentUser,
    db: DbDep,
    state: StateDep,
    radius: Radius = feed.DEFAULT_RADIUS_MILES,
    category: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, int]:
    """Visible posts per cell within ``radius`` (cells only; never a finer position)."""
    cells = feed.feed_cells(home_cell(user, state.settings), radius)
    return feed.cell_counts(db, cells, feed.parse_category(category))


@router.get("/feed/moderation")
def moderation_queue(user: ReviewerUser, db: DbDep) -> list[QueueItemPublic]:
    """Held, reported and appealed posts, for reviewers."""
    return [queue_item_public(item, user) for item in feed.moderation_queue(db)]


@router.get("/feed/messages")
def list_messages(user: CurrentUser, db: DbDep) -> list[MessagePublic]:
    """The caller's relay messages, newest first."""
    return [message_public(m, user) for m in feed.inbox(db, user)]


@router.post("/feed/messages/{message_id}/replies", status_code=status.HTTP_201_CREATED)
def reply_to_message(
    message_id: str, body: MessageCreate, principal: FeedWriter, db: DbDep
) -> MessagePublic:
    """Answer a message; it goes back through Doorstep to whoever sent it."""
    return message_public(feed.reply(db, message_id, principal.user, body.text), principal.user)


@router.post("/posts", status_code=status.HTTP_201_CREATED, responses=problems.responses(404, 429))
def create_post(body: PostCreate, principal: FeedWriter, db: DbDep, state: StateDep) -> PostDetail:
    """Publish a post at the cell of ``location`` or of home; add a photo with PUT .../photo."""
    location = Coordinates(body.location.lat, body.location.lon) if body.location else None
    post = feed.create_post(
        db,
        principal.user,
        text=body.text,
        category=body.category.value,
        location=location,
        cell_resolution=state.settings.public_cell_resolution,
        contact_opt_in=body.contact_opt_in,
        clip_id=body.clip_id,
    )
    return post_detail(db, post, principal.user)


@router.get("/posts/{post_id}")
def read_post(post_id: str, user: CurrentUser, db: DbDep) -> PostDetail:
    """One post with its comments."""
    return post_detail(db, feed.get_post(db, post_id, user), user)


@router.put("/posts/{post_id}/photo", responses=problems.responses(415))
async def upload_photo(
    post_id: str, request: Request, principal: FeedWriter, db: DbDep
) -> PostDetail:
    """Attach a JPEG, PNG or WebP photo (at most 5 MB) to one's own post; metadata is removed."""
    post = feed.get_post(db, post_id, principal.user)
    if post.author_id != principal.user.id:
        raise NotFound("no such post among yours")
    clean = clean_upload(await request.body())
    store_photo(photo_store(request), post, clean)
    return post_detail(db, post, principal.user)


@router.get("/posts/{post_id}/photo", responses={200: {"content": {"image/jpeg": {}}}})
def read_photo(post_id: str, request: Request, user: CurrentUser, db: DbDep) -> Response:
    """The post's photo, as cleaned on upload."""
    post = feed.get_post(db, post_id, user)
    if post.photo_key is None:
        raise NotFound("this post has no photo")
    data = b"".join(photo_store(request).open_stream(post.photo_key))
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
    post = feed.get_post(db, post_id, principal.user)
    return comment_public(feed.add_comment(db, post, principal.user, body.text), principal.user)


@router.post("/posts/{post_id}/helpful")
def mark_helpful(post_id: str, body: ToggleCreate, principal: FeedWriter, db: DbDep) -> PostDetail:
    """Mark a post helpful (or take the mark back); one mark per account."""
    post = feed.get_post(db, post_id, principal.user)
    feed.mark_helpful(db, post, principal.user, body.on)
    return post_detail(db, post, principal.user)


@router.post("/posts/{post_id}/follow")
def follow_post(post_id: str, body: ToggleCreate, principal: FeedWriter, db: DbDep) -> PostDetail:
    """Follow a post (or stop following it)."""
    post = feed.get_post(db, post_id, principal.user)
    feed.follow(db, post, principal.user, body.on)
    return post_detail(db, post, principal.user)


@router.post(
    "/posts/{post_id}/reports",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(409),
)
def report_post(
    post_id: str, body: ReportCreate, principal: FeedWriter, db: DbDep
) -> dict[str, str]:
    """Report a post to the reviewers, with the reason."""
    post = feed.get_post(db, post_id, principal.user)
    row = feed.report(db, post, principal.user, body.reason)
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
    post = feed.get_post(db, post_id, principal.user)
    comment = _comment(db, post, comment_id)
    row = feed.report(db, post, principal.user, body.reason, comment)
    return {"id": row.id, "status": "received"}


def _comment(db: Session, post: Post, comment_id: str) -> Comment:
    comment = db.get(Comment, comment_id)
    if comment is None or comment.post_id != post.id:
        raise NotFound("no such comment")
    return comment


@router.post(
    "/posts/{post_id}/appeal",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(409),
)
def appeal_post(post_id: str, body: AppealCreate, principal: FeedWriter, db: DbDep) -> PostDetail:
    """Appeal the removal of one's own post (once)."""
    post = feed.get_post(db, post_id, principal.user)
    feed.appeal(db, post, principal.user, body.text)
    return post_detail(db, post, principal.user)


@router.post("/posts/{post_id}/decisions", status_code=status.HTTP_201_CREATED)
def decide_post(
    post_id: str, body: DecisionCreate, user: ReviewerUser, db: DbDep
) -> DecisionPublic:
    """Keep or remove a post, with the reason its author will see."""
    post = feed.get_post(db, post_id, user)
    return _decision_public(feed.decide_post(db, post, user, body.decision, body.reason))


@router.post(
    "/posts/{post_id}/comments/{comment_id}/decisions", status_code=status.HTTP_201_CREATED
)
def decide_comment(
    post_id: str, comment_id: str, body: DecisionCreate, user: ReviewerUser, db: DbDep
) -> DecisionPublic:
    """Keep or remove a reported comment."""
    post = feed.get_post(db, post_id, user)
    comment = _comment(db, post, comment_id)
    return _decision_public(feed.decide_comment(db, comment, user, body.decision, body.reason))


def _decision_public(row: feed.ModerationDecision) -> DecisionPublic:
    return DecisionPublic(
        id=row.id,
        post_id=row.post_id,
        comment_id=row.comment_id,
        decision=row.decision,
        reason=row.reason,
        on_appeal=row.on_appeal,
        decided_at=row.decided_at,
    )


@router.post("/posts/{post_id}/messages", status_code=status.HTTP_201_CREATED)
def message_author(
    post_id: str, body: MessageCreate, principal: FeedWriter, db: DbDep
) -> MessagePublic:
    """Write to a post's author through Doorstep, if they asked to be contacted."""
    post = feed.get_post(db, post_id, principal.user)
    return message_public(feed.send_to_author(db, post, principal.user, body.text), principal.user)


@router.post("/tips", status_code=status.HTTP_201_CREATED)
def send_tip(body: TipCreate, principal: FeedWriter, db: DbDep) -> TipPublic:
    """Send a tip to an agency; nothing ties it to the sender unless they reveal themselves."""
    tip = feed.send_tip(db, principal.user, body.agency_id, body.text, reveal=body.reveal_identity)
    return tip_public(tip)


@router.get("/alerts", responses=problems.responses(422))
def list_alerts(user: CurrentUser, db: DbDep, state: StateDep) -> list[AlertPublic]:
    """Agency alerts covering the caller's home."""
    return [alert_public(a) for a in feed.alerts_for(db, home_cell(user, state.settings))]


def check_alert(text: str) -> None:
    """Alerts follow the request policy too: never about assemblies (cells: ``post_alert``)."""
    if is_about_assembly(text):
        raise PolicyRefused(
            "alerts about protests, strikes or other lawful assembly are not allowed",
            field="text",
            extra={"reason": "protest"},
        )


@router.post("/alerts", status_code=status.HTTP_201_CREATED)
def post_alert(body: AlertCreate, user: AgencyUser, db: DbDep, state: StateDep) -> AlertPublic:
    """Post an alert to the residents of cells inside the agency's own jurisdiction.

    Every home an alert cell reaches (its descendants at the public resolution) must lie inside
    the jurisdiction's outline, or the alert is refused with 403 naming the cells; cells coarser
    than resolution 5, more than 500 cells, or a reach over 50,000 public cells are a 422.
    """
    agency = agencies.agency_of(db, user)
    check_alert(body.text)
    alert = feed.post_alert(
        db,
        user,
        agency_name=agency.name,
        jurisdiction=agency.jurisdiction,
        text=body.text,
        cells=body.cells,
        cell_resolution=state.settings.public_cell_resolution,
    )
    public = alert_public(alert)
    event = {"type": "agency_alert", "alert": public.model_dump(mode="json")}
    for resident_id in feed.residents_covered(db, alert, state.settings.public_cell_resolution):
        notify_after_commit(db, resident_id, event)
    return public
