"""Neighbors feed latency over 100k posts: repository and HTTP API, SQLite and PostgreSQL.

Run: ``.venv/bin/python bench/feed.py [--posts 100000] [--requests 2000] [--skip-postgres]``.
Posts are spread evenly over a 6-mile disk around one home; each request asks for the first
page of the feed with a radius of 0.5 to 5 miles, a third of them filtered by category. The
limit it is held against is the design's: p99 at most 50 ms.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import h3
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text

from doorstep.accounts.store import create_user
from doorstep.app import create_app
from doorstep.geo.cells import Coordinates
from doorstep.neighbors import rules as feed
from doorstep.neighbors import service_feed
from doorstep.neighbors.models import Post
from doorstep.neighbors.rules import PostCategory
from doorstep.platform.db import Database
from doorstep.platform.migrate import migrate
from doorstep.platform.types import new_id, utcnow
from doorstep.settings import Environment, Settings

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CENTRE = Coordinates(45.523612, -122.677144)
RADII = (0.5, 1.0, 2.0, 3.0, 5.0)
CATEGORIES = [c.value for c in PostCategory]
LIMIT_P99_MS = 50.0
PASSWORD = "lantern-porch-9"
RESOLUTION = 8


def _seed(database: Database, count: int, rng: random.Random) -> str:
    """Insert ``count`` posts and one resident at the centre; return the resident's email."""
    email = "bench@example.org"
    with database.session() as db:
        author = create_user(
            db,
            email=email,
            password=PASSWORD,
            display_name="Bench",
            home=CENTRE,
            cell_resolution=RESOLUTION,
        )
        author_id = author.id
    now = utcnow()
    reach_m = 6 * feed.METERS_PER_MILE
    lat_m = 111_320.0
    lon_m = lat_m * math.cos(math.radians(CENTRE.lat))
    batch: list[dict[str, object]] = []
    for i in range(count):
        # Uniform over the disk: the square root keeps the density even toward the rim.
        distance = reach_m * math.sqrt(rng.random())
        bearing = rng.random() * 2 * math.pi
        lat = CENTRE.lat + distance * math.cos(bearing) / lat_m
        lon = CENTRE.lon + distance * math.sin(bearing) / lon_m
        batch.append(
            {
                "id": new_id(),
                "author_id": author_id,
                "category": rng.choice(CATEGORIES),
                "text": f"Bench post {i}: a parcel, a lost cat, a streetlight out.",
                "cell": h3.latlng_to_cell(lat, lon, RESOLUTION),
                "created_at": now - timedelta(seconds=rng.randrange(90 * 24 * 3600)),
                "status": "visible",
                "contact_opt_in": False,
                "helpful_count": 0,
                "comment_count": 0,
            }
        )
        if len(batch) == 10_000 or i == count - 1:
            with database.session() as db:
                db.execute(insert(Post), batch)
            batch = []
    with database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return email


def _requests(count: int, rng: random.Random) -> list[tuple[float, str | None]]:
    return [
        (rng.choice(RADII), rng.choice(CATEGORIES) if rng.random() < 1 / 3 else None)
        for _ in range(count)
    ]


def _percentiles(
    job: Callable[[float, str | None], object], plan: list[tuple[float, str | None]]
) -> tuple[float, float]:
    for radius, category in plan[:50]:
        job(radius, category)
    timings = []
    for radius, category in plan:
        started = time.perf_counter()
        job(radius, category)
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return statistics.median(timings), cuts[98]


def _measure(url: str, data_dir: Path, posts: int, requests: int) -> list[tuple[str, float, float]]:
    rng = random.Random(5)
    database = Database(url)
    migrate(database.engine)
    started = time.perf_counter()
    email = _seed(database, posts, rng)
    print(f"  seeded {posts:,} posts in {time.perf_counter() - started:.1f} s")
    plan = _requests(requests, rng)
    home = h3.latlng_to_cell(CENTRE.lat, CENTRE.lon, RESOLUTION)

    windows = service_feed.FeedWindows()

    def repository(radius: float, category: str | None) -> object:
        with database.session() as db:
            return service_feed.read_feed(
                db,
                feed.feed_cells(home, radius),
                category=feed.parse_category(category),
                windows=windows,
            )

    rows = [("repository", *_percentiles(repository, plan))]
    settings = Settings(env=Environment.TEST, data_dir=data_dir, database_url=url)
    with TestClient(create_app(settings, run_migrations=False)) as client:
        client.post("/api/v1/session", json={"email": email, "password": PASSWORD})

        def api(radius: float, category: str | None) -> object:
            params = {"radius": str(radius), **({"category": category} if category else {})}
            response = client.get("/api/v1/feed", params=params)
            assert response.status_code == 200, response.text
            assert len(response.json()["posts"]) == feed.PAGE_SIZE
            return response

        rows.append(("HTTP API (TestClient)", *_percentiles(api, plan)))
    database.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    results: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory() as scratch:
        print("SQLite")
        sqlite_url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        for path, p50, p99 in _measure(sqlite_url, Path(scratch), args.posts, args.requests):
            results.append(("SQLite", path, p50, p99))
        if not args.skip_postgres:
            print("PostgreSQL")
            schema = f"bench_feed_{os.getpid()}"
            admin = create_engine(POSTGRES)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
                for path, p50, p99 in _measure(url, Path(scratch), args.posts, args.requests):
                    results.append(("PostgreSQL", path, p50, p99))
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()

    print()
    print(f"Feed, first page of {feed.PAGE_SIZE}, {args.posts:,} posts, {args.requests:,} requests")
    print(
        f"{'database':<12} {'path':<24} {'p50 ms':>8} {'p99 ms':>8}  limit p99 {LIMIT_P99_MS:g} ms"
    )
    for database, path, p50, p99 in results:
        verdict = "ok" if p99 <= LIMIT_P99_MS else "OVER"
        print(f"{database:<12} {path:<24} {p50:>8.2f} {p99:>8.2f}  {verdict}")


if __name__ == "__main__":
    main()
