"""RFA targeting over 1,000,000 cameras: who a request reaches, on SQLite and PostgreSQL.

Run: ``.venv/bin/python bench/targeting.py [--cameras 1000000] [--requests 200] [--skip-postgres]``.
Cameras are spread like a metro area: dense neighbourhoods (Gaussian clusters of 1-4 km) over a
thinner 40 x 40 km background, 40% of them opted in to requests. Requests are circles of 200-500 m
(0.05-0.3 sq mi, the sizes the policy allows) centred where cameras are, plus some polygons.
What is timed is exactly what posting a request runs: ``select_recipients`` with the request's
cells (indexed ``cell IN (...)``; the public cell alone decides). The limit is the design's: a
median of at most 20 ms.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import h3
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import cells_covering, circle_polygon, polygon
from doorstep.platform.db import Database, make_engine
from doorstep.platform.migrate import migrate
from doorstep.requests.rules import Circle, Polygon
from doorstep.requests.store import select_recipients

POSTGRES = os.environ.get(
    "DOORSTEP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LIMIT_MS = 20.0
METRO = (45.52, -122.68)
HALF_SIDE_KM = 20.0
RESOLUTION = 8
CAMERAS_PER_OWNER = 1.4
OPT_IN = 0.4
KM_PER_DEG_LAT = 111.195


def _offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    return (
        lat + north_km / KM_PER_DEG_LAT,
        lon + east_km / (KM_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


def positions(count: int, rng: random.Random) -> list[tuple[float, float]]:
    """Camera positions over a metro area: 80% in neighbourhood clusters, 20% background."""
    centres = [
        (
            _offset(*METRO, rng.uniform(-15, 15), rng.uniform(-15, 15)),
            rng.uniform(1.0, 4.0),
        )
        for _ in range(60)
    ]
    weights = [rng.uniform(0.5, 2.0) for _ in centres]
    result = []
    for _ in range(count):
        if rng.random() < 0.2:
            north = rng.uniform(-HALF_SIDE_KM, HALF_SIDE_KM)
            east = rng.uniform(-HALF_SIDE_KM, HALF_SIDE_KM)
            result.append(_offset(*METRO, north, east))
            continue
        (lat, lon), sigma = rng.choices(centres, weights)[0]
        result.append(_offset(lat, lon, rng.gauss(0, sigma), rng.gauss(0, sigma)))
    return result


def areas(
    points: list[tuple[float, float]], count: int, rng: random.Random
) -> list[tuple[Circle | Polygon, frozenset[str]]]:
    """Typical request areas with their cells: mostly circles, every fifth a square polygon."""
    result: list[tuple[Circle | Polygon, frozenset[str]]] = []
    for index in range(count):
        lat, lon = rng.choice(points)
        radius = rng.uniform(200, 500)
        shape: Circle | Polygon
        if index % 5 == 4:
            half = radius / 1000
            corners = [
                _offset(lat, lon, -half, -half),
                _offset(lat, lon, -half, half),
                _offset(lat, lon, half, half),
                _offset(lat, lon, half, -half),
            ]
            shape = polygon(corners)
            outline = shape
        else:
            shape = Circle(Coordinates(lat, lon), radius)
            outline = circle_polygon(shape)
        result.append((shape, cells_covering(outline, RESOLUTION)))
    return result


def _rows(points: list[tuple[float, float]], rng: random.Random) -> Iterator[tuple[object, ...]]:
    owners = max(1, int(len(points) / CAMERAS_PER_OWNER))
    for index, (lat, lon) in enumerate(points):
        yield (
            f"c{index:031d}",
            f"u{rng.randrange(owners):031d}",
            lat,
            lon,
            str(h3.latlng_to_cell(lat, lon, RESOLUTION)),
            rng.random() < OPT_IN,
        )


CAMERA_COLUMNS = (
    "id, owner_id, name, lat, lon, cell, created_at, motion_zones, privacy_zones, audio_enabled, "
    "alert_mode, retention_days, requests_opt_in, e2e_enabled, config_version"
)
USER_COLUMNS = "id, email, password_hash, display_name, role, created_at, password_changed_at"


def seed_sqlite(engine: Engine, points: list[tuple[float, float]], rng: random.Random) -> None:
    """Fill users and cameras with executemany, in one transaction."""
    now = datetime.now(UTC).isoformat()
    owners = max(1, int(len(points) / CAMERAS_PER_OWNER))
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.executemany(
            f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, 'x', 'n', 'resident', ?, ?)",
            [(f"u{i:031d}", f"u{i}@bench.example", now, now) for i in range(owners)],
        )
        cursor.executemany(
            f"INSERT INTO cameras ({CAMERA_COLUMNS}) "
            "VALUES (?, ?, 'cam', ?, ?, ?, ?, '[]', '[]', 0, 'all', 30, ?, 0, 1)",
            [
                (cid, owner, lat, lon, cell, now, opt)
                for cid, owner, lat, lon, cell, opt in _rows(points, rng)
            ],
        )
        connection.commit()
        cursor.execute("ANALYZE")
    finally:
        connection.close()


def seed_postgres(engine: Engine, points: list[tuple[float, float]], rng: random.Random) -> None:
    """Fill users and cameras with COPY."""
    now = datetime.now(UTC).isoformat()
    owners = max(1, int(len(points) / CAMERAS_PER_OWNER))
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        users = io.StringIO()
        for i in range(owners):
            users.write(f"u{i:031d}\tu{i}@bench.example\tx\tn\tresident\t{now}\t{now}\n")
        users.seek(0)
        with cursor.copy(f"COPY users ({USER_COLUMNS}) FROM STDIN") as copy:
            copy.write(users.getvalue())
        cameras = io.StringIO()
        for cid, owner, lat, lon, cell, opt in _rows(points, rng):
            cameras.write(
                f"{cid}\t{owner}\tcam\t{lat!r}\t{lon!r}\t{cell}\t{now}\t[]\t[]\tf\tall\t30\t"
                f"{'t' if opt else 'f'}\tf\t1\n"
            )
        with cursor.copy(f"COPY cameras ({CAMERA_COLUMNS}) FROM STDIN") as copy:
            copy.write(cameras.getvalue())
        connection.commit()
        # A steady-state table: vacuumed, so the targeting index answers without the heap.
        driver = connection.driver_connection
        assert driver is not None
        driver.autocommit = True
        vacuum = driver.cursor()
        vacuum.execute("VACUUM ANALYZE users")
        vacuum.execute("VACUUM ANALYZE cameras")
    finally:
        connection.close()


def measure(
    url: str, requests: list[tuple[Circle | Polygon, frozenset[str]]]
) -> tuple[list[float], list[int]]:
    """Time ``select_recipients`` for each request (after two warm-up passes)."""
    database = Database(url)
    timings: list[float] = []
    reached: list[int] = []
    try:
        with database.session() as db:
            for _shape, cells in requests[:20] * 2:
                select_recipients(db, cells)
            for _shape, cells in requests:
                started = time.perf_counter()
                found = select_recipients(db, cells)
                timings.append((time.perf_counter() - started) * 1000)
                reached.append(len(found))
    finally:
        database.dispose()
    return timings, reached


def _row(backend: str, cameras: int, timings: list[float], reached: list[int]) -> str:
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    verdict = "ok" if median <= LIMIT_MS else "NO"
    return (
        f"| {backend:<10} | {cameras:>9,} | {len(timings):>8} | {statistics.mean(reached):>10.0f} "
        f"| {median:>9.2f} | {p95:>8.2f} | {LIMIT_MS:>8.0f} | {verdict:<2} |"
    )


def main() -> None:
    """Seed, measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    rng = random.Random(6)
    started = time.perf_counter()
    points = positions(args.cameras, rng)
    requests = areas(points, args.requests, rng)
    elapsed = time.perf_counter() - started
    print(f"made {len(points):,} positions and {len(requests)} areas in {elapsed:.1f} s")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'targeting.db'}"
        engine = make_engine(url)
        migrate(engine)
        started = time.perf_counter()
        seed_sqlite(engine, points, random.Random(7))
        engine.dispose()
        print(f"SQLite seeded in {time.perf_counter() - started:.1f} s")
        rows.append(_row("SQLite", len(points), *measure(url, requests)))
        print(rows[-1])
    if not args.skip_postgres:
        schema = f"bench_targeting_{os.getpid()}"
        admin = create_engine(POSTGRES)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
            engine = make_engine(url)
            migrate(engine)
            started = time.perf_counter()
            seed_postgres(engine, points, random.Random(7))
            engine.dispose()
            print(f"PostgreSQL seeded in {time.perf_counter() - started:.1f} s")
            rows.append(_row("PostgreSQL", len(points), *measure(url, requests)))
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    print()
    print(
        "| backend    |   cameras | requests | recipients | median ms |   p95 ms | limit ms | ok |"
    )
    print(
        "|------------|----------:|---------:|-----------:|----------:|---------:|---------:|----|"
    )
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
