"""Load on a multi-process server: cameras uploading while residents read the feed and timeline.

Run: ``.venv/bin/python bench/load.py [--seconds 60] [--agents 50] [--readers 200]`` (short form
in the test command: ``--seconds 10 --agents 10 --readers 20 --posts 2000 --check``, which fails
on any error). Everything is on loopback: `doorstep serve
--workers 2` on PostgreSQL (a schema of its own, dropped at the end) with clips in a temporary
folder. Each agent uploads a clip, waits ``--agent-pause`` seconds and uploads the next; each
reader asks for the feed or the timeline once a second, so 200 readers make 200 requests/s.
Four runs of ``--seconds`` each: agents and readers at once; the readers alone (the same
server, its clips from the first run kept); the readers asking for nothing but the feed (the
feed target as Doorstep sets it: p99 at most 50 ms at 200 requests/s on two cores with 100,000
posts); then the readers against a bare Starlette endpoint served the same way (the limit).
Targets: no errors at 50 agents and 200 readers; feed p99 at most 50 ms at 200 requests/s.
Both clients write raw HTTP/1.1 (``_wire.py``), so the load generator's own CPU takes as little
as it can from the server's two cores. Each run also reports how busy the whole machine was,
how much of its CPU the host took away (steal), and how long a fixed piece of Python took just
before it (``reference ms``): the same code runs at different speeds from hour to hour here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from multiprocessing import get_context
from pathlib import Path

import av
import cv2
import h3
import httpx
import numpy as np
from sqlalchemy import create_engine, insert, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from _wire import Connection, WireError, multipart
from doorstep.accounts.store import create_user
from doorstep.geo.cells import Coordinates
from doorstep.master_key import new_master_key
from doorstep.neighbors.models import Post
from doorstep.neighbors.rules import PostCategory
from doorstep.platform.db import Database
from doorstep.platform.http.deps import SESSION_COOKIE
from doorstep.platform.migrate import migrate
from doorstep.platform.types import new_id, utcnow

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CENTRE = Coordinates(45.523612, -122.677144)
RESOLUTION = 8
PASSWORD = "lantern-porch-9"
DISTINCT_CLIPS = 48
FEED_P99_LIMIT_MS = 50.0
BIN = Path(sys.executable).parent


def bare_app() -> Starlette:
    """The limit: a JSON endpoint doing nothing, served by the same uvicorn setup."""

    async def feed(_request: Request) -> JSONResponse:
        return JSONResponse({"posts": []})

    return Starlette(routes=[Route("/api/v1/feed", feed), Route("/api/v1/clips", feed)])


@dataclass
class Tally:
    """Latencies and errors of one kind of request."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class Run:
    """What one load run measured, by kind of request."""

    seconds: float
    kinds: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    #: The whole machine over the run, in % of all its cores: working, and taken by the host
    #: (steal: another guest had the real CPU). A slow run with steal is the machine's doing.
    busy_pct: float = math.nan
    steal_pct: float = math.nan
    #: How long a fixed piece of Python took just before the run (best of five): this machine's
    #: speed changes from hour to hour without any steal to show for it, and this shows it.
    reference_ms: float = math.nan

    async def timed_get(self, kind: str, connection: Connection, target: str) -> None:
        """GET ``target`` on ``connection`` and record its latency, or the error it ended with."""
        await self.timed_wire(kind, connection.get(target))

    async def timed_wire(self, kind: str, call: Awaitable[tuple[int, int]]) -> None:
        """Await a request on a wire connection; record its latency or the error it ended with."""
        started = time.perf_counter()
        try:
            status, _size = await call
        except WireError as err:
            self.kinds[kind].errors[f"connection: {err}"] += 1
            return
        elapsed = (time.perf_counter() - started) * 1000
        if status >= 400:
            self.kinds[kind].errors[f"HTTP {status}"] += 1
            return
        self.kinds[kind].latencies_ms.append(elapsed)


