"""The doorbell's speaker and its quick replies: 48 kHz mono 16-bit everywhere.

A speaker is a WAV file (tests and bench setups) or an ALSA device through PyAV. Whatever
arrives (the owner's voice decoded from Opus, a quick reply) is resampled to 48 kHz mono first.
Quick replies are spoken once with Debian's espeak-ng and kept as WAV files.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from doorstep.errors import ConfigurationError
from doorstep.media.rtc import AUDIO_RATE, audio_frame


def _resampler() -> av.AudioResampler:
    return av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)


def _pcm(frames: list[av.AudioFrame]) -> bytes:
    return b"".join(bytes(frame.to_ndarray().astype(np.int16).tobytes()) for frame in frames)


class Speaker:
    """Where sound for the visitor goes; subclasses write 48 kHz mono 16-bit PCM somewhere."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resampler = _resampler()
        self.samples_played = 0

    def play_frame(self, frame: object) -> None:
        """Play one frame of the owner's audio, in whatever format it was decoded."""
        if not isinstance(frame, av.AudioFrame):
            return
        with self._lock:
            pcm = _pcm(self._resampler.resample(frame))
            self._write(pcm)

    def play_samples(self, samples: npt.NDArray[np.int16]) -> None:
        """Play 48 kHz mono samples (a quick reply)."""
        with self._lock:
            self._write(samples.astype(np.int16).tobytes())

    def _write(self, pcm: bytes) -> None:
        self.samples_played += len(pcm) // 2

    def close(self) -> None:
        """Finish writing."""


class WavSpeaker(Speaker):
    """A speaker that is a WAV file: what the visitor would hear, kept for checking."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._wav = wave.open(str(path), "wb")  # noqa: SIM115 - open for the speaker's life
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(AUDIO_RATE)

    def _write(self, pcm: bytes) -> None:
        super()._write(pcm)
        self._wav.writeframes(pcm)
        self._wav._file.flush()  # type: ignore[attr-defined]  # readable while still open

    def close(self) -> None:
        """Finish the file or release the device."""
        with self._lock:
            self._wav.close()


class AlsaSpeaker(Speaker):
    """A speaker that is an ALSA playback device, written through PyAV."""

    def __init__(self, device: str) -> None:
        super().__init__()
        self.container = av.open(device, format="alsa", mode="w")
        self.stream = self.container.add_stream("pcm_s16le", rate=AUDIO_RATE, layout="mono")
        self._pts = 0

    def _write(self, pcm: bytes) -> None:
        super()._write(pcm)
        samples = np.frombuffer(pcm, dtype=np.int16)
        frame = audio_frame(samples, self._pts)
        self._pts += len(samples)
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        """Finish the file or release the device."""
        with self._lock:
            self.container.close()


def open_speaker(spec: str) -> Speaker | None:
    """``file:PATH.wav``, ``alsa:DEVICE`` or ``none``."""
    kind, _, arg = spec.partition(":")
    if spec == "none":
        return None
    if kind == "file" and arg:
        return WavSpeaker(Path(arg))
    if kind == "alsa" and arg:
        try:
            return AlsaSpeaker(arg)
        except av.FFmpegError as err:
            raise ConfigurationError(f"cannot open the ALSA speaker {arg!r}: {err}") from err
    raise ConfigurationError(f"--speaker must be file:PATH.wav, alsa:DEVICE or none, not {spec!r}")


def read_wav(path: Path) -> npt.NDArray[np.int16]:
    """Any audio file's samples as 48 kHz mono 16-bit."""
    resampler = _resampler()
    chunks: list[bytes] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.append(_pcm(resampler.resample(frame)))
    chunks.append(_pcm(resampler.resample(None)))
    return np.frombuffer(b"".join(chunks), dtype=np.int16)


def write_wav(path: Path, samples: npt.NDArray[np.int16]) -> None:
    """Write 48 kHz mono samples as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(AUDIO_RATE)
        wav.writeframes(samples.astype(np.int16).tobytes())


def espeak_available() -> bool:
    """Whether espeak-ng is installed."""
    return shutil.which("espeak-ng") is not None


def speak_to_wav(text: str, path: Path) -> None:
    """Say ``text`` with espeak-ng into ``path`` as a 48 kHz mono WAV."""
    if not espeak_available():
        raise ConfigurationError("espeak-ng is not installed (apt install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        try:
            subprocess.run(
                ["espeak-ng", "-w", str(raw), "--", text],
                check=True,
                capture_output=True,
                timeout=60,
            )
        except (subprocess.SubprocessError, OSError) as err:
            raise ConfigurationError(f"espeak-ng could not say {text!r}: {err}") from err
        write_wav(path, read_wav(raw))
