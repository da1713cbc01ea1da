"""The owner's side of a live call, as the live page makes it, in aiortc, for the NAT test.

It signs in, takes the relay's credentials from ``GET /api/v1/turn``, offers the camera a session
(receive video, send the owner's voice as a tone, open the ``doorstep`` data channel), waits for
the agent's answer, counts the frames that show the camera's colour bars, waits for the agent's
greeting, sends a marker as a quick reply, and hangs up with ``DELETE``. It records the plaintext
RTP it received (after SRTP) so the test can look for it in the relay's capture; the result goes to
``--record`` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from tests.doorbell.lab_peer import (
    RECEIVED,
    SENT,
    ToneTrack,
    record_plaintext_rtp,
    shows_bars,
    watch_connection,
)


async def call(args: argparse.Namespace, http: httpx.AsyncClient) -> dict[str, Any]:
    signed_in = await http.post(
        "/api/v1/session", json={"email": args.email, "password": args.password}
    )
    signed_in.raise_for_status()
    headers = {"x-csrf-token": signed_in.json()["csrf_token"]}
    turn = (await http.get("/api/v1/turn")).json()
    servers = [RTCIceServer(s["urls"], s["username"], s["credential"]) for s in turn["ice_servers"]]
    pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
    seen = watch_connection(pc)  # filled in as the connection goes; not to be copied
    seen["turn_urls"] = [server.urls for server in servers]
    seen["marker_sent"] = False
    frames = {"received": 0, "bars": 0}
    hello: dict[str, Any] = {}
    greeted, enough = asyncio.Event(), asyncio.Event()
    channel = pc.createDataChannel("doorstep")

    @channel.on("message")
    def on_message(message: str) -> None:
        if json.loads(message).get("type") == "hello":
            hello.update(json.loads(message))
            greeted.set()

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
    pc.addTrack(ToneTrack())  # Talk: the owner's voice
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"type": "offer", "sdp": pc.localDescription.sdp}
    opened = await http.post(
        f"/api/v1/cameras/{args.camera}/live-sessions",
        json={"offer": offer, "ring_id": None},
        headers=headers,
    )
    assert opened.status_code == 201, opened.text
    session_id = opened.json()["id"]
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        polled = (await http.get(f"/api/v1/live-sessions/{session_id}?wait=5")).json()
        if polled["state"] != "offered":
            break
    seen["answered"] = polled["state"] == "answered"
    if seen["answered"]:
        answer = polled["answer"]
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        waiting = asyncio.gather(greeted.wait(), enough.wait())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiting, max(1.0, deadline - time.monotonic()))
    if channel.readyState == "open":
        channel.send(json.dumps({"type": "quick_reply", "id": args.marker}))
        while channel.bufferedAmount:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the marker crosses the relay before the call ends
        seen["marker_sent"] = True
    hung_up = await http.delete(f"/api/v1/live-sessions/{session_id}", headers=headers)
    await pc.close()
    return seen | frames | {"hello": hello, "hung_up": hung_up.status_code == 204}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=args.server, timeout=30) as http:
        return await call(args, http)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--server", "--email", "--password", "--camera", "--marker"):
        parser.add_argument(name, required=True)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    record_plaintext_rtp()
    result = asyncio.run(main_async(args))
    result |= {"sent": [p.hex() for p in SENT], "received": [p.hex() for p in RECEIVED]}
    args.record.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
