"""Neighbors repository: cells and radius, paging, rate limit, clips, moderation, tips, alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import h3
import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.cameras.models import Camera
from doorstep.clips.models import Clip
from doorstep.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PolicyRefused,
    TooManyRequests,
)
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.neighbors import _store_feed, rules, service_feed, service_moderation, service_relay
from doorstep.neighbors import service as feed
from doorstep.neighbors._store_feed import FeedCursor
from doorstep.neighbors.models import Post, PostStatus, Tip
from doorstep.neighbors.rules import PostCategory
from doorstep.neighbors.service_feed import FeedWindows
from doorstep.platform.db import Database
from doorstep.platform.migrate import migrate
from doorstep.platform.types import one_of, utcnow
from doorstep.settings import Settings
from tests.factories import PASSWORD

HOME = Coordinates(45.523612, -122.677144)
RES = 8
#: A box of about 30 by 40 km around HOME, as an agency's jurisdiction.
PORTLAND = {
    "type": "Polygon",
    "coordinates": [
        [[-122.9, 45.35], [-122.45, 45.35], [-122.45, 45.7], [-122.9, 45.7], [-122.9, 45.35]]
    ],
}


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    """A session on a migrated database of the parametrised backend."""
    database = Database(settings.resolved_database_url)
    migrate(database.engine)
    with database.session() as session:
        yield session
    database.dispose()


def _user(
    db: Session, name: str, home: Coordinates | None = HOME, role: Role = Role.RESIDENT
) -> User:
    return create_user(
        db,
        email=f"{name}@example.org",
        password=PASSWORD,
        display_name=name.title(),
        home=home,
        cell_resolution=RES,
        role=role,
    )


def _post(db: Session, author: User, text: str = "Parcel taken from a porch", **kw: object) -> Post:
    return feed.create_post(
        db,
        author,
        text=text,
        category=str(kw.pop("category", PostCategory.CRIME.value)),
        cell_resolution=RES,
        **kw,  # type: ignore[arg-type]
    )


def _count(db: Session, model: type[object]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_feed_cells_cover_the_radius_and_grow_with_it() -> None:
    home = public_cell(HOME, RES)
    one, five = rules.feed_cells(home, 1.0), rules.feed_cells(home, 5.0)
    assert home in one
    assert set(one) < set(five)
    centre = h3.cell_to_latlng(home)
    farthest = max(h3.great_circle_distance(centre, h3.cell_to_latlng(c), unit="m") for c in one)
    edge = h3.average_hexagon_edge_length(RES, unit="m")
    assert rules.METERS_PER_MILE - edge < farthest <= rules.METERS_PER_MILE + edge / 2
    assert len(rules.feed_cells(home, 0.5)) == 7


def test_feed_cells_are_the_callers_own_list() -> None:
    home = public_cell(HOME, RES)
    first = rules.feed_cells(home, 1.0)
    first.clear()
    assert len(rules.feed_cells(home, 1.0)) > 7


def test_one_of_matches_an_in_list_and_sends_postgresql_one_array(db: Session) -> None:
    author = _user(db, "ada")
    home = public_cell(HOME, RES)
    cells = rules.feed_cells(home, 5.0)
    inside = _post(db, author, location=HOME)
    far = _post(db, author, location=Coordinates(HOME.lat + 0.25, HOME.lon))
    db.flush()
    assert far.cell not in cells
    query = select(Post.id).where(one_of(db, Post.cell, cells))
    assert list(db.scalars(query)) == [inside.id]
    compiled = query.compile(db.get_bind())
    if db.get_bind().dialect.name == "postgresql":
        # One statement whatever the list: the driver and server can reuse it.
        assert len(compiled.params) == 1
        assert "ANY" in str(compiled)
    else:
        assert "IN" in str(compiled)


@pytest.mark.parametrize("radius", [0.49, 5.01, float("nan"), float("inf")])
def test_radius_outside_half_a_mile_to_five_is_refused(radius: float) -> None:
    with pytest.raises(InvalidInput):
        rules.feed_cells(public_cell(HOME, RES), radius)


def test_a_post_keeps_only_the_cell_of_where_it_happened(db: Session) -> None:
    author = _user(db, "ada")
    where = Coordinates(45.530011, -122.660022)
    post = _post(db, author, location=where)
    assert post.cell == public_cell(where, RES)
    columns = {c["name"] for c in inspect(db.get_bind()).get_columns("posts")}
    assert not columns & {"lat", "lon", "latitude", "longitude"}
    assert _post(db, author).cell == author.home_cell


def test_feed_is_newest_first_filtered_and_paged_without_gaps(db: Session) -> None:
    author = _user(db, "ada")
    start = utcnow() - timedelta(days=1)
    for i in range(7):
        category = PostCategory.LOST_PET if i % 2 else PostCategory.NEIGHBORLY_MOMENT
        _post(db, author, text=f"post {i}", category=category.value, now=start + timedelta(i))
    far = _user(db, "bob", Coordinates(51.5072, -0.1276))
    _post(db, far, text="far away")
    cells = rules.feed_cells(public_cell(HOME, RES), 1.0)

    first = service_feed.read_feed(db, cells, limit=3)
    assert [p.text for p in first.posts] == ["post 6", "post 5", "post 4"]
    assert first.next_cursor is not None
    second = service_feed.read_feed(db, cells, cursor=FeedCursor.decode(first.next_cursor), limit=3)
    third = service_feed.read_feed(
        db, cells, cursor=FeedCursor.decode(second.next_cursor or ""), limit=3
    )
    assert [p.text for p in second.posts + third.posts] == ["post 3", "post 2", "post 1", "post 0"]
    assert third.next_cursor is None
    pets = service_feed.read_feed(db, cells, category=PostCategory.LOST_PET)
    assert [p.text for p in pets.posts] == ["post 5", "post 3", "post 1"]


def test_held_and_removed_posts_stay_out_of_every_feed_page(db: Session) -> None:
    author = _user(db, "ada")
    start = utcnow() - timedelta(hours=6)
    posts = [
        _post(
            db,
            author,
            text=f"post {i}",
            category=PostCategory.LOST_PET.value,
            now=start + timedelta(minutes=i),
        )
        for i in range(6)
    ]
    posts[5].status = PostStatus.HELD.value
    posts[3].status = PostStatus.REMOVED.value
    posts[1].status = PostStatus.HELD.value
    db.flush()
    cells = rules.feed_cells(public_cell(HOME, RES), 1.0)

    first = service_feed.read_feed(db, cells, limit=2)
    assert [p.text for p in first.posts] == ["post 4", "post 2"]
    after = service_feed.read_feed(
        db, cells, cursor=FeedCursor.decode(first.next_cursor or ""), limit=2
    )
    assert [p.text for p in after.posts] == ["post 0"]
    pets = service_feed.read_feed(db, cells, category=PostCategory.LOST_PET)
    assert [p.text for p in pets.posts] == ["post 4", "post 2", "post 0"]
    assert _store_feed.cell_counts(db, cells, None) == {posts[0].cell: 3}


def _as_time(value: object) -> datetime | None:
    """A time parameter as sent: a datetime (PostgreSQL) or its ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _post_selects(db: Session) -> list[list[datetime]]:
    """The SELECTs on posts the session sends from now on, each as its time parameters."""
    sent: list[list[datetime]] = []

    def record(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM posts" in statement:
            values = params.values() if isinstance(params, dict) else params
            times = [_as_time(v) for v in values or ()]  # type: ignore[attr-defined]
            sent.append([t for t in times if t is not None])

    event.listen(db.get_bind(), "before_cursor_execute", record)
    return sent


def test_a_quiet_area_starts_at_the_window_that_last_filled_its_page(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows = FeedWindows()
    author = _user(db, "ada")
    month_ago = utcnow() - timedelta(days=30)
    for i in range(5):
        _post(db, author, text=f"old {i}", now=month_ago + timedelta(hours=i))
    cells = rules.feed_cells(public_cell(HOME, RES), 1.0)
    selects = _post_selects(db)

    # Nothing in the last day or week: the first read widens to 60 days, three queries.
    first = service_feed.read_feed(db, cells, limit=3, windows=windows)
    assert [p.text for p in first.posts] == ["old 4", "old 3", "old 2"]
    assert len(selects) == 3
    selects.clear()
    # The next read starts at 60 days: one query, the same page.
    again = service_feed.read_feed(db, cells, limit=3, windows=windows)
    assert [p.id for p in again.posts] == [p.id for p in first.posts]
    assert again.next_cursor == first.next_cursor
    assert len(selects) == 1

    # The area gets busy; a read from the remembered wide window still gives the newest posts.
    for i in range(4):
        _post(db, author, text=f"new {i}", now=utcnow() - timedelta(minutes=10 - i))
    selects.clear()
    busy = service_feed.read_feed(db, cells, limit=3, windows=windows)
    assert [p.text for p in busy.posts] == ["new 3", "new 2", "new 1"]
    assert len(selects) == 1
    assert min(selects[0]) < utcnow() - timedelta(days=59)
    # Once the memory runs out, reads start from the last day again, and it fills the page.
    monkeypatch.setattr(windows, "memory_s", 0.0)
    selects.clear()
    fresh = service_feed.read_feed(db, cells, limit=3, windows=windows)
    assert [p.id for p in fresh.posts] == [p.id for p in busy.posts]
    assert len(selects) == 1
    assert min(selects[0]) > utcnow() - timedelta(days=1, minutes=1)
    # Deeper pages and other categories are remembered apart from the first page: each starts
    # from the last day and widens on its own (the cursor's day holds one post, a month back
    # holds the rest), while the first page still starts at the last day.
    monkeypatch.setattr(windows, "memory_s", 60.0)
    selects.clear()
    older = service_feed.read_feed(
        db, cells, cursor=FeedCursor.decode(fresh.next_cursor or ""), limit=3, windows=windows
    )
    assert [p.text for p in older.posts] == ["new 0", "old 4", "old 3"]
    assert len(selects) == 3
    selects.clear()
    pets = service_feed.read_feed(
        db, cells, category=PostCategory.LOST_PET, limit=3, windows=windows
    )
    assert pets.posts == []
    assert len(selects) == 4
    selects.clear()
    service_feed.read_feed(db, cells, limit=3, windows=windows)
    assert len(selects) == 1


def test_a_cursor_that_was_not_given_out_is_refused() -> None:
    with pytest.raises(InvalidInput):
        FeedCursor.decode("not-a-cursor!")


def test_posting_is_limited_per_hour_and_the_refusal_stores_nothing(db: Session) -> None:
    author = _user(db, "ada")
    now = utcnow()
    for i in range(rules.POSTS_PER_HOUR):
        _post(db, author, text=f"post {i}", now=now - timedelta(minutes=50 - i))
    with pytest.raises(TooManyRequests) as refused:
        _post(db, author, text="one too many", now=now)
    assert 0 < refused.value.retry_after <= 11 * 60
    assert _count(db, Post) == rules.POSTS_PER_HOUR
    assert _post(db, author, text="later", now=now + timedelta(minutes=11)).text == "later"


def test_race_only_posts_are_refused_and_nothing_is_stored(db: Session) -> None:
    author = _user(db, "ada")
    with pytest.raises(PolicyRefused) as refused:
        _post(db, author, text="Suspicious black man in the neighborhood")
    assert refused.value.extra["reason"] == "race_only"
    assert _count(db, Post) == 0


def _clip(db: Session, owner: User, labels: list[str]) -> Clip:
    camera = Camera(owner_id=owner.id, name="Porch")
    db.add(camera)
    db.flush()
    now = utcnow()
    clip = Clip(
        camera_id=camera.id,
        owner_id=owner.id,
        started_at=now,
        ended_at=now,
        labels=labels,
        content_sha256=str(len(labels)) * 64,
        size=1,
        ciphertext_size=1,
        expires_at=now + timedelta(days=30),
    )
    db.add(clip)
    db.flush()
    return clip


def test_only_own_clips_marked_as_showing_no_people_can_be_attached(db: Session) -> None:
    ada, bob = _user(db, "ada"), _user(db, "bob")
    empty_street = _clip(db, ada, [rules.NO_PEOPLE_LABEL])
    with_person = _clip(db, ada, [rules.NO_PEOPLE_LABEL, rules.PERSON_LABEL])
    unmarked = _clip(db, ada, [])
    theirs = _clip(db, bob, [rules.NO_PEOPLE_LABEL])
    assert _post(db, ada, clip_id=empty_street.id).clip_id == empty_street.id
    for clip in (with_person, unmarked):
        with pytest.raises(InvalidInput):
            _post(db, ada, clip_id=clip.id)
    with pytest.raises(NotFound):
        _post(db, ada, clip_id=theirs.id)
    assert _count(db, Post) == 1


def test_helpful_counts_each_account_once(db: Session) -> None:
    ada, bob = _user(db, "ada"), _user(db, "bob")
    post = _post(db, ada)
    feed.mark_helpful(db, post, bob)
    feed.mark_helpful(db, post, bob)
    assert post.helpful_count == 1
    feed.mark_helpful(db, post, bob, helpful=False)
    assert post.helpful_count == 0


def test_reports_hold_a_post_and_a_removal_can_be_appealed_once(db: Session) -> None:
    ada = _user(db, "ada")
    reviewer = _user(db, "rita", role=Role.REVIEWER)
    post = _post(db, ada)
    for name in ("bob", "cy", "dee"):
        service_moderation.report(db, post, _user(db, name), "names a neighbour's address")
    assert post.status == PostStatus.HELD.value
    assert [item.post.id for item in service_moderation.moderation_queue(db)] == [post.id]
    with pytest.raises(Forbidden):
        service_moderation.decide_post(db, post, ada, "remove", "no")

    service_moderation.decide_post(
        db, post, reviewer, "remove", "It shows a neighbour's house number."
    )
    assert post.status == PostStatus.REMOVED.value
    assert post.status_reason == "It shows a neighbour's house number."
    assert service_moderation.moderation_queue(db) == []
    with pytest.raises(NotFound):
        feed.get_post(db, post.id, _user(db, "eve"))

    service_moderation.appeal(db, post, ada, "I took the number out of the photo.")
    with pytest.raises(Conflict):
        service_moderation.appeal(db, post, ada, "Please look again.")
    assert service_moderation.moderation_queue(db)[0].appeal is not None
    decision = service_moderation.decide_post(db, post, reviewer, "keep", "Fine now.")
    assert decision.on_appeal
    assert post.status == PostStatus.VISIBLE.value


def test_a_reporter_reports_once_and_not_their_own_post(db: Session) -> None:
    ada, bob = _user(db, "ada"), _user(db, "bob")
    post = _post(db, ada)
    service_moderation.report(db, post, bob, "spam")
    with pytest.raises(Conflict):
        service_moderation.report(db, post, bob, "spam again")
    with pytest.raises(InvalidInput):
        service_moderation.report(db, post, ada, "my own")


def test_relay_messages_go_only_to_authors_who_opted_in(db: Session) -> None:
    ada, bob = _user(db, "ada"), _user(db, "bob")
    closed, open_ = _post(db, ada), _post(db, ada, text="Found a dog", contact_opt_in=True)
    with pytest.raises(Forbidden):
        service_relay.send_to_author(db, closed, bob, "Is it mine?")
    message = service_relay.send_to_author(db, open_, bob, "Is it a beagle?")
    answer = service_relay.reply(db, message.id, ada, "Yes, a beagle.")
    assert answer.recipient_id == bob.id
    with pytest.raises(NotFound):
        service_relay.reply(db, message.id, bob, "replying to my own message")
    assert [m.text for m in service_relay.inbox(db, bob)] == ["Yes, a beagle.", "Is it a beagle?"]


def test_anonymous_tips_keep_nothing_that_points_at_the_sender(db: Session) -> None:
    ada = _user(db, "ada")
    service_relay.send_tip(db, ada, "portland-pd", "The van parks there every night", reveal=False)
    service_relay.send_tip(db, ada, "portland-pd", "Call me about the van", reveal=True)
    revealed, hidden = sorted(
        service_relay.tips_for_agency(db, "portland-pd"), key=lambda t: t.text
    )
    assert revealed.sender_id == ada.id
    assert revealed.sender_name == "Ada"
    assert hidden.text == "The van parks there every night"
    assert (hidden.sender_id, hidden.sender_name, hidden.identity_revealed) == (None, None, False)
    assert _count(db, Tip) == 2


def test_alerts_reach_homes_in_their_cells_and_not_beyond(db: Session) -> None:
    officer = _user(db, "officer", role=Role.AGENCY_MEMBER)
    ada = _user(db, "ada")
    london = _user(db, "bob", Coordinates(51.5072, -0.1276))
    district = h3.cell_to_parent(public_cell(HOME, RES), 6)
    alert = service_relay.post_alert(
        db,
        officer,
        agency_name="Portland Fire",
        jurisdiction=PORTLAND,
        text="Road closed for a gas leak",
        cells=[district],
        cell_resolution=RES,
    )
    assert [a.id for a in service_relay.alerts_for(db, ada.home_cell or "")] == [alert.id]
    assert service_relay.alerts_for(db, london.home_cell or "") == []
    assert ada.id in service_relay.residents_covered(db, alert, RES)
    assert london.id not in service_relay.residents_covered(db, alert, RES)
    with pytest.raises(Forbidden):
        service_relay.post_alert(
            db,
            ada,
            agency_name="Me",
            jurisdiction=PORTLAND,
            text="hi",
            cells=[district],
            cell_resolution=RES,
        )
    with pytest.raises(InvalidInput):
        service_relay.post_alert(
            db,
            officer,
            agency_name="PF",
            jurisdiction=PORTLAND,
            text="x",
            cells=["nonsense"],
            cell_resolution=RES,
        )
    # A cell that reaches past the jurisdiction, here London's, is refused outright.
    with pytest.raises(Forbidden):
        service_relay.post_alert(
            db,
            officer,
            agency_name="PF",
            jurisdiction=PORTLAND,
            text="x",
            cells=[district, london.home_cell or ""],
            cell_resolution=RES,
        )
