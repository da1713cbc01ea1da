"""Web Push latency: an event committed → its push POST received by the push service.

Run: ``.venv/bin/python bench/push.py [--rings 40] [--devices 1,100,1000] [--floods 8]
[--fanouts 3] [--service-ms 50] [--check]``. Everything on loopback, on this machine: the
Doorstep app (``create_app``, SQLite in a temporary data folder, loopback push endpoints
allowed) on uvicorn in a thread of this process, and the test push service
(``tests/notify/push_service.py``: RFC 8030, VAPID checked, payload decrypted) in a process of
its own, so its decryption does not take the server's interpreter. Each answer of the push
service takes ``--service-ms``, as a real one across the internet does: what holds a sender's
thread is the round trip, and a ring can only go first if the outbox lets it.

Everything goes the product's way: residents sign up, pair a camera and subscribe their devices
through the API; rings are presses on the device API, motion is the agent's event announcement,
the fan-out is a verified agency's Request for Assistance reaching every opted-in owner. The
moment an event commits is read from SQLAlchemy's ``after_commit`` (the events queued on the
session), and the moment a push arrives is the push service's clock (the same machine's).
Passwords are hashed with argon2id at its cheapest: the bench measures pushes, not sign-ups.

Measured, in the same run:
- a ring to its owner's two devices (one when only one exists) with 1, 100 and 1,000 devices
  subscribed across the service (two per resident);
- a ring right after a flood of motion alerts to all 1,000 devices, and how many motion pushes
  were still to come when the ring arrived (the rings that overtook a queue);
- one Request for Assistance to every owner: each of its 1,000 deliveries, and the last one.
Limit (the doorbell's design): a ring's push p99 ≤ 500 ms with 1,000 devices subscribed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.app import create_app
from doorstep.platform import after_commit, security
from doorstep.settings import Environment, Settings

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-porch-light-7"
LIMIT_P99_MS = 500.0
#: A camera rings again only 10 s after its last ring (doorbell rules); a little margin.
COOLDOWN_S = 10.5
#: Inside the test agency's jurisdiction; every owner lives here, so a request reaches them all.
HOME = {"lat": 45.5236, "lon": -122.6771}
JURISDICTION = {
    "type": "Polygon",
    "coordinates": [
        [[-122.72, 45.49], [-122.60, 45.49], [-122.60, 45.57], [-122.72, 45.57], [-122.72, 45.49]]
    ],
}
#: Where ``after_commit.defer`` keeps a session's queued work (read here, never changed).
PENDING = "doorstep.after_commit"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def serve_pushes(conn: Connection, delay: float) -> None:
    """The push service's process: answers the bench's commands over ``conn``."""
    # The test push service lives with the tests; this process imports it from the checkout.
    sys.path.insert(0, str(ROOT))
    from tests.notify.push_service import PushService

    with PushService(delay=delay) as service:
        while True:
            command, argument = conn.recv()
            if command == "subscribe":
                conn.send([service.subscription() for _ in range(argument)])
            elif command == "received":
                conn.send(
                    [
                        (r.subscription_id, r.payload.get("type"), r.payload.get("url"), r.at)
                        for r in service.received[argument:]
                    ]
                )
            elif command == "rejected":
                conn.send([(r.status, r.reason) for r in service.rejected])
            else:
                conn.send(None)
                return


@dataclass(frozen=True)
class Delivery:
    """One push as the push service received it."""

    device: str
    type: str
    url: str
    at: float


class Receiver:
    """The push service in its own process, driven over a pipe."""

    def __init__(self, delay: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve_pushes, args=(child, delay), daemon=True)
        self._process.start()
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def _ask(self, command: str, argument: object = None) -> Any:
        with self._lock:
            self._conn.send((command, argument))
            return self._conn.recv()

    def subscriptions(self, count: int) -> list[dict[str, Any]]:
        """``count`` fresh subscriptions, as browsers would send them."""
        found: list[dict[str, Any]] = self._ask("subscribe", count)
        return found

    def poll(self) -> list[Delivery]:
        """Every delivery so far (the new ones fetched)."""
        new = self._ask("received", len(self.deliveries))
        self.deliveries.extend(Delivery(*row) for row in new)
        return self.deliveries

    def wait_until(self, count: int, timeout: float, quiet: float = 5.0) -> list[Delivery]:
        """Poll until ``count`` deliveries in all arrived, or none for ``quiet`` s, or timeout."""
        deadline = time.monotonic() + timeout
        seen, last_new = len(self.deliveries), time.monotonic()
        while len(self.poll()) < count and time.monotonic() < deadline:
            if len(self.deliveries) > seen:
                seen, last_new = len(self.deliveries), time.monotonic()
            elif time.monotonic() - last_new > quiet:
                break
            time.sleep(0.01)
        return self.deliveries

    def rejected(self) -> list[tuple[int, str]]:
        """What the push service refused, with why."""
        found: list[tuple[int, str]] = self._ask("rejected")
        return found

    def stop(self) -> None:
        """Stop the push service's process."""
        self._ask("stop")
        self._process.join(10)


