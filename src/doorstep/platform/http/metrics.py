"""Doorstep's product metrics, beside the HTTP ones: what the operator's Prometheus scrapes.

A metric here is process-wide by nature: under ``doorstep serve --workers N`` each process
writes its values into the shared multiprocess folder (``metrics_server``), and a scrape sums
them. Outside that mode they live in ``PRODUCT``, this process's registry.

No label may name a camera, an owner, a request, an agency or a device, and no metric may
count outcomes that tell a declined request from one never answered (invariant I3): there is
no "shares made" or "requests declined" counter, and ``tests/platform/test_metrics_labels.py``
walks every metric to keep it so. Labels are taken from ``LABELS`` only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Every label name a Doorstep metric may carry; none can hold an id.
LABELS = frozenset({"method", "route", "status", "queue"})
#: The routes whose outcome is an owner's consent decision, answering an agency's request for
#: footage or a bystander's request about theirs. They are counted under one route label,
#: ``consent``, and never timed: a count per route, or a time, would tell a share from a decline.
CONSENT_ROUTES = frozenset(
    {
        "/api/v1/inbox/{rfa_id}/answer",
        "/requests/{rfa_id}/answer",
        "/api/v1/bystander-inbox/{bystander_id}/answer",
        "/bystander-requests/{bystander_id}/answer",
    }
)
#: The one route label every consent route is counted under.
CONSENT_ROUTE = "consent"
#: Words no metric name may hold: a count of them would tell a decline from silence.
OUTCOME_WORDS = ("declin", "consent", "refus", "answer", "share", "grant", "denied", "approv")

PRODUCT = CollectorRegistry(auto_describe=True)

CLIPS_STORED = Counter(
    "doorstep_clips_stored", "Clips sealed and stored (uploads and server-made).", registry=PRODUCT
)
CLIP_BYTES_STORED = Counter(
    "doorstep_clip_bytes_stored", "Bytes of video in the clips stored.", registry=PRODUCT
)
ALERTS = Counter(
    "doorstep_alerts_published",
    "Motion events that passed their camera's rules and alerted the owner.",
    registry=PRODUCT,
)
PUSHES_SENT = Counter(
    "doorstep_pushes_sent", "Web Push messages a push service accepted.", registry=PRODUCT
)
PUSHES_GIVEN_UP = Counter(
    "doorstep_pushes_given_up",
    "Web Push messages given up (refused, unreachable after retries, or unsubscribed).",
    registry=PRODUCT,
)
PUSH_LATENCY = Histogram(
    "doorstep_push_latency_seconds",
    "From the event a push is about to the push service accepting it.",
    registry=PRODUCT,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
QUEUE_DEPTH = Gauge(
    "doorstep_queue_depth",
    "Background jobs waiting or running in this server's own threads, by lane.",
    ["queue"],
    registry=PRODUCT,
    multiprocess_mode="livesum",
)
REDACTION_SECONDS = Histogram(
    "doorstep_redaction_seconds",
    "Time to redact one clip (every frame's faces found and hidden, the file written).",
    registry=PRODUCT,
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
DETECTION_SECONDS = Histogram(
    "doorstep_detection_seconds",
    "Time to look for objects in one frame, where this process detects (scans, not agents).",
    registry=PRODUCT,
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1),
)
AGENT_DETECTION_FRAMES = Counter(
    "doorstep_agent_detection_frames",
    "Frames cameras' agents looked for objects in, as their heartbeats report.",
    registry=PRODUCT,
)
AGENT_DETECTION_SECONDS = Counter(
    "doorstep_agent_detection_seconds",
    "Seconds agents spent on those frames (divide by the frames for the time per frame).",
    registry=PRODUCT,
)
SPOOL_CLIPS = Gauge(
    "doorstep_agent_spool_clips",
    "Clips waiting in agents' spools for upload, summed over the agents heard from lately.",
    registry=PRODUCT,
    multiprocess_mode="livesum",
)
SPOOL_CLIPS_MAX = Gauge(
    "doorstep_agent_spool_clips_max",
    "The most clips waiting in any one agent's spool, over the agents heard from lately.",
    registry=PRODUCT,
    multiprocess_mode="livemax",
)
SPOOL_BYTES = Gauge(
    "doorstep_agent_spool_bytes",
    "Bytes waiting in agents' spools for upload, summed over the agents heard from lately.",
    registry=PRODUCT,
    multiprocess_mode="livesum",
)
SPOOL_BYTES_MAX = Gauge(
    "doorstep_agent_spool_bytes_max",
    "The most bytes waiting in any one agent's spool, over the agents heard from lately.",
    registry=PRODUCT,
    multiprocess_mode="livemax",
)


#: An agent unheard of for this long no longer counts in the spool backlog (heartbeats: 60 s).
SPOOL_FORGET_SECONDS = 300.0


class SpoolBacklog:
    """What each agent last said was waiting in its spool; sets the spool gauges.

    Kept in this process only, by camera id, and never in a label: the gauges carry the sum
    and the largest. An agent's heartbeats ride one kept-alive connection, so one process hears
    it; after a reconnect to another process it may count twice until it is forgotten.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[int, int, float]] = {}

    def report(self, camera_id: str, clips: int, size: int, now: float | None = None) -> None:
        """Note an agent's backlog, forget the agents not heard from, set the gauges."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._latest[camera_id] = (clips, size, now)
            for key in [k for k, v in self._latest.items() if now - v[2] > SPOOL_FORGET_SECONDS]:
                del self._latest[key]
            values = list(self._latest.values())
        SPOOL_CLIPS.set(sum(v[0] for v in values))
        SPOOL_CLIPS_MAX.set(max(v[0] for v in values))
        SPOOL_BYTES.set(sum(v[1] for v in values))
        SPOOL_BYTES_MAX.set(max(v[1] for v in values))


SPOOLS = SpoolBacklog()


class DetectionSince:
    """Frames this process detected in, and the seconds that took, since the last ``take``.

    An agent exposes no endpoint: its heartbeat carries these to the server instead.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen = (0.0, 0.0)

    def take(self) -> tuple[int, float]:
        """The frames and seconds added since the last call."""
        with self._lock:
            frames = PRODUCT.get_sample_value("doorstep_detection_seconds_count") or 0.0
            seconds = PRODUCT.get_sample_value("doorstep_detection_seconds_sum") or 0.0
            last_frames, last_seconds = self._seen
            self._seen = (frames, seconds)
        return int(frames - last_frames), max(0.0, seconds - last_seconds)


DETECTIONS = DetectionSince()


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    """Observe the time the block took, when it finishes without an error."""
    start = time.perf_counter()
    yield
    histogram.observe(time.perf_counter() - start)


def status_class(status: int) -> str:
    """``2xx`` for 204: the class alone, so a metric never tells one answer from another."""
    return f"{status // 100}xx"
