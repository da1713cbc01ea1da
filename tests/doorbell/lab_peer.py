"""One plain aiortc side of a call for the NAT lab, run inside a network namespace.

``--role browser`` offers (receives video, sends a tone, opens the ``doorstep`` data channel and
sends a marker on it); ``--role agent`` answers (sends colour bars and a tone, acknowledges data
channel messages by their hash). Signalling is JSON lines on stdin/stdout, relayed by the test.
Each side records the plaintext RTP it sent and received (before SRTP protects it, after SRTP
removes it), so the test can look for those bytes in the relay's capture. The result goes to
``--record`` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import hashlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import is_rtcp
from av import AudioFrame, VideoFrame

WIDTH, HEIGHT, FPS = 320, 240, 15
#: Four vertical stripes, left to right: what the receiving side checks every frame against.
BARS = ((220, 30, 30), (30, 220, 30), (30, 30, 220), (230, 230, 230))
KEEP = 400
SENT: list[bytes] = []
RECEIVED: list[bytes] = []


def record_plaintext_rtp() -> None:
    """Keep the RTP this process sends before SRTP protects it, and receives after SRTP."""
    send: Callable[[RTCDtlsTransport, bytes], Awaitable[None]] = RTCDtlsTransport._send_rtp
    handle = RTCDtlsTransport._handle_rtp_data

    async def sending(self: RTCDtlsTransport, data: bytes) -> None:
        if not is_rtcp(data) and len(SENT) < KEEP:
            SENT.append(data)
        await send(self, data)

    async def handling(self: RTCDtlsTransport, data: bytes, arrival_time_ms: int) -> None:
        if len(RECEIVED) < KEEP:
            RECEIVED.append(data)
        await handle(self, data, arrival_time_ms)

    RTCDtlsTransport._send_rtp = sending  # type: ignore[method-assign]
    RTCDtlsTransport._handle_rtp_data = handling  # type: ignore[method-assign]


def bars_frame() -> np.ndarray[Any, np.dtype[np.uint8]]:
    """The colour bars every video frame carries."""
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    stripe = WIDTH // len(BARS)
    for index, colour in enumerate(BARS):
        image[:, index * stripe : (index + 1) * stripe] = colour
    return image


def shows_bars(image: np.ndarray[Any, Any]) -> bool:
    """Whether a received frame is the colour bars, stripe by stripe, within 40 levels."""
    stripe = image.shape[1] // len(BARS)
    for index, colour in enumerate(BARS):
        middle = image[:, index * stripe + stripe // 4 : (index + 1) * stripe - stripe // 4]
        if np.abs(middle.reshape(-1, 3).mean(axis=0) - np.array(colour)).max() > 40:
            return False
    return True


class BarsTrack(MediaStreamTrack):
    """Colour bars at FPS frames a second."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._image = bars_frame()
        self._count = 0
        self._start = time.monotonic()

    async def recv(self) -> VideoFrame:
        self._count += 1
        await asyncio.sleep(max(0.0, self._start + self._count / FPS - time.monotonic()))
        frame = VideoFrame.from_ndarray(self._image, format="rgb24")
        frame.pts, frame.time_base = self._count * 90000 // FPS, fractions.Fraction(1, 90000)
        return frame


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone, 20 ms a frame at 48 kHz."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._samples = 0
        self._start = time.monotonic()

    async def recv(self) -> AudioFrame:
        count = 960
        await asyncio.sleep(max(0.0, self._start + self._samples / 48000 - time.monotonic()))
        moments = (np.arange(count) + self._samples) / 48000
        tone = (np.sin(2 * np.pi * 440 * moments) * 8000).astype(np.int16).reshape(1, -1)
        frame = AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate, frame.pts = 48000, self._samples
        frame.time_base = fractions.Fraction(1, 48000)
        self._samples += count
        return frame