class Commits:
    """When each ring, event and request committed, read from the session's queued events."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    def __call__(self, session: Session) -> None:
        """Note the commit time of every ring, event start and request the session told."""
        now = time.time()
        for _account, event in session.info.get(PENDING, {}).get(after_commit.EVENTS, []):
            key = (
                event.get("ring_id") or event.get("event_id") or event.get("request", {}).get("id")
            )
            if key is not None and event.get("type") in ("ring", "event_started", "rfa"):
                self.at.setdefault(str(key), now)


@dataclass
class Owner:
    """A resident with cameras (their device tokens) and subscribed push devices."""

    email: str
    cameras: list[str]
    devices: set[str] = field(default_factory=set)
    last_rung: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def server(settings: Settings) -> Iterator[tuple[str, Any]]:
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=settings.port, log_level="warning", lifespan="on"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        if time.monotonic() > deadline:
            raise SystemExit("the Doorstep app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}", app
    finally:
        running.should_exit = True
        thread.join(30)


def sign_in(http: httpx.Client, email: str, name: str) -> str:
    """Sign a resident at HOME up and in; their CSRF token."""
    body = {"email": email, "password": PASSWORD, "display_name": name, "home": HOME}
    http.post("/api/v1/accounts", json=body).raise_for_status()
    session = http.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    session.raise_for_status()
    csrf: str = session.json()["csrf_token"]
    return csrf


def new_owner(url: str, index: int, subscriptions: list[dict[str, Any]], cameras: int) -> Owner:
    """Through the API: sign up, pair ``cameras`` cameras, subscribe each of ``subscriptions``."""
    with httpx.Client(base_url=url, timeout=60) as http:
        email = f"resident{index}@example.org"
        csrf = sign_in(http, email, f"Resident {index}")
        headers = {"x-csrf-token": csrf}
        owner = Owner(email, [])
        for number in range(cameras):
            body = {"name": f"Front door {number}", "requests_opt_in": True}
            camera = http.post("/api/v1/cameras", json=body, headers=headers)
            camera.raise_for_status()
            code = http.post(
                f"/api/v1/cameras/{camera.json()['id']}/pairing-code", headers=headers
            ).json()["code"]
            paired = http.post("/api/v1/devices/pair", json={"code": code, "agent_version": "b"})
            paired.raise_for_status()
            owner.cameras.append(paired.json()["token"])
        for number, subscription in enumerate(subscriptions):
            body = {**subscription, "name": f"Phone {number}", "expirationTime": None}
            added = http.post("/api/v1/push/devices", json=body, headers=headers)
            if added.status_code not in (200, 201):
                raise SystemExit(f"subscribing a device failed: {added.status_code} {added.text}")
            owner.devices.add(subscription["endpoint"].rsplit("/", 1)[1])
        return owner


class Bench:
    """The running service, its residents, and the push service they subscribed with."""

    def __init__(self, url: str, receiver: Receiver, commits: Commits) -> None:
        self.url = url
        self.receiver = receiver
        self.commits = commits
        self.owners: list[Owner] = []
        self.device = httpx.Client(base_url=url, timeout=60)
        #: Ring pushes that did not arrive in time (or presses that did not ring).
        self.missed = 0

    @property
    def device_count(self) -> int:
        """How many devices are subscribed across the service."""
        return sum(len(owner.devices) for owner in self.owners)

    def grow(self, devices: int) -> None:
        """Add residents with two devices each (the first with one) until ``devices`` exist."""
        plans: list[tuple[int, int]] = []
        count, index = self.device_count, len(self.owners)
        while count < devices:
            each = 1 if index == 0 else min(2, devices - count)
            plans.append((index, each))
            count, index = count + each, index + 1
        subscriptions = self.receiver.subscriptions(sum(each for _, each in plans))
        jobs = []
        with ThreadPoolExecutor(8) as pool:
            for index, each in plans:
                mine, subscriptions = subscriptions[:each], subscriptions[each:]
                # The first resident rings alone when only one device exists: cameras enough to
                # ring again and again inside the cooldown.
                jobs.append(pool.submit(new_owner, self.url, index, mine, 20 if index == 0 else 1))
            self.owners.extend(job.result() for job in jobs)

    def ring(self, owner: Owner) -> tuple[float, str] | None:
        """Press one of the owner's cameras not rung within the cooldown; (pressed at, ring id)."""
        now = time.monotonic()
        ready = [
            t for t in owner.cameras if now - owner.last_rung.get(t, -COOLDOWN_S) >= COOLDOWN_S
        ]
        if not ready:
            time.sleep(COOLDOWN_S - (now - min(owner.last_rung.values())))
            return self.ring(owner)
        token = ready[0]
        pressed = time.time()
        answer = self.device.post(
            "/api/v1/devices/ring",
            data={"source": "button"},
            headers={"authorization": f"Bearer {token}"},
        )
        owner.last_rung[token] = time.monotonic()
        answer.raise_for_status()
        body = answer.json()
        return (pressed, str(body["ring_id"])) if body["rang"] else None

    def ring_latencies(self, owner: Owner, timeout: float = 10.0) -> tuple[list[float], int]:
        """Ring the owner; commit → received for each of their devices, and motion pushes after.

        The second figure is the position just past the ring's last delivery among all
        deliveries: what arrives after it (once the caller waited for the flood) it overtook.
        """
        start = len(self.receiver.poll())
        rung = self.ring(owner)
        if rung is None:
            self.missed += len(owner.devices)
            return [], start
        pressed, ring_id = rung
        deadline = time.monotonic() + timeout
        arrived: list[Delivery] = []
        while time.monotonic() < deadline:
            new = self.receiver.poll()[start:]
            arrived = [d for d in new if d.type == "ring" and d.device in owner.devices]
            if len(arrived) >= len(owner.devices):
                break
            time.sleep(0.005)
        self.missed += max(0, len(owner.devices) - len(arrived))
        committed = self.commits.at.get(ring_id, pressed)
        # Where the ring's last delivery stands among all deliveries, in order of arrival.
        after = max((self.receiver.deliveries.index(d) + 1 for d in arrived), default=start)
        return [d.at - committed for d in arrived], after

    def motion(self, owner: Owner) -> str:
        """The agent of the owner's first camera announces a person; the event's id."""
        event_id = str(uuid.uuid4())
        meta = {
            "event_id": event_id,
            "started_at": datetime.now(UTC).isoformat(),
            "labels": ["person"],
        }
        self.device.post(
            "/api/v1/devices/events",
            data={"meta": json.dumps(meta)},
            headers={"authorization": f"Bearer {owner.cameras[0]}"},
        ).raise_for_status()
        return event_id

    def agency(self, app_db: Any, cell_resolution: int) -> tuple[httpx.Client, str]:
        """A verified agency's signed-in client and CSRF token, made through the API."""
        chief = httpx.Client(base_url=self.url, timeout=60)
        csrf = sign_in(chief, "chief@ppb.example", "Chief")
        applied = chief.post(
            "/api/v1/agencies",
            json={
                "name": "Portland Police Bureau",
                "kind": "law_enforcement",
                "jurisdiction": JURISDICTION,
                "contact": "records@ppb.example",
            },
            headers={"x-csrf-token": csrf},
        )
        applied.raise_for_status()
        # Staff accounts are made on the command line, not through the API.
        with app_db.session() as db:
            create_user(
                db,
                email="admin@doorstep.example",
                password=PASSWORD,
                display_name="Admin",
                home=None,
                cell_resolution=cell_resolution,
                role=Role.ADMIN,
            )
        with httpx.Client(base_url=self.url, timeout=60) as admin:
            session = admin.post(
                "/api/v1/session", json={"email": "admin@doorstep.example", "password": PASSWORD}
            )
            session.raise_for_status()
            admin.post(
                f"/api/v1/agencies/{applied.json()['id']}/verify",
                headers={"x-csrf-token": session.json()["csrf_token"]},
            ).raise_for_status()
        return chief, csrf

    def request(self, chief: httpx.Client, csrf: str, number: int) -> str:
        """Post a Request for Assistance around HOME (every owner); its id."""
        now = datetime.now(UTC)
        body = {
            "case_number": f"PPB-2026-{number:04d}",
            "incident_type": "Burglary",
            "description": "A side door was forced; we are looking for anyone carrying a toolbox.",
            "centre": HOME,
            "radius_m": 300,
            "window_start": (now - timedelta(hours=2)).isoformat(),
            "window_end": (now - timedelta(minutes=1)).isoformat(),
        }
        posted = chief.post("/api/v1/requests", json=body, headers={"x-csrf-token": csrf})
        if posted.status_code != 201:
            raise SystemExit(f"the request was refused: {posted.status_code} {posted.text}")
        return str(posted.json()["id"])


