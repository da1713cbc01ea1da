"""Live sessions: the owner's browser and the doorbell talk over WebRTC, the server only signals.

One thread long-polls ``GET /devices/live-sessions`` (45 s, also the camera's heartbeat) and
hands each offered session to one asyncio loop in a thread of its own, where aiortc answers it:
the capture loop's latest frames as video (privacy zones already black), the visitor's
microphone only when the session allows audio, the owner's voice to the speaker, and the
``doorstep`` data channel for the greeting and quick replies. The answer is sent whole, with its
candidates inside (no trickle). A session the server reports ended, or whose connection fails
or closes, is closed at once: the agent stops sending within the poll's round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from doorstep.agent import replies
from doorstep.agent.client import DeviceClient
from doorstep.errors import ConfigurationError, DoorstepError, NotAuthenticated, NotFound
from doorstep.media.rtc import AlsaMicrophone, CaptureVideoTrack, FrameSlot, ToneTrack
from doorstep.media.sound import Speaker, read_wav

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 45.0
MJPEG_WAIT_SECONDS = 5.0
CHANNEL = "doorstep"
_RETRY_SECONDS = 5.0
#: Calls the agent serves at once: each is a peer connection and an encoder on a small board.
#: The server opens no more than this per camera; an extra offer (an older server) is ended.
MAX_CALLS = 4


def microphone_factory(spec: str) -> Callable[[], MediaStreamTrack] | None:
    """``tone:HZ``, ``alsa:DEVICE`` or ``none``: what makes the visitor's audio track."""
    kind, _, arg = spec.partition(":")
    if spec == "none":
        return None
    if kind == "tone":
        try:
            hz = float(arg)
        except ValueError:
            hz = 0.0
        if not 20.0 <= hz <= 20_000.0:
            raise ConfigurationError(f"--microphone tone:HZ needs 20..20000 Hz, not {arg!r}")
        return lambda: ToneTrack(hz)
    if kind == "alsa" and arg:
        return lambda: AlsaMicrophone(arg)
    raise ConfigurationError(f"--microphone must be tone:HZ, alsa:DEVICE or none, not {spec!r}")


def ice_servers(feed: list[dict[str, Any]]) -> list[RTCIceServer]:
    """The feed's ICE servers (coturn's short-lived credentials) in aiortc's terms."""
    servers = []
    for entry in feed:
        urls = entry.get("urls")
        if not urls:
            continue
        servers.append(
            RTCIceServer(
                urls=urls, username=entry.get("username"), credential=entry.get("credential")
            )
        )
    return servers


@dataclass
class Session:
    """One answered (or being answered) live session."""

    id: str
    pc: RTCPeerConnection
    tracks: list[MediaStreamTrack] = field(default_factory=list)
    closed: bool = False


