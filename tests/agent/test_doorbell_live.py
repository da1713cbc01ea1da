"""A real agent answers a real "browser" (aiortc on the test side) through a real server.

The server only relays the offer and the answer; the video comes from the agent's capture loop,
the owner's tone reaches the agent's WAV speaker, the visitor's tone reaches the owner only when
the camera's audio is on, a quick reply plays into the speaker, and hanging up ends the call.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from doorstep.agent import replies
from doorstep.agent.options import AgentOptions
from doorstep.agent.runner import CameraAgent
from doorstep.agent.state import AgentState
from doorstep.media.rtc import ToneTrack
from tests.agent.conftest import Owner

OWNER_HZ, VISITOR_HZ = 880.0, 440.0


def peak_hz(samples: npt.NDArray[np.int16], rate: int) -> float:
    """The strongest frequency in ``samples``."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum[1:])) + 1])


def wav_samples(path: Path) -> npt.NDArray[np.int16]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == 48_000
        assert wav.getnchannels() == 1
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)


def first_frame(footage: Path) -> npt.NDArray[np.uint8]:
    with av.open(str(footage)) as container:
        for frame in container.decode(video=0):
            return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    raise AssertionError("no frame")


@contextmanager
def running_agent(state_dir: Path, state: AgentState, footage: Path) -> Iterator[CameraAgent]:
    options = AgentOptions(
        source=str(footage),
        loop=True,
        microphone=f"tone:{VISITOR_HZ:g}",
        speaker=f"file:{state_dir / 'speaker.wav'}",
        quick_replies=False,
    )
    agent = CameraAgent(state_dir, state, options)
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        yield agent
    finally:
        agent.stop()
        thread.join(30)


class Browser:
    """The owner's side of a call: an aiortc peer offering what the live page offers."""

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        self.pc = RTCPeerConnection()
        self.video: list[npt.NDArray[np.uint8]] = []
        self.audio: list[npt.NDArray[np.int16]] = []
        self.messages: list[dict[str, Any]] = []
        self.session_id = ""
        self.answer_sdp = ""

    async def call(self) -> None:
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTrack(ToneTrack(OWNER_HZ))  # Talk is on
        channel = self.pc.createDataChannel("doorstep")
        self.channel = channel
        channel.on("message", lambda m: self.messages.append(json.loads(m)))

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            asyncio.ensure_future(self._receive(track))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"type": "offer", "sdp": self.pc.localDescription.sdp}
        response = await asyncio.to_thread(
            self.owner.http.post,
            f"/api/v1/cameras/{self.owner.camera_id}/live-sessions",
            json={"offer": offer, "ring_id": None},
            headers={"x-csrf-token": self.owner.csrf},
        )
        assert response.status_code == 201, response.text
        self.session_id = response.json()["id"]
        answer = None
        for _ in range(5):
            polled = await asyncio.to_thread(
                self.owner.http.get, f"/api/v1/live-sessions/{self.session_id}", params={"wait": 10}
            )
            assert polled.status_code == 200, polled.text
            answer = polled.json()["answer"]
            if answer:
                break
        assert answer is not None, "the agent never answered"
        self.answer_sdp = answer["sdp"]
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def _receive(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:  # noqa: BLE001 - the track ended
                return
            if track.kind == "video":
                self.video.append(frame.to_ndarray(format="bgr24"))  # type: ignore[union-attr]
            else:
                self.audio.append(frame.to_ndarray().reshape(-1))  # type: ignore[union-attr]

    async def wait(self, condition: Any, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.05)

    async def hang_up(self) -> None:
        response = await asyncio.to_thread(
            self.owner.http.delete,
            f"/api/v1/live-sessions/{self.session_id}",
            headers={"x-csrf-token": self.owner.csrf},
        )
        assert response.status_code == 204, response.text


def test_the_owner_sees_talks_hears_plays_a_reply_and_hangs_up(
    owner: Owner, paired: AgentState, state_dir: Path, footage: Path
) -> None:
    owner.change_camera(audio_enabled=True)
    replies.make(state_dir)
    reply = wav_samples(replies.replies_folder(state_dir) / "coming.wav")
    speaker = state_dir / "speaker.wav"
    with running_agent(state_dir, paired, footage) as agent:

        async def scenario() -> None:
            browser = Browser(owner)
            await browser.call()
            await browser.wait(lambda: len(browser.video) >= 10, "video frames")
            # The frames are the source's pixels (through a lossy codec).
            source = first_frame(footage).astype(np.int16)
            seen = browser.video[-1].astype(np.int16)
            assert seen.shape == source.shape
            assert np.abs(seen - source).mean() < 25

            # The camera's audio is on: the visitor's tone reaches the owner.
            await browser.wait(lambda: len(browser.audio) >= 50, "the visitor's audio")
            heard = np.concatenate(browser.audio[-25:])
            assert abs(peak_hz(heard[::2], 48_000) - VISITOR_HZ) < 10  # decoded as stereo

            # The owner's tone (Talk) plays on the agent's speaker.
            await browser.wait(lambda: len(wav_samples(speaker)) >= 48_000, "the speaker")
            assert abs(peak_hz(wav_samples(speaker)[-24_000:], 48_000) - OWNER_HZ) < 10

            # The greeting lists the quick replies; one plays into the speaker.
            await browser.wait(lambda: browser.messages, "the greeting")
            hello = browser.messages[0]
            assert hello["type"] == "hello"
            assert {"id": "coming", "label": "We'll be right there"} in hello["quick_replies"]
            before = agent.doorbell.live.speaker.samples_played  # type: ignore[union-attr]
            browser.channel.send(json.dumps({"type": "quick_reply", "id": "coming"}))
            await browser.wait(
                lambda: (
                    agent.doorbell.live.speaker.samples_played  # type: ignore[union-attr]
                    >= before + len(reply)
                ),
                "the quick reply",
            )

            # Hang up: the agent closes its side within 2 s and sends nothing more.
            await browser.hang_up()
            hung_up = time.monotonic()
            await browser.wait(
                lambda: not agent.doorbell.live.sessions, "the agent to hang up", 2.0
            )
            assert time.monotonic() - hung_up <= 2.0
            await asyncio.sleep(0.5)
            count = len(browser.video)
            await asyncio.sleep(1.0)
            assert len(browser.video) == count, "the agent kept sending"
            await browser.pc.close()

        asyncio.run(scenario())


def test_the_visitor_is_not_heard_when_the_camera_audio_is_off(
    owner: Owner, paired: AgentState, state_dir: Path, footage: Path
) -> None:
    with running_agent(state_dir, paired, footage) as agent:

        async def scenario() -> None:
            browser = Browser(owner)
            await browser.call()
            await browser.wait(lambda: len(browser.video) >= 30, "video frames")
            audio_section = browser.answer_sdp.split("m=audio", 1)[1].split("m=", 1)[0]
            assert "a=recvonly" in audio_section
            assert browser.audio == []
            await browser.hang_up()
            await browser.wait(lambda: not agent.doorbell.live.sessions, "the agent to hang up")
            await browser.pc.close()

        asyncio.run(scenario())
