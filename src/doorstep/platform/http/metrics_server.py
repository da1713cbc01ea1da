"""The metrics endpoint on its own address (DOORSTEP_METRICS_BIND), never the public port.

`doorstep serve` makes a fresh multiprocess folder before any API process imports
prometheus_client (``prepare_multiprocess``): every process writes its values there, and the one
endpoint, run by the serving process itself, sums them (``MultiProcessCollector``), so a scrape
counts every worker's requests. `doorstep worker` runs its own endpoint over its own registry.
With DOORSTEP_METRICS_TOKEN set, a scrape must carry it as a Bearer token.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from doorstep.platform.security import same
from doorstep.settings import Settings

#: The data folder's folder for the serve processes' metric files; rebuilt at every start.
METRICS_FOLDER = "metrics"
log = logging.getLogger(__name__)

#: The variable prometheus_client reads, on import, to write values into a shared folder.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Dramatiq's keys of the jobs waiting (or running, until acknowledged) and of those delayed.
BROKER_KEYS = ("dramatiq:doorstep.msgs", "dramatiq:doorstep.DQ.msgs")


def parse_bind(bind: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) as a pair; ValueError when it is not one."""
    host, sep, port = bind.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("DOORSTEP_METRICS_BIND must be host:port, e.g. 127.0.0.1:9464")
    return host, int(port)


def prepare_multiprocess(settings: Settings) -> Path:
    """A fresh, empty multiprocess folder, named in the environment the API processes inherit.

    Stale files from a previous run would add its counts to this one's, so the folder is
    emptied (a plain file in its place is replaced). A symbolic link there is refused
    (ValueError): emptying it would empty wherever it points. Without a data folder a
    temporary one is made, and removed when this process exits. Call it before this process
    imports any module that defines a metric.
    """
    if not settings.data_dir.is_dir():
        folder = Path(tempfile.mkdtemp(prefix="doorstep-metrics-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    else:
        folder = settings.data_dir / METRICS_FOLDER
        if folder.is_symlink():
            raise ValueError(f"{folder} is a symbolic link; remove it (serve rebuilds it)")
        if folder.is_dir():
            shutil.rmtree(folder)
        else:
            folder.unlink(missing_ok=True)
        folder.mkdir(mode=0o700)
    os.environ[MULTIPROC_ENV] = str(folder)
    # prometheus_client chose how to keep values when it was imported; choose again.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return folder


def process_ended(pid: int | None) -> None:
    """Drop an API process's live gauges (queue depth, spool backlog) once it has ended."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder and pid is not None:
        mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


class BrokerDepth(Collector):
    """The task queue's depth on Redis, read when scraped: one value however many processes."""

    def __init__(self, queue_url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(queue_url, socket_timeout=2)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """One gauge: jobs waiting, delayed for a retry or running on the broker."""
        family = GaugeMetricFamily(
            "doorstep_broker_queue_depth",
            "Jobs on the task queue's broker: waiting, delayed for a retry, or running.",
            labels=["queue"],
        )
        try:
            depth = sum(int(self._client.hlen(key)) for key in BROKER_KEYS)
        except Exception as err:  # the broker away must not fail the whole scrape
            log.warning("metrics: the task queue's broker did not answer (%s)", type(err).__name__)
            return []
        family.add_metric(["doorstep"], depth)
        return [family]


def scrape_registry(
    settings: Settings, registry: CollectorRegistry | None = None
) -> CollectorRegistry:
    """What a scrape reads: all processes' values (multiprocess) or ``registry``; the broker."""
    folder = os.environ.get(MULTIPROC_ENV)
    if registry is None or folder:
        registry = CollectorRegistry()
        if folder:
            MultiProcessCollector(registry, folder)  # type: ignore[no-untyped-call]
    if settings.queue_url:
        registry.register(BrokerDepth(settings.queue_url))
    return registry


class MetricsServer:
    """A small HTTP server answering ``GET /metrics`` on the metrics bind, on a thread."""

    def __init__(self, bind: str, registry: CollectorRegistry, token: str = "") -> None:
        host, port = parse_bind(bind)
        self.registry, self.token = registry, token
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type(
            "Server", (ThreadingHTTPServer,), {"address_family": family, "daemon_threads": True}
        )
        self.httpd: ThreadingHTTPServer = server_class((host, port), _handler(self))
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="doorstep-metrics", daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on (useful with port 0)."""
        return int(self.httpd.server_address[1])

    def start(self) -> MetricsServer:
        """Serve on a daemon thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def allowed(self, authorization: str) -> bool:
        """Whether a scrape with this Authorization header may read the metrics."""
        if not self.token:
            return True
        scheme, _, given = authorization.partition(" ")
        return scheme.lower() == "bearer" and same(given.strip(), self.token)


def _handler(server: MetricsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.split("?", 1)[0] not in ("/metrics", "/"):
                self._answer(404, b"not found\n", "text/plain")
            elif not server.allowed(self.headers.get("authorization", "")):
                self._answer(401, b"a bearer token is needed\n", "text/plain")
            else:
                self._answer(200, generate_latest(server.registry), CONTENT_TYPE_LATEST)

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            del format, args  # scrapes are not worth a log line each

    return Handler


def start_metrics(
    settings: Settings, registry: CollectorRegistry | None = None
) -> MetricsServer | None:
    """Start the endpoint on ``settings.metrics_bind``, or nothing when that is empty."""
    if not settings.metrics_bind:
        return None
    token = settings.metrics_token.get_secret_value()
    server = MetricsServer(settings.metrics_bind, scrape_registry(settings, registry), token)
    log.info("metrics: answering scrapes on the metrics bind, port %d", server.port)
    return server.start()