def cpu_ticks() -> tuple[int, int, int]:
    """The machine's CPU ticks so far from /proc/stat: working, stolen by the host, in all."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq, steal, sum(fields)


def reference_ms() -> float:
    """The best of five timings of the same small Python workload, in ms: the machine's speed."""
    best = math.inf
    for _ in range(5):
        started = time.perf_counter()
        table = {str(index): index for index in range(50_000)}
        sum(table[str(index)] for index in range(50_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _clip(path: Path, frames: int) -> bytes:
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for index in range(frames):
            image = np.full((96, 160, 3), 90, dtype=np.uint8)
            image[30:60, index * 2 : index * 2 + 30] = (40, 200, 240)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path.read_bytes()


def _seed_posts(database: Database, count: int, author_id: str, rng: random.Random) -> None:
    categories = [category.value for category in PostCategory]
    lat_m = 111_320.0
    lon_m = lat_m * math.cos(math.radians(CENTRE.lat))
    now = utcnow()
    rows: list[dict[str, object]] = []
    for index in range(count):
        distance = 3 * 1609.344 * math.sqrt(rng.random())
        bearing = rng.random() * 2 * math.pi
        lat = CENTRE.lat + distance * math.cos(bearing) / lat_m
        lon = CENTRE.lon + distance * math.sin(bearing) / lon_m
        rows.append(
            {
                "id": new_id(),
                "author_id": author_id,
                "category": rng.choice(categories),
                "text": f"Load post {index}: a parcel left out in the rain.",
                "cell": h3.latlng_to_cell(lat, lon, RESOLUTION),
                "created_at": now - timedelta(seconds=rng.randrange(30 * 24 * 3600)),
                "status": "visible",
                "contact_opt_in": False,
                "helpful_count": 0,
                "comment_count": 0,
            }
        )
    with database.session() as db:
        db.execute(insert(Post), rows)


def _seed_owners(database: Database, count: int) -> list[str]:
    emails = [f"owner{index}@load.example" for index in range(count)]
    with database.session() as db:
        for email in emails:
            create_user(
                db,
                email=email,
                password=PASSWORD,
                display_name=email.split("@")[0],
                home=CENTRE,
                cell_resolution=RESOLUTION,
            )
    return emails


def _serve(
    command: list[str], env: dict[str, str], port: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{command[0]} exited:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/feed", timeout=2).status_code < 500:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    _stop(process)
    raise SystemExit(f"{command[0]} did not start on port {port}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


@dataclass
class Owner:
    """A resident with a paired camera: a session cookie for reading, a token for uploading."""

    cookies: httpx.Cookies
    token: str


async def _owner(client: httpx.AsyncClient, email: str) -> Owner:
    login = await client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    csrf = login.json()["csrf_token"]
    cookies = httpx.Cookies(client.cookies)
    client.cookies.clear()
    headers = {"x-csrf-token": csrf}
    camera = await client.post(
        "/api/v1/cameras", json={"name": "Porch"}, headers=headers, cookies=cookies
    )
    camera.raise_for_status()
    code = await client.post(
        f"/api/v1/cameras/{camera.json()['id']}/pairing-code", headers=headers, cookies=cookies
    )
    code.raise_for_status()
    paired = await client.post(
        "/api/v1/devices/pair", json={"code": code.json()["code"], "agent_version": "load"}
    )
    paired.raise_for_status()
    return Owner(cookies, paired.json()["token"])


async def _agent(
    run: Run,
    connection: Connection,
    owner: Owner,
    clips: list[bytes],
    jpeg: bytes,
    pause: float,
    until: float,
    offset: int,
) -> None:
    index = offset
    while time.monotonic() < until:
        start = utcnow()
        meta = {
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(seconds=2)).isoformat(),
            "peak_motion": 0.3,
            "labels": ["person"],
        }
        content_type, body = multipart(
            {"meta": json.dumps(meta)},
            {
                "video": ("clip.mp4", clips[index % len(clips)], "video/mp4"),
                "snapshot": ("snap.jpg", jpeg, "image/jpeg"),
            },
        )
        headers = {"authorization": f"Bearer {owner.token}", "content-type": content_type}
        await run.timed_wire("upload", connection.post("/api/v1/devices/clips", headers, body))
        index += 1
        await asyncio.sleep(pause)
    await connection.close()


async def _reader(
    run: Run, connection: Connection, until: float, rng: random.Random, feed_share: float
) -> None:
    # Spread the readers' first requests over a second, so the rate is steady from the start.
    await asyncio.sleep(rng.random())
    while time.monotonic() < until:
        tick = time.monotonic()
        if rng.random() < feed_share:
            target = f"/api/v1/feed?radius={rng.choice((0.5, 1.0, 2.0, 5.0))}"
            await run.timed_get("feed", connection, target)
        else:
            await run.timed_get("timeline", connection, "/api/v1/clips")
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    await connection.close()


async def _readers(
    port: int, cookies: list[str], readers: int, seconds: float, feed_share: float
) -> Run:
    run = Run(seconds)
    rng = random.Random(3)
    until = time.monotonic() + seconds
    tasks = [
        _reader(
            run,
            Connection(
                "127.0.0.1", port, {"cookie": cookies[index % len(cookies)]} if cookies else {}
            ),
            until,
            random.Random(rng.random()),
            feed_share,
        )
        for index in range(readers)
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 60)
    return run


def readers_process(
    port: int, cookies: list[str], readers: int, seconds: float, feed_share: float
) -> Run:
    """The residents' side of the load, in a process of its own so uploads cannot delay it."""
    return asyncio.run(_readers(port, cookies, readers, seconds, feed_share))


async def _load(
    port: int,
    owners: list[Owner],
    readers: int,
    seconds: float,
    uploads: tuple[list[bytes], bytes, float] | None,
    feed_share: float = 0.5,
) -> Run:
    """Readers (and, given ``uploads``, one camera per owner) for ``seconds`` against ``port``.

    Each reader's request is a feed page with probability ``feed_share``, else the timeline.
    """
    cookies = [f"{SESSION_COOKIE}={owner.cookies[SESSION_COOKIE]}" for owner in owners]
    reference = reference_ms()
    busy_before, steal_before, total_before = cpu_ticks()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as pool:
        reading = asyncio.get_running_loop().run_in_executor(
            pool, readers_process, port, cookies, readers, seconds, feed_share
        )
        run = Run(seconds)
        if uploads is not None:
            clips, jpeg, pause = uploads
            until = time.monotonic() + seconds
            await asyncio.wait_for(
                asyncio.gather(
                    *(
                        _agent(
                            run,
                            Connection("127.0.0.1", port, {}),
                            owner,
                            clips,
                            jpeg,
                            pause,
                            until,
                            offset,
                        )
                        for offset, owner in enumerate(owners)
                    )
                ),
                timeout=seconds + 60,
            )
        read = await reading
    run.kinds.update(read.kinds)
    busy, steal, total = cpu_ticks()
    elapsed = max(1, total - total_before)
    run.busy_pct = 100 * (busy - busy_before) / elapsed
    run.steal_pct = 100 * (steal - steal_before) / elapsed
    run.reference_ms = reference
    return run


async def _owners(base_url: str, emails: list[str]) -> list[Owner]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        owners = []
        # One at a time: the password hash is deliberately slow and this is not what is measured.
        for email in emails:
            owners.append(await _owner(client, email))
        return owners


def _row(server: str, kind: str, run: Run) -> str:
    tally, seconds = run.kinds[kind], run.seconds
    count = len(tally.latencies_ms)
    if count >= 2:
        cuts = statistics.quantiles(tally.latencies_ms, n=100, method="inclusive")
        p50, p99 = statistics.median(tally.latencies_ms), cuts[98]
    else:
        p50 = p99 = float("nan")
    errors = ", ".join(f"{name} x{n}" for name, n in sorted(tally.errors.items())) or "0"
    return (
        f"| {server} | {kind} | {count} | {count / seconds:.1f} | {p50:.1f} | {p99:.1f} "
        f"| {errors} | {run.busy_pct:.0f} | {run.steal_pct:.1f} | {run.reference_ms:.1f} |"
    )


def main() -> None:
    """Run the load and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--agent-pause", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when any Doorstep request failed (the short form in the test command)",
    )
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600 or args.agents < 1 or args.readers < 0:
        raise SystemExit("--seconds 1..600, --agents at least 1, --readers at least 0")
    schema = f"bench_load_{os.getpid()}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="doorstep-load-") as scratch:
            folder = Path(scratch)
            url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
            database = Database(url)
            migrate(database.engine)
            rng = random.Random(5)
            emails = _seed_owners(database, args.agents)
            with database.session() as db:
                author = create_user(
                    db,
                    email="author@load.example",
                    password=PASSWORD,
                    display_name="Author",
                    home=CENTRE,
                    cell_resolution=RESOLUTION,
                )
                author_id = author.id
            _seed_posts(database, args.posts, author_id, rng)
            with database.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
            database.dispose()
            clips = [_clip(folder / f"{n}.mp4", 12 + n) for n in range(DISTINCT_CLIPS)]
            ok, encoded = cv2.imencode(".jpg", np.full((96, 160, 3), 120, dtype=np.uint8))
            assert ok
            jpeg = encoded.tobytes()
            env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
            env.update(
                DOORSTEP_ENV="test",
                DOORSTEP_DATA_DIR=str(folder / "data"),
                DOORSTEP_DATABASE_URL=url,
                DOORSTEP_MASTER_KEY=new_master_key(),
            )
            port, bare_port = free_port(), free_port()
            doorstep = [str(BIN / "doorstep"), "serve", "--port", str(port)]
            doorstep += ["--workers", str(args.workers)]
            processes.append(_serve(doorstep, env, port, folder / "doorstep.log"))
            bare = [str(BIN / "python"), "-m", "uvicorn", "--factory", "load:bare_app"]
            bare += ["--app-dir", str(Path(__file__).parent), "--port", str(bare_port)]
            bare += ["--workers", str(args.workers), "--log-level", "warning"]
            processes.append(_serve(bare, env, bare_port, folder / "bare.log"))
            owners = asyncio.run(_owners(f"http://127.0.0.1:{port}", emails))
            print(
                f"{args.agents} agents, {args.readers} readers, {args.seconds:g} s, "
                f"{args.posts:,} posts, {args.workers} server processes, {os.cpu_count()} cores"
            )
            mixed = asyncio.run(
                _load(port, owners, args.readers, args.seconds, (clips, jpeg, args.agent_pause))
            )
            reads = asyncio.run(_load(port, owners, args.readers, args.seconds, None))
            feeds = asyncio.run(_load(port, owners, args.readers, args.seconds, None, 1.0))
            limit = asyncio.run(_load(bare_port, [], args.readers, args.seconds, None))
            server_log = (folder / "doorstep.log").read_text(errors="replace")
    finally:
        for process in processes:
            _stop(process)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    both = f"doorstep, {args.agents} agents + {args.readers} readers"
    alone = f"doorstep, {args.readers} readers only"
    feed_only = f"doorstep, {args.readers} readers of the feed only"
    print()
    print(
        "| server | request | count | per s | p50 ms | p99 ms | errors "
        "| busy % | steal % | reference ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("upload", "feed", "timeline"):
        print(_row(both, kind, mixed))
    for kind in ("feed", "timeline"):
        print(_row(alone, kind, reads))
    print(_row(feed_only, "feed", feeds))
    for kind in ("feed", "timeline"):
        print(_row("bare ASGI", kind, limit))
    runs = ((both, mixed), (alone, reads), (feed_only, feeds))
    errors = sum(sum(t.errors.values()) for _, run in runs for t in run.kinds.values())
    print()
    print(f"errors: {errors} (target 0)")
    for name, run in runs:
        feed = run.kinds["feed"].latencies_ms
        p99 = (
            statistics.quantiles(feed, n=100, method="inclusive")[98] if len(feed) > 1 else math.nan
        )
        rate = (len(feed) + len(run.kinds["timeline"].latencies_ms)) / run.seconds
        print(
            f"{name}: feed p99 {p99:.1f} ms (target <= {FEED_P99_LIMIT_MS:g} ms)"
            f" at {rate:.0f} reads/s"
        )
    if errors:
        print("\nlast lines of the Doorstep server's log:\n" + server_log[-4000:])
    fed = all(run.kinds["feed"].latencies_ms for _, run in runs)
    if args.check and (errors or not fed):
        raise SystemExit("load check failed: errors, or no feed request completed")


if __name__ == "__main__":
    main()
