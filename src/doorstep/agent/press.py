"""The doorbell button: every way a visitor's press reaches the agent, fenced into one press.

Sources: a GPIO pin (gpiozero ``Button``), the MQTT command topic, a key on the terminal (bench
setups) and ``doorstep agent ring``, which reaches the running agent through a unix socket in its
private folder. A held or bouncing button, or two sources at once, make one press: presses
within ``DEBOUNCE_SECONDS`` of the last accepted one are dropped here, and the server's ring
cooldown is the second fence.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from doorstep.errors import ConfigurationError, DoorstepError

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 2.0
SOCKET_NAME = "ring.sock"
SOURCES = ("button", "mqtt", "key", "cli", "demo")
_PEERCRED = struct.Struct("3i")


class Bell:
    """Turns presses from any source into rings, at most one per ``debounce`` seconds."""

    def __init__(
        self,
        on_ring: Callable[[str], None],
        *,
        debounce: float = DEBOUNCE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_ring = on_ring
        self.debounce = debounce
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()
        self.presses = 0
        """Presses accepted (after the debounce)."""

    def press(self, source: str) -> bool:
        """A press from ``source``; True when it rings, False when it is part of the last one."""
        now = self._clock()
        with self._lock:
            if self._last is not None and now - self._last < self.debounce:
                log.debug("a press from %s within %.0f s of the last one", source, self.debounce)
                return False
            self._last = now
            self.presses += 1
        log.info("the doorbell was pressed (%s)", source)
        self._on_ring(source)
        return True


class GpioButton:
    """A push button between a GPIO pin and ground (pulled up): pressed when the pin goes low."""

    def __init__(
        self, bell: Bell, pin: int, *, pin_factory: Any = None, bounce_time: float | None = 0.02
    ) -> None:
        from gpiozero import Button, GPIOZeroError

        # gpiozero's own bounce filter is short; the bell's 2 s fence makes a held or bouncing
        # button one press whatever the contacts do.
        try:
            self.button = Button(
                pin, pull_up=True, bounce_time=bounce_time, pin_factory=pin_factory
            )
        except (GPIOZeroError, ValueError) as err:
            raise ConfigurationError(f"cannot use GPIO pin {pin} for the button: {err}") from err
        self.button.when_pressed = lambda: bell.press("button")

    def close(self) -> None:
        """Release the pin."""
        self.button.close()


class RingSocket:
    """``doorstep agent ring`` talks to the running agent through a 0600 socket in its folder.

    Only the agent's own user (or root) may ring through it: the folder is 0700, the socket
    0600, and the peer's credentials are checked on every connection.
    """

    def __init__(self, bell: Bell, folder: Path) -> None:
        self.bell = bell
        self.path = folder / SOCKET_NAME
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            self._sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self._sock.listen(4)
        self._sock.settimeout(0.5)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name="doorstep-ring-socket", daemon=True
        )

    def start(self) -> None:
        """Accept ring requests in the background."""
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and remove the socket."""
        self._stop.set()
        self._thread.join(5.0)
        self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
        _pid, uid, _gid = _PEERCRED.unpack(creds)
        if uid not in (os.getuid(), 0):
            log.warning("refused a ring from user %d on %s", uid, self.path)
            # Read the caller's line first: closing a socket with unread data resets it, and
            # the caller would hear "no access" instead of the refusal.
            conn.settimeout(2.0)
            with contextlib.suppress(OSError):
                conn.recv(256)
            conn.sendall(b"refused\n")
            return
        conn.settimeout(2.0)
        try:
            request = conn.recv(64).decode("ascii", "replace").strip()
        except OSError:
            return
        source = request.removeprefix("ring").strip() or "cli"
        if not request.startswith("ring") or source not in SOURCES:
            conn.sendall(b"unknown request\n")
            return
        rang = self.bell.press(source)
        conn.sendall(b"rang\n" if rang else b"same press\n")


def ring_running_agent(folder: Path, source: str = "cli", *, timeout: float = 5.0) -> bool:
    """Press the bell of the agent running in ``folder``; True when it rang (not a repeat)."""
    path = folder / SOCKET_NAME
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            sock.sendall(f"ring {source}\n".encode("ascii"))
            answer = sock.recv(64).decode("ascii", "replace").strip()
        except FileNotFoundError as err:
            raise DoorstepError(f"no agent is running with the folder {folder}") from err
        except OSError as err:
            raise DoorstepError(f"cannot reach the agent through {path}: {err}") from err
    if answer not in ("rang", "same press"):
        raise DoorstepError(f"the agent did not take the press: {answer or 'no answer'}")
    return answer == "rang"


class RingKey:
    """A bench setup's doorbell: each Enter on the terminal is a press."""

    def __init__(self, bell: Bell, stream: TextIO | None = None) -> None:
        self.bell = bell
        self.stream = stream if stream is not None else sys.stdin
        self._thread = threading.Thread(target=self._read, name="doorstep-ring-key", daemon=True)

    def start(self) -> None:
        """Read the terminal in the background."""
        log.info("press Enter to ring the doorbell")
        self._thread.start()

    def _read(self) -> None:
        for _line in self.stream:
            self.bell.press("key")
