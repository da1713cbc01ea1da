"""Write H.264 MP4 clips (with optional AAC audio) and JPEG snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import av.container
import cv2
import numpy as np
import numpy.typing as npt

from doorstep.media.errors import ClipWriteFailed

_AAC_FRAME_SAMPLES = 1024


class ClipWriter:
    """An MP4 being written frame by frame: H.264 yuv420p, moov atom first for quick playback.

    The file says when it was made (``created``, now by default), as a camera's files do: the
    same pictures written at two different times are two different files. The server keeps one
    clip per camera and content (an upload retried is not stored twice), so without it a
    doorbell watching a scene that repeats exactly, like the demo's looping footage, would have
    every clip after the first taken for a retry of the first.
    """

    def __init__(
        self,
        path: Path,
        *,
        rate: Fraction,
        width: int,
        height: int,
        audio_rate: int | None = None,
        audio_layout: str | None = None,
        crf: int = 23,
        preset: str = "veryfast",
        created: datetime | None = None,
    ) -> None:
        self.path = path
        # yuv420p needs even dimensions; drop a last odd row or column.
        self.width, self.height = width - width % 2, height - height % 2
        self.frames_written = 0
        try:
            self._container: av.container.OutputContainer = av.open(
                str(path), mode="w", format="mp4", options={"movflags": "+faststart"}
            )
            when = (created or datetime.now(UTC)).astimezone(UTC)
            self._container.metadata["creation_time"] = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self._video = self._container.add_stream("libx264", rate=rate)
            self._video.width = self.width
            self._video.height = self.height
            self._video.pix_fmt = "yuv420p"
            self._video.options = {"crf": str(crf), "preset": preset}
            self._audio: av.AudioStream | None = None
            self._resampler: av.AudioResampler | None = None
            self._audio_samples = 0
            if audio_rate is not None:
                self._audio = self._container.add_stream("aac", rate=audio_rate)
                self._audio.layout = audio_layout or "mono"
                self._resampler = av.AudioResampler(
                    format="fltp",
                    layout=audio_layout or "mono",
                    rate=audio_rate,
                    frame_size=_AAC_FRAME_SAMPLES,
                )
        except (av.error.FFmpegError, OSError, ValueError) as err:
            raise ClipWriteFailed(f"cannot start clip {path}: {err}") from err

    def write(self, image: npt.NDArray[np.uint8], audio: Sequence[av.AudioFrame] = ()) -> None:
        """Append one BGR frame (and the audio that came with it)."""
        try:
            # OpenCV's conversion gives the encoder's own BT.601 limited-range planes, several
            # times faster than letting the encoder convert BGR itself.
            planes = np.asarray(
                cv2.cvtColor(image[: self.height, : self.width], cv2.COLOR_BGR2YUV_I420), np.uint8
            )
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = self.frames_written
            self._container.mux(self._video.encode(frame))
            self.frames_written += 1
            if self._audio is not None and self._resampler is not None:
                for chunk in audio:
                    chunk.pts = None
                    self._encode_audio(self._resampler.resample(chunk))
        except (av.error.FFmpegError, ValueError) as err:
            raise ClipWriteFailed(f"cannot write clip {self.path}: {err}") from err

    def _encode_audio(self, chunks: Sequence[av.AudioFrame]) -> None:
        assert self._audio is not None
        for chunk in chunks:
            chunk.pts = self._audio_samples
            self._audio_samples += chunk.samples
            self._container.mux(self._audio.encode(chunk))

    def close(self) -> Path:
        """Flush the encoders, finish the file and return its path."""
        try:
            self._container.mux(self._video.encode(None))
            if self._audio is not None and self._resampler is not None:
                self._encode_audio(self._resampler.resample(None))
                self._container.mux(self._audio.encode(None))
            self._container.close()
        except (av.error.FFmpegError, ValueError) as err:
            raise ClipWriteFailed(f"cannot finish clip {self.path}: {err}") from err
        return self.path


def write_snapshot(path: Path, image: npt.NDArray[np.uint8], quality: int = 88) -> Path:
    """Write ``image`` (BGR) as a JPEG at ``path`` and return the path."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ClipWriteFailed(f"cannot encode snapshot {path}")
    try:
        path.write_bytes(encoded.tobytes())
    except OSError as err:
        raise ClipWriteFailed(f"cannot write snapshot {path}: {err}") from err
    return path
