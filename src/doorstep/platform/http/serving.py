"""`doorstep serve --workers N`: N API processes, each with a listening socket of its own.

Processes that share one listening socket share one queue of new connections, and whichever
wakes first takes every connection waiting: a burst of cameras connecting at once can all land on
one process while the others sit idle (the load bench saw one process at 16 CPU-seconds and the
other at 0.2 over 20 s). With SO_REUSEPORT each process listens on a socket of its own and the
kernel spreads connections over them by address, so the processes share the work.

The parent only supervises: it starts the processes, starts again any that dies (more slowly
while they die young), and stops them all on SIGINT or SIGTERM. A process that cannot start while
the server comes up (bad settings, a service away, the port taken) stops the whole server instead
of being restarted in a loop.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING, Any

from doorstep.platform.observe import logs

if TYPE_CHECKING:
    import uvicorn

    from doorstep.platform.http.metrics_server import MetricsServer
    from doorstep.settings import Settings

log = logging.getLogger("doorstep.serve")

#: The exit status of a process that never started serving.
STARTUP_FAILURE = 3
#: How long a process has to finish its requests after SIGTERM before it is killed.
STOP_TIMEOUT_S = 20.0
#: The wait before a process that died is started again; it doubles while they die young.
RESTART_PAUSE_S = 1.0
MAX_RESTART_PAUSE_S = 60.0
#: How long a process must live for its death to count as a crash rather than bad settings.
MATURE_AFTER_S = 30.0


#: How every server process logs by default: JSON lines on stderr; uvicorn's access log is off.
LOGGING: dict[str, Any] = logs.logging_config("json", "INFO")


#: The demo's console, read by a person: warnings and errors only, as plain lines (its banner
#: and the phone's pushes are printed, not logged).
QUIET_LOGGING: dict[str, Any] = logs.logging_config("plain", "WARNING")


#: How long a stopping server lets requests in flight finish.
SHUTDOWN_GRACE_SECONDS = 5


def uvicorn_options(settings: Settings, *, quiet: bool = False) -> dict[str, Any]:
    """How uvicorn runs each API process, one way for `doorstep serve` and its workers alike.

    uvicorn's access log names the client's address and the full path, query included: share,
    clip and request ids, next to who asked. It is off; ``middleware.AccessLog`` logs each
    request by its route template instead, in DOORSTEP_LOG_FORMAT. The client address in the
    scope is the socket's peer, or what a proxy named in DOORSTEP_TRUSTED_PROXIES forwards:
    the throttles count it.

    A stop waits at most a few seconds for requests in flight: agents' long-polls wait 45 s and
    event streams never end by themselves, and both come back on their own after a restart.
    ``quiet`` (the demo) logs only warnings and errors: no request lines over what a person reads.
    """
    proxies = settings.proxy_list
    return {
        "log_config": QUIET_LOGGING if quiet else logs.logging_config(settings.log_format),
        "log_level": "warning" if quiet else "info",
        "access_log": False,
        "timeout_graceful_shutdown": SHUTDOWN_GRACE_SECONDS,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
    }


def balanced() -> bool:
    """Whether this system spreads connections over sockets sharing a port (Linux does)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port`` (bound without SO_REUSEPORT, so none can join)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` that other processes of this server may bind too."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve_one(host: str, port: int) -> None:
    """One API process: uvicorn on a socket of its own (the child's entry point)."""
    import uvicorn
    from pydantic import ValidationError

    from doorstep.settings import Settings

    try:
        options = uvicorn_options(Settings())
    except ValidationError as err:
        logs.configure("json")
        log.error("the settings are not valid: %s", err)
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(
        "doorstep.cli:app_from_env", factory=True, host=host, port=port, **options
    )
    server = stopping_server(config)
    try:
        sock = listening_socket(host, port)
    except OSError as err:
        log.error("cannot listen on %s:%s: %s", host, port, err)
        sys.exit(STARTUP_FAILURE)
    try:
        server.run(sockets=[sock])
    except (Exception, SystemExit):
        # uvicorn exits with 1 when the app cannot be built (bad settings, a service away);
        # the supervisor must tell that from a crash while serving.
        if not server.started:
            log.exception("the API process could not start")
            sys.exit(STARTUP_FAILURE)
        raise
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def stopping_server(config: uvicorn.Config) -> uvicorn.Server:
    """A uvicorn server that, as it begins to stop, answers every waiting long-poll.

    uvicorn lets requests in flight finish before it stops; an agent's long-poll waits 45 s and
    would otherwise be cut at the grace period, with a traceback for each.
    """
    import uvicorn

    from doorstep.platform.http import longpoll

    class StoppingServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            longpoll.stopping.set()
            super().handle_exit(sig, frame)

    return StoppingServer(config)


class Supervisor:
    """Keeps ``workers`` API processes running until told to stop."""

    def __init__(
        self,
        host: str,
        port: int,
        workers: int,
        target: Callable[[str, int], None] = serve_one,
    ) -> None:
        if workers < 1:
            raise ValueError("at least one worker")
        self.host, self.port, self.workers = host, port, workers
        self.target = target
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[BaseProcess] = []
        self._started: list[float] = []
        self.stopping = threading.Event()

    def _start(self) -> tuple[BaseProcess, float]:
        process = self._context.Process(
            target=self.target, args=(self.host, self.port), name="doorstep-api"
        )
        process.start()
        log.info("started API process %s", process.pid)
        return process, time.monotonic()

    def stop(self, *_: object) -> None:
        """Ask every process to finish (the signal handler)."""
        self.stopping.set()

    def run(self) -> int:
        """Start the processes and keep them running; the exit status once stopped."""
        status = 0
        for _ in range(self.workers):
            process, started = self._start()
            self._processes.append(process)
            self._started.append(started)
        # While the server comes up, a process that cannot start means the settings (or a
        # service) are wrong, and every restart would fail the same way.
        starting_until = time.monotonic() + MATURE_AFTER_S
        pause = RESTART_PAUSE_S
        while not self.stopping.wait(0.5):
            for index, process in enumerate(self._processes):
                if process.is_alive():
                    continue
                now = time.monotonic()
                if process.exitcode == STARTUP_FAILURE and now < starting_until:
                    log.error("API process %s could not start; stopping", process.pid)
                    status = STARTUP_FAILURE
                    self.stopping.set()
                    break
                log.warning(
                    "API process %s exited (%s); starting another", process.pid, process.exitcode
                )
                _ended(process)
                # Processes that keep dying young are restarted ever more slowly.
                young = now - self._started[index] < MATURE_AFTER_S
                pause = min(pause * 2, MAX_RESTART_PAUSE_S) if young else RESTART_PAUSE_S
                if self.stopping.wait(pause):
                    break
                self._processes[index], self._started[index] = self._start()
        self._stop_all()
        return status

    def _stop_all(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
            _ended(process)


def _ended(process: BaseProcess) -> None:
    """Its gauges no longer count (with DOORSTEP_METRICS_BIND; its counters still do)."""
    from doorstep.platform.http.metrics_server import process_ended

    process_ended(process.pid)


def start_metrics(settings: Settings) -> MetricsServer | None:
    """With DOORSTEP_METRICS_BIND: a fresh multiprocess folder, then the one metrics endpoint.

    Call it before any API process starts (or this one builds the app): each must find the
    folder in its environment as it imports prometheus_client. OSError when the bind is taken.
    """
    if not settings.metrics_bind:
        return None
    from doorstep.platform.http import metrics_server

    metrics_server.prepare_multiprocess(settings)
    return metrics_server.start_metrics(settings)


def serve_workers(host: str, port: int, workers: int) -> int:
    """Run ``workers`` API processes on ``host:port`` until SIGINT or SIGTERM."""
    if not port_free(host, port):
        log.error("%s:%s is already in use", host, port)
        return STARTUP_FAILURE
    supervisor = Supervisor(host, port, workers)

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        supervisor.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return supervisor.run()
