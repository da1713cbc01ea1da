"""The doorbell's parts without a server: quick replies, snapshots, microphone and speaker specs."""

from __future__ import annotations

import asyncio
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from aiortc import RTCPeerConnection

from doorstep.agent import replies
from doorstep.agent.cli import main_agent
from doorstep.agent.client import DeviceClient
from doorstep.agent.doorbell import Doorbell
from doorstep.agent.live import LiveService, Session, microphone_factory
from doorstep.agent.options import AgentOptions
from doorstep.agent.state import save_config
from doorstep.errors import ConfigurationError
from doorstep.media.rtc import FrameSlot
from doorstep.media.sound import open_speaker
from doorstep.platform.folders import private_folder


def test_quick_replies_are_spoken_into_the_agent_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = private_folder(tmp_path / "agent")
    assert replies.available(folder) == []
    assert main_agent(["quick-replies", "--state-dir", str(folder)]) == 0
    assert capsys.readouterr().out.count("made ") == 3
    assert [reply.label for reply in replies.available(folder)] == [
        "We'll be right there",
        "Please leave it at the door",
        "We can't come to the door right now",
    ]
    for reply in replies.QUICK_REPLIES:
        with wave.open(str(replies.replies_folder(folder) / f"{reply.id}.wav")) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (48_000, 1, 2)
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        assert len(samples) > 48_000 // 2  # at least half a second of speech
        assert np.abs(samples).max() > 1000  # not silence
    assert replies.reply_path(folder, "../../etc/passwd") is None


def _doorbell(folder: Path) -> Doorbell:
    client = DeviceClient("http://127.0.0.1:9")
    return Doorbell(
        folder,
        client,
        AgentOptions(source="x"),
        threading.Event(),
        mqtt=None,
        on_unauthorised=lambda _: None,
    )


def test_the_ring_snapshot_is_the_latest_frame_but_never_for_end_to_end_cameras(
    tmp_path: Path,
) -> None:
    folder = private_folder(tmp_path / "agent")
    doorbell = _doorbell(folder)
    assert doorbell._snapshot() is None  # no frame yet
    doorbell.slot.put(np.full((240, 320, 3), 90, dtype=np.uint8))
    jpeg = doorbell._snapshot()
    assert jpeg is not None
    assert jpeg[:2] == b"\xff\xd8"
    save_config(folder, {"e2e_enabled": True})
    assert doorbell._snapshot() is None


def test_a_press_asks_the_capture_loop_for_one_ring_clip(tmp_path: Path) -> None:
    doorbell = _doorbell(private_folder(tmp_path / "agent"))
    assert doorbell.take_trigger() is False
    assert doorbell.bell.press("key") is True
    assert doorbell.take_trigger() is True
    assert doorbell.take_trigger() is False


@pytest.mark.parametrize("spec", ["tone:5", "tone:x", "mic", "alsa:", "file:x.wav"])
def test_a_bad_microphone_is_refused(spec: str) -> None:
    with pytest.raises(ConfigurationError):
        microphone_factory(spec)


def test_the_microphone_and_speaker_specs(tmp_path: Path) -> None:
    assert microphone_factory("none") is None
    assert microphone_factory("tone:440") is not None
    assert open_speaker("none") is None
    speaker = open_speaker(f"file:{tmp_path / 'out.wav'}")
    assert speaker is not None
    speaker.play_samples(np.zeros(480, dtype=np.int16))
    speaker.close()
    with wave.open(str(tmp_path / "out.wav")) as wav:
        assert wav.getnframes() == 480
    with pytest.raises(ConfigurationError):
        open_speaker("speaker")
    with pytest.raises(ConfigurationError, match="ALSA speaker"):
        open_speaker("alsa:doorstep-no-such-device")


def test_a_button_pin_that_cannot_be_used_stops_the_agent_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No GPIO here, even on a Raspberry Pi: a pin factory that does not exist.
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    folder = private_folder(tmp_path / "agent")
    with pytest.raises(ConfigurationError, match="GPIO pin 17"):
        Doorbell(
            folder,
            DeviceClient("http://127.0.0.1:9"),
            AgentOptions(source="x", button_pin=17),
            threading.Event(),
            mqtt=None,
            on_unauthorised=lambda _: None,
        )


def test_the_agent_drops_only_the_browsers_mdns_candidates_from_an_offer() -> None:
    from doorstep.agent.live import without_mdns

    offer = "\r\n".join(
        [
            "v=0",
            "m=video 9 UDP/TLS/RTP/SAVPF 96",
            "a=candidate:1 1 udp 2122260223 0b6f1e2a-3c4d-4e5f.local 54400 typ host",
            "a=candidate:2 1 udp 1686052607 203.0.113.7 54400 typ srflx raddr 0.0.0.0 rport 0",
            "a=candidate:3 1 udp 41885439 198.51.100.9 3478 typ relay raddr 0.0.0.0 rport 0",
            "a=end-of-candidates",
            "",
        ]
    )
    kept = without_mdns(offer)
    assert ".local" not in kept
    assert "203.0.113.7 54400 typ srflx" in kept
    assert "198.51.100.9 3478 typ relay" in kept
    assert kept == offer.replace(offer.split("\r\n")[2] + "\r\n", "")


class _Ends:
    """A device client that records which sessions the agent ended."""

    def __init__(self) -> None:
        self.ended: list[str] = []

    def end_session(self, session_id: str) -> None:
        self.ended.append(session_id)


def test_the_agent_serves_only_so_many_calls_and_ends_an_extra_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _Ends()
    live = LiveService(
        client,  # type: ignore[arg-type]
        FrameSlot(),
        tmp_path,
        stop_event=threading.Event(),
        max_calls=1,
    )

    async def one_running_then_another() -> None:
        live.sessions["running"] = Session("running", RTCPeerConnection())
        # An extra call gets no peer connection at all.
        monkeypatch.setattr("doorstep.agent.live.RTCPeerConnection", None)
        await live._answer("extra", {"offer": {"type": "offer", "sdp": "v=0"}, "audio": False})
        await live.sessions["running"].pc.close()

    asyncio.run(one_running_then_another())
    assert client.ended == ["extra"]
    assert list(live.sessions) == ["running"]
    assert live.active() == []  # "extra" is ended; "running" was never polled in