def measure_rings(bench: Bench, rings: int) -> list[float]:
    """``rings`` rings to owners picked in turn; commit → received of every delivery, in s."""
    latencies: list[float] = []
    with_devices = [owner for owner in bench.owners if owner.devices]
    for number in range(rings):
        owner = with_devices[(number * 7919) % len(with_devices)]
        found, _ = bench.ring_latencies(owner)
        latencies.extend(found)
        time.sleep(0.02)
    return latencies


def measure_floods(bench: Bench, floods: int) -> tuple[list[float], list[int]]:
    """Motion alerts to every device, then a ring: its latencies, and the motion it overtook."""
    latencies: list[float] = []
    overtaken: list[int] = []
    motion_per_flood = bench.device_count
    with ThreadPoolExecutor(16) as pool:
        for number in range(floods):
            before = len(bench.receiver.poll())
            list(pool.map(bench.motion, bench.owners))
            ringer = bench.owners[1 + (number * 7919) % (len(bench.owners) - 1)]
            found, ring_seen_at = bench.ring_latencies(ringer, timeout=60)
            latencies.extend(found)
            expected = before + motion_per_flood + len(ringer.devices)
            bench.receiver.wait_until(expected, timeout=120)
            later = bench.receiver.deliveries[ring_seen_at:]
            overtaken.append(sum(1 for d in later if d.type != "ring"))
    return latencies, overtaken