class LiveService:
    """Answers the owner's live sessions for one camera; see the module's description."""

    def __init__(
        self,
        client: DeviceClient,
        slot: FrameSlot,
        folder: Path,
        *,
        stop_event: threading.Event,
        microphone: Callable[[], MediaStreamTrack] | None = None,
        speaker: Speaker | None = None,
        on_unauthorised: Callable[[NotAuthenticated], None] | None = None,
        legacy_poll: Callable[[], None] | None = None,
        mjpeg: threading.Event | None = None,
        wait: float = LONG_POLL_SECONDS,
        max_calls: int = MAX_CALLS,
    ) -> None:
        self.client = client
        self.slot = slot
        self.folder = folder
        self.stop_event = stop_event
        self.microphone = microphone
        self.speaker = speaker
        self.on_unauthorised = on_unauthorised
        self.legacy_poll = legacy_poll
        self.wait = wait
        self.max_calls = max_calls
        self.mjpeg = mjpeg if mjpeg is not None else threading.Event()
        """Set while someone has the MJPEG live page open."""
        self.sessions: dict[str, Session] = {}
        self._known: set[str] = set()
        self._ended: set[str] = set()
        self._ids = threading.Lock()
        self.answered = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = threading.Thread(
            target=self._run_loop, name="doorstep-webrtc", daemon=True
        )
        self._poll_thread = threading.Thread(
            target=self._poll, name="doorstep-live-sessions", daemon=True
        )

    # --- threads ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the WebRTC loop and the long-poll."""
        self.loop = asyncio.new_event_loop()
        self._loop_thread.start()
        self._poll_thread.start()

    def stop(self) -> None:
        """Close every session and stop both threads.

        The long-poll thread may be inside a 45 s request; it is a daemon and is not waited for.
        """
        self.stop_event.set()
        loop = self.loop
        if loop is None:
            if self.speaker is not None:
                self.speaker.close()
            return
        if self._loop_thread.is_alive():
            with contextlib.suppress(Exception):
                self._submit(self._close_all()).result(10.0)
            loop.call_soon_threadsafe(loop.stop)
            self._loop_thread.join(10.0)
        if not self._loop_thread.is_alive():
            loop.close()
        self._poll_thread.join(1.0)
        if self.speaker is not None:
            self.speaker.close()

    def _run_loop(self) -> None:
        assert self.loop is not None
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _submit(self, coro: Any) -> Future[Any]:
        assert self.loop is not None, "the live service was not started"
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def active(self) -> list[str]:
        """Ids of the sessions this agent is serving."""
        with self._ids:
            return sorted(self._known - self._ended)

    def _poll(self) -> None:
        while not self.stop_event.is_set():
            try:
                # While the MJPEG page is open, ask often enough to stop soon after it closes.
                wait = min(self.wait, MJPEG_WAIT_SECONDS) if self.mjpeg.is_set() else self.wait
                feed = self.client.live_sessions(wait, self.active(), self.mjpeg.is_set())
            except NotFound:
                # A server from before WebRTC live view: only the MJPEG page exists.
                if self.legacy_poll is None:
                    return
                self.legacy_poll()
                continue
            except NotAuthenticated as err:
                if self.on_unauthorised is not None:
                    self.on_unauthorised(err)
                return
            except DoorstepError as err:
                log.debug("live sessions: %s; retrying", err.detail)
                self.stop_event.wait(_RETRY_SECONDS)
                continue
            self._apply(feed)

    def _apply(self, feed: dict[str, Any]) -> None:
        if feed.get("mjpeg"):
            self.mjpeg.set()
        else:
            self.mjpeg.clear()
        for session_id in feed.get("ended") or []:
            self._submit(self._close(str(session_id), tell_server=False))
        for offered in feed.get("sessions") or []:
            session_id = str(offered["id"])
            with self._ids:
                if session_id in self._known:
                    continue
                self._known.add(session_id)
            self._submit(self._answer(session_id, offered))

    # --- one session -----------------------------------------------------------------------

    async def _answer(self, session_id: str, offered: dict[str, Any]) -> None:
        with self._ids:
            if session_id in self._ended:
                return
        if len(self.sessions) >= self.max_calls:
            # Only this loop's thread touches ``sessions``: the count cannot change under us.
            log.warning("live session %s refused: %d calls already", session_id, self.max_calls)
            with self._ids:
                self._ended.add(session_id)
            with contextlib.suppress(DoorstepError):
                await asyncio.get_running_loop().run_in_executor(
                    None, self.client.end_session, session_id
                )
            return
        config = RTCConfiguration(iceServers=ice_servers(offered.get("ice_servers") or []))
        pc = RTCPeerConnection(config)
        session = self.sessions[session_id] = Session(session_id, pc)
        audio_allowed = bool(offered.get("audio"))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            log.debug("live session %s: %s", session_id, pc.connectionState)
            if pc.connectionState in ("failed", "closed"):
                await self._close(session_id, tell_server=True)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio" and self.speaker is not None:
                asyncio.ensure_future(self._play(track, self.speaker))

        @pc.on("datachannel")
        def on_channel(channel: RTCDataChannel) -> None:
            if channel.label == CHANNEL:
                self._greet(channel)

        try:
            offer = offered["offer"]
            await pc.setRemoteDescription(
                RTCSessionDescription(sdp=without_mdns(offer["sdp"]), type="offer")
            )
            kinds = {t.kind for t in pc.getTransceivers()}
            if "video" in kinds:
                session.tracks.append(CaptureVideoTrack(self.slot))
            if "audio" in kinds and audio_allowed and self.microphone is not None:
                session.tracks.append(self.microphone())
            for track in session.tracks:
                pc.addTrack(track)
            await pc.setLocalDescription(await pc.createAnswer())  # gathers every candidate
            sdp = pc.localDescription.sdp
            await asyncio.get_running_loop().run_in_executor(
                None, self.client.answer_session, session_id, sdp
            )
        except (DoorstepError, ValueError, KeyError, TypeError) as err:
            detail = err.detail if isinstance(err, DoorstepError) else str(err)
            log.warning("could not answer live session %s: %s", session_id, detail)
            await self._close(session_id, tell_server=not isinstance(err, DoorstepError))
            return
        self.answered += 1
        log.info("answered live session %s%s", session_id, " with audio" if audio_allowed else "")

    def _greet(self, channel: RTCDataChannel) -> None:
        hello = {
            "type": "hello",
            "quick_replies": [
                {"id": reply.id, "label": reply.label} for reply in replies.available(self.folder)
            ],
        }

        def send_hello() -> None:
            channel.send(json.dumps(hello))

        if channel.readyState == "open":
            send_hello()
        else:
            channel.on("open", send_hello)

        @channel.on("message")
        def on_message(message: str | bytes) -> None:
            self._on_message(message)

    def _on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        if not isinstance(data, dict) or data.get("type") != "quick_reply":
            return
        path = replies.reply_path(self.folder, str(data.get("id")))
        if path is None or self.speaker is None:
            log.info("quick reply %r cannot be played here", data.get("id"))
            return
        speaker = self.speaker
        log.info("playing quick reply %s", path.stem)
        asyncio.get_running_loop().run_in_executor(
            None, lambda: speaker.play_samples(read_wav(path))
        )

    async def _play(self, track: MediaStreamTrack, speaker: Speaker) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            speaker.play_frame(frame)

    async def _close(self, session_id: str, *, tell_server: bool) -> None:
        with self._ids:
            self._ended.add(session_id)
        session = self.sessions.get(session_id)
        if session is None or session.closed:
            return
        session.closed = True
        for track in session.tracks:
            track.stop()
        await session.pc.close()
        self.sessions.pop(session_id, None)
        log.info("live session %s ended", session_id)
        if tell_server:
            with contextlib.suppress(DoorstepError):
                await asyncio.get_running_loop().run_in_executor(
                    None, self.client.end_session, session_id
                )

    async def _close_all(self) -> None:
        for session_id in list(self.sessions):
            await self._close(session_id, tell_server=True)


def without_mdns(sdp: str) -> str:
    """The offer without host candidates a browser hid behind mDNS names (``<uuid>.local``).

    Browsers name their own addresses that way; an agent cannot resolve the names on most home
    networks, and trying costs about a second before it answers. The browser's connectivity
    checks still reach the agent's candidates, which then learns the browser's real address as
    a peer-reflexive candidate, and relay candidates (TURN) are plain addresses anyway.
    """
    kept = [
        line
        for line in sdp.split("\r\n")
        if not (line.startswith("a=candidate:") and _candidate_address(line).endswith(".local"))
    ]
    return "\r\n".join(kept)


def _candidate_address(line: str) -> str:
    fields = line.split()
    return fields[4].lower() if len(fields) > 4 else ""
