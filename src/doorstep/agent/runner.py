"""The camera agent at work: capture, motion, recording into the spool, upload, heartbeat."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from doorstep.agent._pipeline import (
    Pipeline,
    build_pipeline,
    clip_metadata,
    close_frames,
    object_detector,
    source_shape,
)
from doorstep.agent.announcer import AnnouncedFirst, Announcer
from doorstep.agent.client import DeviceClient
from doorstep.agent.doorbell import Doorbell
from doorstep.agent.e2e import load_key
from doorstep.agent.mjpeg import MjpegLive
from doorstep.agent.mqtt import MqttPublisher
from doorstep.agent.options import AgentOptions, CameraConfig
from doorstep.agent.spool import Spool, SpoolError
from doorstep.agent.state import AgentState, load_config, save_config
from doorstep.agent.uploader import Uploader
from doorstep.errors import DoorstepError, NotAuthenticated
from doorstep.media.errors import DamagedMedia, NotVideo, SourceUnavailable
from doorstep.media.recorder import Clip
from doorstep.media.source import (
    Frame,
    VideoSource,
    is_network,
    is_webcam,
    open_source,
    reconnecting_frames,
)
from doorstep.platform.folders import private_folder

log = logging.getLogger(__name__)

REPAIR_HINT = (
    "the server no longer accepts this camera's token; make a new pairing code in Doorstep "
    "and run: doorstep agent pair --server URL --code CODE"
)


def check_source(spec: str, transport: str = "tcp") -> None:
    """Open and close ``spec`` once; raise the video error that says why it cannot be used."""
    open_source(spec, color=False, transport=transport).close()


class CameraAgent:
    """One paired camera: its capture loop on the calling thread, upload and heartbeat beside it."""

    RETRIES_KEPT = 100  # a flaky camera reconnects for months: keep only the latest delays

    def __init__(self, folder: Path, state: AgentState, options: AgentOptions) -> None:
        # The spool holds footage in the clear (unless end-to-end) and the folder the device
        # token: nobody else on the machine may read either.
        self.folder = private_folder(folder, tighten=True)
        self.state = state
        self.options = options
        self.client = DeviceClient(state.server, state.token)
        self.stop_event = threading.Event()
        self.failure: str | None = None
        self.config = CameraConfig()
        self.opened: list[CameraConfig] = []
        """The configuration each source was opened with, in order."""
        self.clips = 0
        self.connections = 0
        """How many times a source was opened (reconnects and settings changes included)."""
        self.frames = 0
        """Frames taken from the source so far."""
        self.retries: deque[float] = deque(maxlen=self.RETRIES_KEPT)
        """The delays waited before the latest reconnects to a live source, in order."""
        self._pending: CameraConfig | None = None
        self._lock = threading.Lock()
        self.mqtt = (
            MqttPublisher(
                options.mqtt_url,
                state.camera_id,
                ca_file=options.mqtt_ca_file,
                cert_file=options.mqtt_cert_file,
            )
            if options.mqtt_url
            else None
        )
        self.spool = Spool(
            folder / "spool", max_bytes=options.spool_max_bytes, on_evict=self._evicted
        )
        self.announcer = Announcer(state.server, state.token, e2e=lambda: bool(load_key(folder)))
        self._upload_client = AnnouncedFirst(state.server, state.token, self.announcer)
        self.uploader = Uploader(
            self.spool,
            self._upload_client,
            backoff=options.upload_backoff,
            on_unauthorised=self._unauthorised,
        )
        self.uploader.e2e_folder = folder
        self.work = folder / "work"
        self._objects = object_detector()
        self._heartbeat: threading.Thread | None = None
        self._live_client = DeviceClient(state.server, state.token)
        self.mjpeg = MjpegLive(
            self._live_client,
            self.stop_event,
            frames_per_second=options.live_frames_per_second,
            poll_seconds=options.live_poll_seconds,
            on_unauthorised=self._unauthorised,
        )
        self.live_wanted = self.mjpeg.wanted
        """Set while the owner's live page is open."""
        self._live_threads: list[threading.Thread] = []
        self.doorbell = Doorbell(
            self.folder,
            DeviceClient(state.server, state.token),
            options,
            self.stop_event,
            mqtt=self.mqtt,
            on_unauthorised=self._unauthorised,
            legacy_poll=self.mjpeg.poll,
            mjpeg=self.mjpeg.wanted,
        )

    @property
    def live_sent(self) -> int:
        """MJPEG frames delivered."""
        return self.mjpeg.sent

    def stop(self) -> None:
        """Ask the agent to finish the current clip and stop."""
        self.stop_event.set()

    def run(self) -> int:
        """Run until stopped (or, with ``once``, until a file ends and the spool is empty)."""
        # A clip being written when the agent died cannot be finished; its pieces are dropped.
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = self._initial_config()
        if config is not None:
            self.config = config
            try:
                self._run_threads()
            except KeyboardInterrupt:
                log.info("stopping")
            finally:
                self._shut_down()
        self.client.close()
        self._upload_client.close()
        self._live_client.close()
        self.doorbell.client.close()
        return 0 if self.failure is None else 1

    def _run_threads(self) -> None:
        if self.mqtt is not None:
            self.mqtt.start()
        self.uploader.start()
        self.announcer.start()
        self._heartbeat = threading.Thread(
            target=self._heartbeats, name="doorstep-heartbeat", daemon=True
        )
        self._heartbeat.start()
        self.doorbell.start()
        self._live_threads = [
            threading.Thread(target=self.mjpeg.send_loop, name="doorstep-live-send", daemon=True),
        ]
        for thread in self._live_threads:
            thread.start()
        self._capture()
        if self.options.once:
            self.spool.wait_until_empty(float("inf"), self.stop_event.is_set)
        else:
            while not self.stop_event.wait(1.0):
                pass

    def _shut_down(self) -> None:
        self.stop_event.set()
        self.announcer.stop()
        self.uploader.stop()
        if self._heartbeat is not None:
            self._heartbeat.join(30.0)
        for thread in self._live_threads:
            thread.join(10.0)
        self.doorbell.stop()
        if self.mqtt is not None:
            self.mqtt.stop()

    def _initial_config(self) -> CameraConfig | None:
        try:
            data = self.client.config()
        except NotAuthenticated as err:
            self._unauthorised(err)
            return None
        except DoorstepError as err:
            cached = load_config(self.folder)
            log.warning(
                "cannot fetch the camera settings (%s); recording with %s",
                err.detail,
                "the last known settings" if cached else "no zones and audio off",
            )
            return CameraConfig.from_server(cached) if cached else CameraConfig()
        save_config(self.folder, data)
        return CameraConfig.from_server(data)

    # --- heartbeat -------------------------------------------------------------------------

    def _heartbeats(self) -> None:
        known = self.config.version
        reachable = True
        while not self.stop_event.is_set():
            try:
                version = self.client.heartbeat(self.spool.backlog())
                if not reachable:
                    log.info("the server is reachable again")
                reachable = True
                if version != known:
                    data = self.client.config()
                    changed = CameraConfig.from_server(data)
                    save_config(self.folder, data)
                    with self._lock:
                        self._pending = changed
                    known = changed.version
                    log.info("camera settings changed (version %d); applying them", known)
            except NotAuthenticated as err:
                self._unauthorised(err)
                return
            except DoorstepError as err:
                if reachable:
                    log.warning("heartbeat failed, will keep trying: %s", err.detail)
                reachable = False
            self.stop_event.wait(self.options.heartbeat_seconds)

    def _unauthorised(self, err: NotAuthenticated) -> None:
        self.failure = f"{REPAIR_HINT} ({err.detail})"
        self.stop_event.set()

    def _take_pending(self) -> CameraConfig | None:
        with self._lock:
            pending, self._pending = self._pending, None
            return pending

    def _interrupted(self) -> bool:
        return self.stop_event.is_set() or self._pending is not None

    # --- capture ---------------------------------------------------------------------------

    def _capture(self) -> None:
        consumed = 0
        while not self.stop_event.is_set():
            self.config = self._take_pending() or self.config
            ended, consumed = self._capture_with(self.config, consumed)
            if ended:
                return

    def _capture_with(self, config: CameraConfig, consumed: int) -> tuple[bool, int]:
        """Record with ``config`` until the source ends (True) or the config changes (False)."""
        spec = self.options.source
        self.opened.append(config)
        pipeline: Pipeline | None = None
        opened: list[VideoSource] = []

        def open_fn() -> VideoSource:
            source = open_source(
                spec,
                loop=self.options.loop,
                color=True,
                audio=config.audio,
                privacy_zones=config.privacy_zones,
                transport=self.options.rtsp_transport,
                timeout=self.options.network_timeout,
            )
            # Earlier connections were closed by whoever opened them; keep only the current one.
            opened[:] = [source]
            self.connections += 1
            return source

        def dropped(err: DoorstepError, delay: float) -> None:
            nonlocal pipeline
            self.retries.append(delay)
            log.warning("%s; reconnecting in %.1f s", err.detail, delay)
            # The camera may be gone for long (or the agent stopped meanwhile): the event being
            # recorded is finished and spooled now, not when (if ever) frames come back.
            if pipeline is not None:
                self._spool_clip(pipeline.recorder.close())
                pipeline = None

        live = is_network(spec) or is_webcam(spec)
        frames: Iterator[Frame]
        if live:
            frames = reconnecting_frames(
                open_fn,
                backoff=self.options.reconnect_backoff,
                sleep=self._wait,
                should_stop=self._interrupted,
                on_retry=dropped,
            )
        else:
            frames = self._paced(open_fn, consumed)
        broken = False
        try:
            for frame in frames:
                source = opened[-1]
                if pipeline is None or pipeline.source_shape != source_shape(source):
                    if pipeline is not None:
                        self._spool_clip(pipeline.recorder.close())
                    pipeline = self._pipeline(source, config)
                consumed += 1
                self.frames += 1
                if self.doorbell.take_trigger():
                    pipeline.trigger("ring")
                self._spool_clip(pipeline.feed(frame))
                self.mjpeg.offer(frame)
                self.doorbell.offer(frame)
                if self._interrupted():
                    break
        except (DamagedMedia, SourceUnavailable, NotVideo) as err:
            broken = True
            log.error("%s; the frames before it were recorded", err.detail)
        finally:
            close_frames(frames)
            for source in opened:
                source.close()
            if pipeline is not None:
                self._spool_clip(pipeline.recorder.close())
        ended = broken or self.stop_event.is_set() or self._pending is None
        return ended, consumed

    def _wait(self, seconds: float) -> None:
        self.stop_event.wait(seconds)

    def _paced(self, open_fn: Callable[[], VideoSource], skip: int) -> Iterator[Frame]:
        source = open_fn()
        # Reopened files resume where they were, so a settings change does not replay footage.
        if self.options.loop and source.frame_count:
            skip %= source.frame_count
        started: float | None = None
        for frame in source.frames():
            if skip > 0:
                skip -= 1
                continue
            if self.options.realtime:
                if started is None:
                    started = time.monotonic() - frame.pts
                delay = started + frame.pts - time.monotonic()
                if delay > 0 and self.stop_event.wait(delay):
                    return
            yield frame

    def _pipeline(self, source: VideoSource, config: CameraConfig) -> Pipeline:
        return build_pipeline(
            source, config, self.options.motion, self.work, self.announcer.news, self._objects
        )

    def _spool_clip(self, clip: Clip | None) -> None:
        if clip is None:
            return
        if clip.metadata is not None:
            clip.metadata.unlink(missing_ok=True)
        if clip.video is None or clip.snapshot is None:
            log.warning("an event had no snapshot; its clip was not kept")
            return
        event = clip.event
        meta = clip_metadata(clip, end_to_end=load_key(self.folder) is not None)
        try:
            entry = self.spool.add(clip.video, clip.snapshot, meta)
        except SpoolError as err:
            log.error("%s", err.detail)
            return
        self.clips += 1
        log.info(
            "recorded a %.1f s clip%s into the spool as %s",
            event.end_seconds - event.start_seconds,
            " with a person" if "person" in event.labels else "",
            entry.name,
        )
        if self.mqtt is not None:
            self.mqtt.publish_event(meta)

    def _evicted(self, meta: dict[str, Any], total: int) -> None:
        if self.mqtt is None:
            return
        self.mqtt.publish_warning(
            {
                "type": "spool_eviction",
                "clip_started_at": meta.get("started_at"),
                "evicted_total": total,
                "spool_max_bytes": self.spool.max_bytes,
            }
        )
