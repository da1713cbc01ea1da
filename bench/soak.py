"""Soak: `doorstep demo` driven for half an hour, sampled every 30 s for growth beyond the data.

Run: ``.venv/bin/python bench/soak.py --minutes 30 [--data DIR] [--out DIR] [--check]`` (not in
CI: it takes as long as it is told). It starts `doorstep demo` on a loopback port in a fresh data
folder (``--data`` names one, which must not exist yet or be an earlier demo folder), so both
demo doorbells record their rendered footage in a loop and ring every other visit. While it runs:

- readers, as the owner and the neighbour, ask for the feed and the timeline every 2 s;
- the owner keeps the server-sent event stream open and opens the newest clip (video and
  snapshot) every 15 s;
- the officer's agency posts a request every 5 minutes around the owner's home and reads its
  requests and its evidence locker every 30 s, opening the newest shared video;
- the owner answers every request that reaches their inbox, sharing a clip or declining in turn.

Every ``--interval`` seconds it samples, from /proc, the RSS, USS, open file descriptors and
threads of each process of the demo (the server, with its doorbell agents, witness, phone and
worker threads inside it, and any child process), and the database's size (with its WAL), the
data folder's, the doorbells' spool folders', and the clips stored (count and bytes). Errors are
every failed request (a transport error or any status outside 2xx, 5xx counted apart) and every
line of the demo's console that reports an error or a traceback (the console is quiet unless
something goes wrong).

The table (markdown) gives start, end and delta per measure, with the value at the end of the
warm-up (``--warmup`` minutes, 5 by default) beside it, and a verdict per process; the raw samples
go to ``soak.csv`` beside ``soak.md`` in ``--out``. ``--check`` exits 1 when there was any error or
a process's RSS grew after the warm-up by more than ``--rss-allowance`` MiB (24 by default). The
demo keeps no clip in memory (clips go to the blob folder, their rows to SQLite, whose page cache is
bounded), so no RSS growth is explained by the data: the allowance only covers allocator
fragmentation and the lazily filled caches of Python and the libraries.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from load import BIN, free_port

PASSWORD = "porch-light-2026"
OWNER = "owner@demo.doorstep.test"
NEIGHBOUR = "neighbour@demo.doorstep.test"
OFFICER = "officer@demo.doorstep.test"
#: The demo's centre and the radius of its past request: inside the police's jurisdiction.
CENTRE = {"lat": 45.5231, "lon": -122.6765}
RADIUS_M = 330.0
MIB = 1024 * 1024
ERROR_LINE = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|Exception\b|error:", re.IGNORECASE)


@dataclass
class Errors:
    """Failed requests by route and status, shared by the load's tasks."""

    failed: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    sse_events: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, name: str, status: int | None, detail: str = "") -> None:
        """Count one request; a status outside 2xx or None (no answer) is a failure."""
        with self.lock:
            self.requests[name] += 1
            if status is not None and 200 <= status < 300:
                return
            self.failed[f"{name} {status if status is not None else ''} {detail[:160]}"] += 1
            if status is None or status >= 500:
                self.server_errors += 1

    @property
    def total(self) -> int:
        """Every failed request."""
        with self.lock:
            return sum(self.failed.values())


# --- the load ------------------------------------------------------------------------------------