def measure_fanouts(
    bench: Bench, chief: httpx.Client, csrf: str, fanouts: int
) -> tuple[list[float], list[float]]:
    """Requests for Assistance to every owner: each delivery's latency and each last one's."""
    each: list[float] = []
    last: list[float] = []
    for number in range(fanouts):
        before = len(bench.receiver.poll())
        request_id = bench.request(chief, csrf, number + 1)
        arrived = bench.receiver.wait_until(before + bench.device_count, timeout=120)[before:]
        committed = bench.commits.at[request_id]
        found = [d.at - committed for d in arrived if d.type == "rfa"]
        each.extend(found)
        if found:
            last.append(max(found))
    return each, last


def row(name: str, seconds: list[float], limit: str) -> str:
    if not seconds:
        return f"| {name} | n/a | n/a | 0 | {limit} |"
    ms = [s * 1000 for s in seconds]
    verdict = ""
    if limit:
        verdict = " ok" if percentile(ms, 99) <= LIMIT_P99_MS else " OVER"
    return (
        f"| {name} | {statistics.median(ms):.0f} | {percentile(ms, 99):.0f} | {len(ms)} "
        f"| {limit}{verdict} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rings", type=int, default=40, help="rings at each device count")
    parser.add_argument("--devices", default="1,100,1000", help="device counts, ascending")
    parser.add_argument("--floods", type=int, default=8, help="motion floods, a ring after each")
    parser.add_argument("--fanouts", type=int, default=3, help="requests to every owner")
    parser.add_argument(
        "--service-ms", type=float, default=50.0, help="how long the push service takes to answer"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 over the limit or on errors")
    args = parser.parse_args()
    sizes = [int(n) for n in args.devices.split(",")]
    # The machine's load before and after: other work on it shows in the tail of the figures.
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    # The bench measures pushes: sign-ups hash passwords at argon2id's cheapest, as the tests do.
    security._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    security._DUMMY_HASH = security._hasher.hash("doorstep-no-such-account")
    commits = Commits()
    orm_event.listen(Session, "after_commit", commits, insert=True)
    receiver = Receiver(args.service_ms / 1000)
    results: list[str] = []
    missed = 0
    try:
        with tempfile.TemporaryDirectory(prefix="doorstep-bench-") as tmp:
            os.environ["DOORSTEP_PUSH_ALLOW_LOOPBACK"] = "true"
            settings = Settings(
                env=Environment.DEVELOPMENT,
                data_dir=Path(tmp) / "data",
                host="127.0.0.1",
                port=free_port(),
                sign_ups_per_address=10_000,
                login_failures_per_address=10_000,
                pairing_failures_per_address=10_000,
            )
            with server(settings) as (url, app):
                bench = Bench(url, receiver, commits)
                results = run(args, sizes, bench, app, settings)
                missed = bench.missed
        rejected = receiver.rejected()
    finally:
        receiver.stop()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Doorstep push bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load {load_before} before and {load} after, "
        f"push service answers in {args.service_ms:g} ms, "
        f"{getattr(settings, 'push_threads', '?')} sender threads"
    )
    print()
    print("| event committed → push POST received (ms) | p50 | p99 | n | limit |")
    print("|---|---|---|---|---|")
    for line in results:
        print(line)
    print(f"| pushes the push service refused | {len(rejected)} | | | 0 |")
    for status, reason in rejected[:5]:
        print(f"  refused {status}: {reason}")
    over = any(line.endswith("OVER |") for line in results) or bool(rejected) or missed > 0
    return 1 if args.check and over else 0


