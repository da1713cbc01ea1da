"""The agent as a doorbell: presses become rings, and the owner answers over WebRTC.

A press (any source, fenced by the bell's 2 s debounce) does three things: it asks the capture
loop to start a clip labelled ``ring`` with pre-roll (the capture thread consumes the flag, so
the recorder is only ever touched from its own thread), it fires the Home Assistant event, and
it queues the ring for the server with a snapshot of the latest masked frame (none for
end-to-end cameras: the server must never see their pictures).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from doorstep.agent import replies
from doorstep.agent.client import DeviceClient, is_retryable
from doorstep.agent.e2e import load_key
from doorstep.agent.live import LiveService, microphone_factory
from doorstep.agent.mqtt import MqttPublisher
from doorstep.agent.options import AgentOptions
from doorstep.agent.press import Bell, GpioButton, RingKey, RingSocket
from doorstep.agent.state import load_config
from doorstep.errors import DoorstepError, NotAuthenticated
from doorstep.media.probe import encode_preview
from doorstep.media.rtc import FrameSlot
from doorstep.media.sound import open_speaker
from doorstep.media.source import Frame

log = logging.getLogger(__name__)

_RING_ATTEMPTS = 3


class Doorbell:
    """The press sources, the ring sender and the live sessions of one camera agent."""

    def __init__(
        self,
        folder: Path,
        client: DeviceClient,
        options: AgentOptions,
        stop_event: threading.Event,
        *,
        mqtt: MqttPublisher | None,
        on_unauthorised: Callable[[NotAuthenticated], None],
        legacy_poll: Callable[[], None] | None = None,
        mjpeg: threading.Event | None = None,
    ) -> None:
        self.folder = folder
        self.client = client
        self.options = options
        self.stop_event = stop_event
        self.mqtt = mqtt
        self.on_unauthorised = on_unauthorised
        self.slot = FrameSlot()
        self.bell = Bell(self._pressed)
        self.rings: list[tuple[str, bool]] = []
        """(ring id, new ring) for each ring the server took."""
        self._trigger = threading.Event()
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._send_rings, name="doorstep-ring", daemon=True)
        self._socket: RingSocket | None = None
        self._button: GpioButton | None = None
        self.live = LiveService(
            client,
            self.slot,
            folder,
            stop_event=stop_event,
            microphone=microphone_factory(options.microphone),
            speaker=open_speaker(options.speaker),
            on_unauthorised=on_unauthorised,
            legacy_poll=legacy_poll,
            mjpeg=mjpeg,
            wait=options.live_wait_seconds,
        )
        if mqtt is not None:
            mqtt.on_command = self.bell.press

    def start(self) -> None:
        """Start listening for presses and live sessions."""
        self._thread.start()
        self._socket = RingSocket(self.bell, self.folder)
        self._socket.start()
        if self.options.button_pin is not None:
            self._button = GpioButton(self.bell, self.options.button_pin)
        if self.options.ring_key:
            RingKey(self.bell).start()
        self.live.start()
        if self.options.quick_replies:
            threading.Thread(
                target=replies.make_missing,
                args=(self.folder,),
                name="doorstep-replies",
                daemon=True,
            ).start()

    def stop(self) -> None:
        """Stop every source and close the live sessions."""
        self.stop_event.set()
        if self._socket is not None:
            self._socket.close()
        if self._button is not None:
            self._button.close()
        self.live.stop()
        self._thread.join(10.0)

    # --- the capture thread's side ---------------------------------------------------------

    def offer(self, frame: Frame) -> None:
        """Hand a captured (already masked) frame to live sessions and ring snapshots."""
        if frame.image is not None:
            self.slot.put(frame.image, time.monotonic())

    def take_trigger(self) -> bool:
        """Whether a press is waiting for its ``ring`` clip; clears it."""
        if self._trigger.is_set():
            self._trigger.clear()
            return True
        return False

    # --- rings -----------------------------------------------------------------------------

    def _pressed(self, source: str) -> None:
        self._trigger.set()
        if self.mqtt is not None:
            self.mqtt.publish_ring()
        self._queue.put(source)

    def _is_e2e(self) -> bool:
        config = load_config(self.folder) or {}
        return bool(config.get("e2e_enabled")) or load_key(self.folder) is not None

    def _snapshot(self) -> bytes | None:
        if self._is_e2e():
            return None
        _seq, image, _at = self.slot.latest()
        if image is None:
            return None
        return encode_preview(image, width=1280, quality=80)

    def _send_rings(self) -> None:
        while not self.stop_event.is_set():
            try:
                source = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            snapshot = self._snapshot()
            for attempt in range(_RING_ATTEMPTS):
                try:
                    ring_id, rang = self.client.ring(source, snapshot)
                except NotAuthenticated as err:
                    self.on_unauthorised(err)
                    return
                except DoorstepError as err:
                    if is_retryable(err) and attempt + 1 < _RING_ATTEMPTS:
                        self.stop_event.wait(1.0)
                        continue
                    log.warning("the ring did not reach the server: %s", err.detail)
                    break
                self.rings.append((ring_id, rang))
                log.info("ring %s %s", ring_id, "sent" if rang else "was the same ring")
                break
