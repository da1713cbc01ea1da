"""Reading the Neighbors feed: a page of posts around home, its map, and the window memory.

The memory of which time window last filled a page (``FeedWindows``) belongs to the running app:
``feed_windows`` finds it on the app's state, so two apps in one process never share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.errors import InvalidInput
from doorstep.neighbors import _store_feed, store
from doorstep.neighbors._public import feed_public
from doorstep.neighbors._store_feed import FeedCursor, FeedPage
from doorstep.neighbors.rules import (
    ALERTS_FILTER,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    WINDOW_MEMORY_S,
    PostCategory,
    feed_cells,
    parse_category,
)
from doorstep.neighbors.schemas import FeedPublic
from doorstep.neighbors.service import home_cell
from doorstep.settings import Settings

_WindowKey = tuple[int, PostCategory | None, bool]


class FeedWindows:
    """Which feed window last filled a page for a set of cells, and when: one per running app."""

    def __init__(
        self,
        memory_s: float = WINDOW_MEMORY_S,
        capacity: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.memory_s = memory_s
        self.capacity = capacity
        self.clock = clock
        self._seen: dict[_WindowKey, tuple[int, float]] = {}

    def start(self, key: _WindowKey) -> int:
        """The window to start from: the one that last filled a page here, for a minute."""
        remembered = self._seen.get(key)
        if remembered is None or self.clock() - remembered[1] > self.memory_s:
            # Forgotten after a while, so an area that got busier goes back to narrow windows.
            return 0
        return remembered[0]

    def remember(self, key: _WindowKey, index: int) -> None:
        """Note that window ``index`` filled (or ended) the read for ``key``."""
        if len(self._seen) >= self.capacity:
            self._seen.clear()
        self._seen[key] = (index, self.clock())


def feed_windows(owner: object) -> FeedWindows:
    """The feed window memory that ``owner`` (the running app's state) keeps, made on first use."""
    windows = getattr(owner, "neighbors_feed_windows", None)
    if not isinstance(windows, FeedWindows):
        windows = FeedWindows()
        setattr(owner, "neighbors_feed_windows", windows)  # noqa: B010
    return windows


def read_feed(
    db: Session,
    cells: Sequence[str],
    *,
    category: PostCategory | None = None,
    cursor: FeedCursor | None = None,
    limit: int = PAGE_SIZE,
    viewer: User | None = None,
    windows: FeedWindows | None = None,
) -> FeedPage:
    """Visible posts in ``cells``, newest first, one page after ``cursor``.

    With ``windows``, the read starts at the time window that last filled a page for these
    cells (see ``_store_feed.read_feed``) and remembers the one that fills this one.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"a page has 1 to {MAX_PAGE_SIZE} posts", field="limit")
    # A hash, not the cells: a five-mile radius is thousands of cells to keep per entry.
    key = (hash(tuple(cells)), category, cursor is None)
    first = windows.start(key) if windows is not None else 0
    page = _store_feed.read_feed(
        db, cells, category=category, cursor=cursor, limit=limit, viewer=viewer, first_window=first
    )
    # Only a read that probed from the narrowest window (or had to widen) stores its time, so
    # the memory of a busy, often read area still runs out.
    if windows is not None and (first == 0 or page.window != first):
        windows.remember(key, page.window)
    return page


def read_feed_page(
    db: Session,
    user: User,
    settings: Settings,
    windows: FeedWindows | None,
    *,
    radius: float,
    category: str | None,
    cursor: str | None,
    limit: int = PAGE_SIZE,
) -> FeedPublic:
    """The feed page the API and the feed page both show."""
    centre = home_cell(user, settings)
    cells = feed_cells(centre, radius)
    alerts_only = category == ALERTS_FILTER
    kind = None if alerts_only else parse_category(category)
    page = FeedPage([], None)
    if not alerts_only:
        after = FeedCursor.decode(cursor) if cursor else None
        page = read_feed(
            db, cells, category=kind, cursor=after, limit=limit, viewer=user, windows=windows
        )
    alerts = store.alerts_for(db, centre) if cursor is None and kind is None else []
    return feed_public(radius, centre, page, alerts, user)


@dataclass(frozen=True, slots=True)
class FeedMap:
    """The cells around home and how many visible posts each holds."""

    centre: str
    cells: list[str]
    counts: dict[str, int]


def feed_map(
    db: Session, user: User, settings: Settings, radius: float, category: str | None
) -> FeedMap:
    """Visible posts per cell within ``radius`` of home (cells only; never a finer position)."""
    centre = home_cell(user, settings)
    cells = feed_cells(centre, radius)
    return FeedMap(centre, cells, _store_feed.cell_counts(db, cells, parse_category(category)))