def run(
    args: argparse.Namespace, sizes: list[int], bench: Bench, app: Any, settings: Settings
) -> list[str]:
    results: list[str] = []
    for size in sizes:
        started = time.monotonic()
        bench.grow(size)
        print(
            f"  {bench.device_count:,} device(s) of {len(bench.owners):,} resident(s) "
            f"({time.monotonic() - started:.0f} s to sign up)",
            flush=True,
        )
        latencies = measure_rings(bench, args.rings)
        limit = f"p99 ≤ {LIMIT_P99_MS:.0f}" if size >= 1000 else ""
        results.append(
            row(f"ring, {size:,} device{'s' * (size != 1)} subscribed", latencies, limit)
        )
    if args.floods and len(bench.owners) > 1:
        latencies, overtaken = measure_floods(bench, args.floods)
        results.append(
            row(
                f"ring after motion alerts to {bench.device_count:,} devices",
                latencies,
                f"p99 ≤ {LIMIT_P99_MS:.0f}",
            )
        )
        results.append(
            f"| motion pushes the ring overtook, of {bench.device_count:,} (median, fewest) "
            f"| {statistics.median(overtaken):.0f} | {min(overtaken)} | {len(overtaken)} | |"
        )
    results.append(f"| ring pushes that never arrived | {bench.missed} | | | 0 |")
    if args.fanouts:
        state = app.state.doorstep
        chief, csrf = bench.agency(state.db, settings.public_cell_resolution)
        each, last = measure_fanouts(bench, chief, csrf, args.fanouts)
        results.append(
            row(f"request for assistance to {bench.device_count:,} devices, each", each, "")
        )
        results.append(row("request for assistance, its last delivery", last, ""))
    return results


if __name__ == "__main__":
    sys.exit(main())
