"""HTTP client for the device API: pair, heartbeat, configuration, events, clip upload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from doorstep import __version__
from doorstep.errors import (
    Conflict,
    DoorstepError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unavailable,
    UnsupportedMedia,
)
from doorstep.platform.http.metrics import DETECTIONS

_BY_STATUS: dict[int, type[DoorstepError]] = {
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMedia,
    422: InvalidInput,
}


@dataclass(frozen=True, slots=True)
class Pairing:
    """The server's answer to a pairing code."""

    camera_id: str
    token: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Uploaded:
    """A clip the server holds; ``created`` is false when it already had the same content."""

    clip_id: str
    created: bool


class DeviceClient:
    """Talks to one Doorstep server as one camera; every failure is a ``DoorstepError``."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        headers = {"user-agent": f"doorstep-agent/{__version__}"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.server, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def pair(self, code: str) -> Pairing:
        """Exchange a one-time pairing code for this camera's device token."""
        body = self._call(
            "POST", "/api/v1/devices/pair", json={"code": code, "agent_version": __version__}
        )
        return Pairing(camera_id=body["camera_id"], token=body["token"], config=body["config"])

    def heartbeat(self, spool: tuple[int, int] | None = None) -> int:
        """Say the camera is alive (and its spool's clips, bytes); returns the config version."""
        sent: dict[str, Any] = {"agent_version": __version__}
        if spool is not None:
            sent["spool_clips"], sent["spool_bytes"] = spool
        frames, seconds = DETECTIONS.take()
        if frames:
            sent["detect_frames"], sent["detect_seconds"] = frames, round(seconds, 6)
        body = self._call("POST", "/api/v1/devices/heartbeat", json=sent)
        return int(body["config_version"])

    def config(self) -> dict[str, Any]:
        """The camera's current zones, audio and encryption settings."""
        return self._call("GET", "/api/v1/devices/config")

    def upload_clip(self, meta: dict[str, Any], video: Path, snapshot: Path) -> Uploaded:
        """Upload a clip with its snapshot and event metadata; the server dedupes by content."""
        try:
            with video.open("rb") as video_file, snapshot.open("rb") as snapshot_file:
                response = self._send(
                    "POST",
                    "/api/v1/devices/clips",
                    data={"meta": json.dumps(meta)},
                    files={
                        "video": (video.name, video_file, "video/mp4"),
                        "snapshot": (snapshot.name, snapshot_file, "image/jpeg"),
                    },
                )
        except OSError as err:
            raise DoorstepError(f"cannot read the spooled clip {video}: {err}") from err
        body = _body(response)
        return Uploaded(clip_id=str(body["id"]), created=response.status_code == 201)

    def announce_event(self, meta: dict[str, Any], snapshot: bytes | None) -> dict[str, Any]:
        """Tell the server an event began (or learnt labels); the JPEG only at its start."""
        files = {"snapshot": ("start.jpg", snapshot, "image/jpeg")} if snapshot else None
        return self._call(
            "POST", "/api/v1/devices/events", data={"meta": json.dumps(meta)}, files=files
        )

    def live_wanted(self) -> bool:
        """Whether the owner is watching this camera live."""
        return bool(self._call("GET", "/api/v1/devices/live")["wanted"])

    def send_live(self, jpeg: bytes) -> None:
        """Send one live-view frame."""
        response = self._send(
            "POST", "/api/v1/devices/live", content=jpeg, headers={"content-type": "image/jpeg"}
        )
        if not response.is_success:
            raise error_from(response)

    def ring(self, source: str, snapshot: bytes | None) -> tuple[str, bool]:
        """Tell the server the doorbell was pressed; its ring id, and whether it is a new ring."""
        files = {"snapshot": ("ring.jpg", snapshot, "image/jpeg")} if snapshot else None
        body = self._call("POST", "/api/v1/devices/ring", data={"source": source}, files=files)
        return str(body["ring_id"]), bool(body["rang"])

    def live_sessions(self, wait: float, active: list[str], mjpeg: bool = False) -> dict[str, Any]:
        """Long-poll for offered and ended live sessions (also the camera's heartbeat).

        ``mjpeg`` is whether the agent is sending MJPEG frames now: the server answers at once
        when the MJPEG page opens or closes, so the agent starts and stops with it.
        """
        params: list[tuple[str, str | int]] = [("wait", int(wait)), ("mjpeg", str(mjpeg).lower())]
        params += [("active", session_id) for session_id in active]
        return self._call(
            "GET", "/api/v1/devices/live-sessions", params=params, timeout=wait + 20.0
        )

    def answer_session(self, session_id: str, sdp: str) -> None:
        """Send the agent's answer to an offered live session."""
        response = self._send(
            "POST",
            f"/api/v1/devices/live-sessions/{session_id}/answer",
            json={"type": "answer", "sdp": sdp},
        )
        if not response.is_success:
            raise error_from(response)

    def end_session(self, session_id: str) -> None:
        """Tell the server the agent ended a live session."""
        response = self._send("POST", f"/api/v1/devices/live-sessions/{session_id}/end")
        if not response.is_success:
            raise error_from(response)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return _body(self._send(method, path, **kwargs))

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as err:
            raise Unavailable(f"cannot reach the Doorstep server at {self.server}: {err}") from err


def _body(response: httpx.Response) -> dict[str, Any]:
    if response.is_success:
        try:
            body = response.json()
        except ValueError as err:
            raise Unavailable(f"the server sent a reply that is not JSON: {err}") from err
        if not isinstance(body, dict):
            raise Unavailable("the server sent an unexpected reply")
        return body
    raise error_from(response)


def error_from(response: httpx.Response) -> DoorstepError:
    """Turn a server's error response (problem+json) into the matching Doorstep error."""
    status = response.status_code
    detail = f"the server answered {status}"
    try:
        problem = response.json()
        if isinstance(problem, dict) and problem.get("detail"):
            detail = f"{detail}: {problem['detail']}"
    except ValueError:
        if response.text:
            detail = f"{detail}: {response.text[:200]}"
    if status == 429:
        retry = response.headers.get("retry-after", "")
        return TooManyRequests(detail, retry_after=int(retry) if retry.isdigit() else 1)
    if status >= 500:
        return Unavailable(detail)
    error_type = _BY_STATUS.get(status, InvalidInput)
    return error_type(detail)


def is_retryable(error: DoorstepError) -> bool:
    """Whether trying the same request later can succeed (server down, busy or throttling)."""
    return isinstance(error, Unavailable | TooManyRequests)