def emit(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


async def read_message() -> dict[str, Any]:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if not line:
        raise SystemExit("signalling closed")
    message: dict[str, Any] = json.loads(line)
    return message


def selected_pair(pc: RTCPeerConnection) -> list[str]:
    """The candidate types of the nominated pair (local, remote), as ICE chose them."""
    assert pc.sctp is not None
    connection = pc.sctp.transport.transport._connection
    pair = connection._nominated.get(1)
    return [pair.local_candidate.type, pair.remote_candidate.type] if pair else []


def watch_connection(pc: RTCPeerConnection) -> dict[str, Any]:
    """What the connection reached, kept as it happens (the far side may close it any time)."""
    seen: dict[str, Any] = {"connected": False, "pair": []}

    @pc.on("connectionstatechange")
    def on_state() -> None:
        if pc.connectionState == "connected":
            seen["connected"], seen["pair"] = True, selected_pair(pc)

    return seen


def configuration(args: argparse.Namespace) -> RTCConfiguration:
    servers = []
    if args.turn_url:
        servers.append(RTCIceServer(args.turn_url, args.username, args.credential))
    return RTCConfiguration(iceServers=servers)


async def browser(args: argparse.Namespace) -> dict[str, Any]:
    pc = RTCPeerConnection(configuration(args))
    seen = watch_connection(pc)
    channel = pc.createDataChannel("doorstep")
    opened, acked, enough = asyncio.Event(), asyncio.Event(), asyncio.Event()
    frames = {"received": 0, "bars": 0}
    channel.on("open", opened.set)
    expected = hashlib.sha256(args.marker.encode()).hexdigest()

    @channel.on("message")
    def on_message(message: str) -> None:
        if json.loads(message).get("sha256") == expected:
            acked.set()

    async def watch(track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, VideoFrame)
            frames["received"] += 1
            frames["bars"] += shows_bars(frame.to_ndarray(format="rgb24"))
            if frames["bars"] >= 15:
                enough.set()

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "video":
            asyncio.ensure_future(watch(track))

    pc.addTransceiver("video", direction="recvonly")
    pc.addTrack(ToneTrack())
    await pc.setLocalDescription(await pc.createOffer())
    emit({"offer": pc.localDescription.sdp})
    answer = await read_message()
    await pc.setRemoteDescription(RTCSessionDescription(answer["answer"], "answer"))
    try:
        await asyncio.wait_for(opened.wait(), args.timeout)
        channel.send(json.dumps({"type": "quick_reply", "id": args.marker}))
        await asyncio.wait_for(asyncio.gather(acked.wait(), enough.wait()), args.timeout)
    except TimeoutError:
        pass
    result = seen | {"acked": acked.is_set()}
    await pc.close()
    return result | frames


async def agent(args: argparse.Namespace) -> dict[str, Any]:
    pc = RTCPeerConnection(configuration(args))
    seen = watch_connection(pc)
    heard: list[str] = []

    @pc.on("datachannel")
    def on_datachannel(channel: RTCDataChannel) -> None:
        def on_message(message: str) -> None:
            heard.append(hashlib.sha256(message.encode()).hexdigest())
            reply_id = json.loads(message).get("id", "")
            channel.send(json.dumps({"sha256": hashlib.sha256(reply_id.encode()).hexdigest()}))

        channel.on("message", on_message)

    offer = await read_message()
    await pc.setRemoteDescription(RTCSessionDescription(offer["offer"], "offer"))
    pc.addTrack(BarsTrack())
    pc.addTrack(ToneTrack())
    await pc.setLocalDescription(await pc.createAnswer())
    emit({"answer": pc.localDescription.sdp})
    await asyncio.wait_for(read_message(), args.timeout * 3)  # the test says when to hang up
    result = seen | {"heard": len(heard)}
    await pc.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", choices=("browser", "agent"), required=True)
    parser.add_argument("--turn-url", default="")
    parser.add_argument("--username", default="")
    parser.add_argument("--credential", default="")
    parser.add_argument("--marker", default="")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    record_plaintext_rtp()
    result = asyncio.run(browser(args) if args.role == "browser" else agent(args))
    result |= {"sent": [p.hex() for p in SENT], "received": [p.hex() for p in RECEIVED]}
    args.record.write_text(json.dumps(result))
    emit({"done": True})


if __name__ == "__main__":
    main()