async def _login(base: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    answer = await client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    answer.raise_for_status()
    client.headers["x-csrf-token"] = answer.json()["csrf_token"]
    return client


async def _get(client: httpx.AsyncClient, errors: Errors, name: str, url: str) -> httpx.Response:
    try:
        answer = await client.get(url)
    except httpx.HTTPError as error:
        errors.note(name, None, type(error).__name__)
        raise
    errors.note(name, answer.status_code, _why(answer))
    return answer


def _why(answer: httpx.Response) -> str:
    """What a failed answer said, for the report (nothing for a success or a stream)."""
    if answer.is_success or not answer.is_closed:
        return ""
    return answer.text.replace("\n", " ")


async def _post(
    client: httpx.AsyncClient, errors: Errors, name: str, url: str, body: object
) -> httpx.Response:
    try:
        answer = await client.post(url, json=body)
    except httpx.HTTPError as error:
        errors.note(name, None, type(error).__name__)
        raise
    errors.note(name, answer.status_code, _why(answer))
    return answer


async def _every(seconds: float, stop: asyncio.Event) -> bool:
    """Wait ``seconds`` or until stopped; True when it is time to stop."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _reader(client: httpx.AsyncClient, errors: Errors, stop: asyncio.Event) -> None:
    while True:
        try:
            await _get(client, errors, "feed", "/api/v1/feed?radius=1")
            await _get(client, errors, "timeline", "/api/v1/clips")
        except httpx.HTTPError:
            pass
        if await _every(2.0, stop):
            return


async def _events(client: httpx.AsyncClient, errors: Errors, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            async with client.stream("GET", "/api/v1/events", timeout=None) as answer:
                errors.note("events", answer.status_code)
                async for line in answer.aiter_lines():
                    if line.startswith("event: "):
                        with errors.lock:
                            errors.sse_events[line[7:]] += 1
                    if stop.is_set():
                        return
        except httpx.HTTPError as error:
            errors.note("events", None, type(error).__name__)
        await _every(1.0, stop)


async def _open_clips(client: httpx.AsyncClient, errors: Errors, stop: asyncio.Event) -> None:
    while True:
        try:
            page = await _get(client, errors, "timeline", "/api/v1/clips?limit=5")
            clips = page.json().get("clips", []) if page.status_code == 200 else []
            if clips:
                newest = clips[0]["id"]
                await _get(client, errors, "clip video", f"/api/v1/clips/{newest}/video")
                await _get(client, errors, "clip snapshot", f"/api/v1/clips/{newest}/snapshot")
        except httpx.HTTPError:
            pass
        if await _every(15.0, stop):
            return


async def _agency(client: httpx.AsyncClient, errors: Errors, stop: asyncio.Event) -> None:
    posted = 0
    last_post = -1e9
    while True:
        try:
            if time.monotonic() - last_post >= 300:
                now = datetime.now(UTC)
                posted += 1
                last_post = time.monotonic()
                body = {
                    "case_number": f"SOAK-{os.getpid()}-{posted}",
                    "incident_type": "Package theft",
                    "offence_category": "burglary",
                    "description": "A parcel was taken from a porch; a ring or clip may show it.",
                    "centre": CENTRE,
                    "radius_m": RADIUS_M,
                    "window_start": (now - timedelta(minutes=50)).isoformat(),
                    "window_end": (now - timedelta(seconds=10)).isoformat(),
                }
                await _post(client, errors, "agency post request", "/api/v1/requests", body)
            await _get(client, errors, "requests", "/api/v1/requests")
            await _get(client, errors, "agency", "/api/v1/agencies/mine")
            locker = await _get(client, errors, "agency locker", "/api/v1/evidence")
            shares = locker.json() if locker.status_code == 200 else []
            ready = [s for s in shares if s["state"] in ("active", "downloaded") and s["size"]]
            if ready:
                url = f"/api/v1/evidence/{ready[0]['id']}/video"
                await _get(client, errors, "agency locker video", url)
        except httpx.HTTPError:
            pass
        if await _every(30.0, stop):
            return


async def _resident(client: httpx.AsyncClient, errors: Errors, stop: asyncio.Event) -> None:
    answered = 0
    while True:
        try:
            inbox = await _get(client, errors, "inbox", "/api/v1/inbox")
            for item in inbox.json() if inbox.status_code == 200 else []:
                if item.get("answered_at"):
                    continue
                rfa_id = item["request"]["id"]
                one = await _get(client, errors, "inbox item", f"/api/v1/inbox/{rfa_id}")
                clips = one.json().get("clips", []) if one.status_code == 200 else []
                share = bool(clips) and answered % 2 == 0
                body = {
                    "decision": "share" if share else "decline",
                    "clip_ids": [clips[0]["id"]] if share else [],
                    "anonymous": True,
                }
                await _post(client, errors, "answer", f"/api/v1/inbox/{rfa_id}/answer", body)
                answered += 1
        except httpx.HTTPError:
            pass
        if await _every(60.0, stop):
            return


async def drive(base: str, errors: Errors, stop: asyncio.Event, readers: int) -> None:
    """Every kind of user at once until ``stop``."""
    clients = [await _login(base, OWNER if i % 2 == 0 else NEIGHBOUR) for i in range(readers)]
    owner = await _login(base, OWNER)
    officer = await _login(base, OFFICER)
    tasks = [_reader(client, errors, stop) for client in clients]
    tasks += [
        _events(owner, errors, stop),
        _open_clips(owner, errors, stop),
        _agency(officer, errors, stop),
        _resident(owner, errors, stop),
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for client in [*clients, owner, officer]:
            await client.aclose()


# --- the measures --------------------------------------------------------------------------------


def _tree(root: int) -> dict[int, str]:
    """The root process and its descendants, each with a short name."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = {root}
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        grew = bool(more)
        found |= more
    names: dict[int, str] = {}
    for pid in sorted(found):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [Path(a.decode(errors="replace")).name for a in argv[:3] if a]
        names[pid] = "server (demo)" if pid == root else " ".join(words)[:40]
    return names


def _process(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss = int(values["VmRSS"].split()[0]) * 1024
    threads = int(values["Threads"])
    uss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            uss += int(line.split()[1]) * 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return {"rss_mib": rss / MIB, "uss_mib": uss / MIB, "fds": fds, "threads": threads}


def _size(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _clips(database: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        row = db.execute(
            "select count(*), coalesce(sum(ciphertext_size + snapshot_size), 0) from clips"
        ).fetchone()
    return int(row[0]), int(row[1])


def _log_errors(log: Path) -> int:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return 0
    return sum(1 for line in text.splitlines() if ERROR_LINE.search(line))


def sample(root: int, data: Path, log: Path, errors: Errors) -> dict[str, float]:
    """One sample of every measure, keyed by name."""
    values: dict[str, float] = {}
    for pid, name in _tree(root).items():
        try:
            for key, value in _process(pid).items():
                values[f"{name} [{pid}] {key}"] = value
        except (OSError, KeyError):
            continue
    database = data / "doorstep.db"
    values["database MiB (with WAL)"] = sum(
        p.stat().st_size / MIB
        for p in (database, database.with_name("doorstep.db-wal"))
        if p.exists()
    )
    values["data folder MiB"] = _size(data) / MIB
    values["spool MiB"] = sum(_size(p) for p in data.glob("doorbells/*/spool")) / MIB
    count, size = _clips(database)
    values["clips"] = count
    values["clip bytes MiB"] = size / MIB
    with errors.lock:
        values["requests"] = sum(errors.requests.values())
        values["SSE events"] = sum(errors.sse_events.values())
    values["failed requests"] = errors.total
    values["5xx / no answer"] = errors.server_errors
    values["console error lines"] = _log_errors(log)
    return values


# --- running it ----------------------------------------------------------------------------------


def start_demo(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`doorstep demo` on a loopback port, ready when its doorbells have stored a clip."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    command = [str(BIN / "doorstep"), "demo", "--data-dir", str(data), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"doorstep demo exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(1)
    else:
        stop_demo(process)
        raise SystemExit(f"doorstep demo did not answer on port {port}")
    # The seeded history has clips already; wait for the first live one from a doorbell.
    seeded, _ = _clips(data / "doorstep.db")
    while time.monotonic() < deadline and _clips(data / "doorstep.db")[0] <= seeded:
        time.sleep(2)
    return process


def stop_demo(process: subprocess.Popen[bytes]) -> int:
    """Stop the demo as Ctrl-C does; its exit code (killed after 90 s: -9)."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
        return -9


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def report(
    samples: list[tuple[float, dict[str, float]]], warmup_s: float, allowance: float
) -> tuple[str, list[str]]:
    """The markdown table and verdicts, and the reasons to fail ``--check``."""
    start, end = samples[0][1], samples[-1][1]
    warm = next((v for t, v in samples if t >= warmup_s), end)
    minutes = samples[-1][0] / 60
    lines = [
        f"| measure | start | after {warmup_s / 60:.0f} min warm-up | end | delta | "
        "delta after warm-up |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key in end:
        if key in start:
            a, w, b = start[key], warm.get(key, start[key]), end[key]
            lines.append(
                f"| {key} | {_fmt(a)} | {_fmt(w)} | {_fmt(b)} | {_fmt(b - a)} | {_fmt(b - w)} |"
            )
    failures: list[str] = []
    lines.append("")
    clips = end["clips"] - start["clips"]
    clip_mib = end["clip bytes MiB"] - start["clip bytes MiB"]
    lines.append(
        f"Data added: {clips:.0f} clips, {clip_mib:.1f} MiB of clips (encrypted, with "
        f"snapshots) over {minutes:.1f} min."
    )
    lines.append("")
    for key in end:
        if key.endswith(" rss_mib") and key in start:
            name = key.removesuffix(" rss_mib")
            grew, after = end[key] - start[key], end[key] - warm.get(key, start[key])
            lines.append(
                f"- {name}: RSS grew {grew:.1f} MiB over {minutes:.1f} min, {after:.1f} MiB "
                f"after the first {warmup_s / 60:.0f} min warm-up; open files "
                f"{start[key.replace('rss_mib', 'fds')]:.0f} -> "
                f"{end[key.replace('rss_mib', 'fds')]:.0f}"
            )
            if after > allowance:
                failures.append(f"{name} RSS grew {after:.1f} MiB after warm-up (> {allowance})")
    errors = end["failed requests"] + end["console error lines"]
    lines.append(
        f"\nErrors: {errors:.0f} ({end['failed requests']:.0f} failed requests, of which "
        f"{end['5xx / no answer']:.0f} 5xx or unanswered; {end['console error lines']:.0f} "
        "error lines on the demo's console)."
    )
    if errors:
        failures.append(f"{errors:.0f} errors")
    return "\n".join(lines), failures


def main() -> None:
    """Parse the options, run the soak, write the table and the samples."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--data", type=Path, help="the demo's data folder (a fresh temp one)")
    parser.add_argument(
        "--out", type=Path, help="where soak.md and soak.csv go (the data's parent)"
    )
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=5.0, help="minutes before growth counts")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--rss-allowance", type=float, default=24.0, help="MiB after warm-up")
    parser.add_argument("--check", action="store_true", help="exit 1 on errors or growth")
    args = parser.parse_args()
    data = (args.data or Path(tempfile.mkdtemp(prefix="doorstep-soak-")) / "demo").resolve()
    out = (args.out or data.parent).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "demo.log"
    port = free_port()
    began = datetime.now(UTC)
    print(f"soak: doorstep demo in {data} on port {port}, console in {log}", flush=True)
    process = start_demo(data, port, log)
    errors = Errors()
    stop = threading.Event()
    loop = asyncio.new_event_loop()
    stopping = asyncio.Event()

    def load() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(drive(f"http://127.0.0.1:{port}", errors, stopping, args.readers))
        loop.run_until_complete(loop.shutdown_asyncgens())

    driver = threading.Thread(target=load, name="load", daemon=True)
    driver.start()
    samples: list[tuple[float, dict[str, float]]] = []
    t0 = time.monotonic()
    until = t0 + args.minutes * 60
    try:
        while True:
            now = time.monotonic()
            samples.append((now - t0, sample(process.pid, data, log, errors)))
            last = samples[-1][1]
            print(
                f"soak: {(now - t0) / 60:5.1f} min  clips {last['clips']:.0f}  "
                f"failed {last['failed requests']:.0f}  console errors "
                f"{last['console error lines']:.0f}",
                flush=True,
            )
            if (
                now >= until
                or process.poll() is not None
                or stop.wait(min(args.interval, max(0.0, until - now)))
            ):
                break
    finally:
        loop.call_soon_threadsafe(stopping.set)
        driver.join(60)
        code = stop_demo(process)
    warmup_s = min(args.warmup * 60, samples[-1][0] / 3)
    table, failures = report(samples, warmup_s, args.rss_allowance)
    head = (
        f"Soak of `doorstep demo`, {args.minutes:g} min from {began:%Y-%m-%d %H:%M} UTC, "
        f"{len(samples)} samples every {args.interval:g} s; demo exit code {code}.\n\n"
    )
    details = "\n".join(f"- {key}: {count}" for key, count in sorted(errors.failed.items()))
    routes = ", ".join(f"{key} {count}" for key, count in sorted(errors.requests.items()))
    events = ", ".join(f"{key} {count}" for key, count in sorted(errors.sse_events.items()))
    text = f"{head}{table}\n\nRequests: {routes}.\nSSE events: {events or 'none'}.\n"
    if details:
        text += f"\nFailed requests:\n{details}\n"
    (out / "soak.md").write_text(text)
    with (out / "soak.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["elapsed_s", "measure", "value"])
        for elapsed, values in samples:
            writer.writerows(
                [f"{elapsed:.1f}", key, f"{value:.3f}"] for key, value in values.items()
            )
    print(text, flush=True)
    if process.returncode not in (0, -signal.SIGINT, 130):
        failures.append(f"the demo exited with {process.returncode}")
    if args.check and failures:
        print("soak: FAILED: " + "; ".join(failures), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
