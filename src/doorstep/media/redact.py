"""Hide bystanders' heads (and blur owner-drawn masks) in footage; the ``doorstep redact`` command.

Faces are found only to be hidden (invariant I9): no landmarks, embeddings or identities are
kept, only boxes for as long as the face is on screen.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import av
import cv2
import numpy as np
import numpy.typing as npt

from doorstep.errors import DoorstepError
from doorstep.media._clipfile import ClipWriter
from doorstep.media._faces import Boxes, FaceDetector, FaceFinder
from doorstep.media._pipeline import Drain, Prefetch
from doorstep.media._progress import ProgressBar
from doorstep.media._tracks import FaceTrack, FaceTracker
from doorstep.media.source import Frame, open_source
from doorstep.media.zones import Zone, parse_zone, zone_mask
from doorstep.platform.http import metrics

Image = npt.NDArray[np.uint8]
Progress = Callable[[int, int], None]
"""Called with (frames done, total frames); total is 0 when the length is unknown."""
BoxesSeen = Callable[[int, Boxes], None]
"""Called with (frame index, the head boxes hidden on that frame) as each frame is written."""

_PROGRESS_EVERY = 25
#: What this redaction does, kept with each stored preview: a preview made by an earlier, weaker
#: method (faces blurred, heads filled with their own mean colour) is made again before anyone
#: previews or shares it.
METHOD = "heads-grey"
#: The one colour every hidden head gets (BGR): fixed, so it says nothing of skin or hair (I9).
FILL = (128, 128, 128)
# An owner-drawn mask is blurred to at least this many samples across (more on a wide one).
_MASK_CELLS = 6


@dataclass(frozen=True, slots=True)
class RedactionSettings:
    """How hard to look for faces and how much to hide around them."""

    input_scale: float = 0.75
    """The detector sees the frame shrunk to this share of its size (small faces need ~0.75)."""
    min_input: int = 640
    """...but with a long side of at least this many pixels (small images are enlarged)..."""
    max_input: int = 1440
    """...and at most this many, which bounds the cost on 4K frames."""
    detect_every: int = 2
    """Run the detector on every n-th frame; tracks carry the boxes in between."""
    threshold: float = 0.15
    """Detector score above which a box is hidden; low, because a missed face is the worse error."""
    second_look: float | None = 0.1
    """Small boxes scoring this much (but under ``threshold``) on a shrunk frame are looked at
    again at full resolution, where a distant face keeps the pixels it lost; ``None``: never."""
    second_look_every: int = 2
    """Take the second look on every n-th detector run only. A face it finds is then followed
    by its track, weak boxes and all, and in files ``look_back`` covers the frames before."""
    hold_frames: int = 10
    """Frames a face stays covered after the detector last saw it."""
    look_back: int = 6
    """Frames before a face's first detection that are covered too (files only)."""
    margin: float = 0.3
    """Share of the face box's larger side added left and right of it: ears, cheeks, hair."""
    margin_up: float = 0.5
    """...added above it: the forehead and hair, so the whole head is hidden..."""
    margin_down: float = 0.4
    """...and added below it: the chin and the neck. A head box is ~1.8–1.9 × the face box."""
    growth_per_frame: float = 0.03
    """Extra margin per frame since the face was last seen, as it may have moved."""
    cells: int = 0
    """Blocks across a hidden head; 0 or 1: one block of ``FILL`` grey (see ``hide``)."""
    threads: int = 2
    """Threads for one detector run."""

    def input_size(self, width: int, height: int) -> int:
        """Long side, in pixels, of the copy of a ``width`` × ``height`` frame the detector sees."""
        wanted = round(max(width, height) * self.input_scale)
        return max(self.min_input, min(self.max_input, wanted))


DEFAULT_SETTINGS = RedactionSettings()


@dataclass(frozen=True, slots=True)
class RedactionReport:
    """What a redaction did: frames written, face boxes the detector found, face tracks."""

    frames: int
    faces_found: int
    tracks: int
    detector_runs: int


class Redactor:
    """Hides heads and blurs masks frame after frame; stateful, so feed frames in order."""

    def __init__(
        self,
        width: int,
        height: int,
        settings: RedactionSettings = DEFAULT_SETTINGS,
        *,
        masks: Sequence[Zone] = (),
        finder: FaceFinder | None = None,
    ) -> None:
        self.width, self.height = width, height
        self.settings = settings
        self.finder: FaceFinder = finder or FaceDetector(
            input_size=settings.input_size(width, height),
            threshold=settings.threshold,
            threads=settings.threads,
            second_look=settings.second_look,
        )
        self.tracker = FaceTracker(hold_frames=settings.hold_frames)
        self.frames = 0
        self.faces_found = 0
        self.detector_runs = 0
        self._masks = _MaskArea(masks, width, height)

    def process(self, frame: Image) -> Image:
        """Hide the heads and blur the masks of the next BGR frame in place and return it."""
        return self.obscure(frame, self.cover(frame))

    def cover(self, frame: Image) -> Boxes:
        """Advance the tracks with the next frame and return the head boxes to hide on it."""
        index = self.frames
        self.frames += 1
        detections: Boxes | None = None
        weak: npt.NDArray[np.bool_] | None = None
        if index % self.settings.detect_every == 0:
            look_again = self.detector_runs % self.settings.second_look_every == 0
            faces = self.finder.find(
                frame, tracked=self.tracker.predicted(index), look_again=look_again
            )
            detections = faces.boxes
            # A box under the threshold was returned only because it sits on a tracked face.
            weak = faces.scores < self.settings.threshold
            self.detector_runs += 1
            self.faces_found += int(np.count_nonzero(~weak))
        tracks = self.tracker.update(index, detections, weak)
        return self._boxes(tracks, index)

    @property
    def born(self) -> Boxes:
        """Boxes of the faces first seen on the last frame, grown as for hiding."""
        return self._boxes(self.tracker.born, self.frames - 1)

    def _boxes(self, tracks: Sequence[FaceTrack], index: int) -> Boxes:
        if not tracks:
            return np.zeros((0, 4), np.float32)
        boxes = np.stack([track.predicted(index) for track in tracks])
        unseen = np.array([index - track.last_seen for track in tracks], np.float32)
        grow = (self.settings.growth_per_frame * unseen)[:, None]
        settings = self.settings
        # Margins scale with the face's larger side: a face box is narrower than the head.
        size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])[:, None]
        # The face box grown to the head: wider, and more above (hair) than below (chin).
        side = size * (settings.margin + grow)
        above = size * (settings.margin_up + grow)
        below = size * (settings.margin_down + grow)
        pad = np.concatenate([-side, -above, side, below], axis=1)
        grown = boxes + pad
        np.clip(grown[:, 0::2], 0, self.width, out=grown[:, 0::2])
        np.clip(grown[:, 1::2], 0, self.height, out=grown[:, 1::2])
        hidden: Boxes = grown.astype(np.float32)
        return hidden

    def obscure(self, frame: Image, boxes: Boxes) -> Image:
        """Hide ``boxes`` and blur the masks of ``frame`` in place, beyond recovery; return it."""
        for x1, y1, x2, y2 in np.rint(boxes).astype(int):
            if x2 - x1 >= 1 and y2 - y1 >= 1:
                hide(frame[y1:y2, x1:x2], self.settings.cells)
        self._masks.apply(frame)
        return frame

    def report(self) -> RedactionReport:
        """Counts so far."""
        return RedactionReport(
            frames=self.frames,
            faces_found=self.faces_found,
            tracks=self.tracker.started,
            detector_runs=self.detector_runs,
        )


def hide(region: Image, cells: int) -> None:
    """Overwrite a head's ``region`` in place with at most ``cells`` flat blocks across it.

    ``cells`` 0 or 1 (the default): the fixed ``FILL`` grey, the same for every head, which keeps
    nothing of the face, nor its skin or hair tone. More cells, only when explicitly asked, keep a
    mean colour per block and nothing finer, with hard edges: no blur to deconvolve.
    """
    if cells <= 1:
        region[:] = FILL
        return
    height, width = region.shape[:2]
    across = max(1, min(cells, width))
    down = max(1, min(height, round(across * height / width)))
    tiny = cv2.resize(region, (across, down), interpolation=cv2.INTER_AREA)
    region[:] = cv2.resize(tiny, (width, height), interpolation=cv2.INTER_NEAREST)


def _smear(region: Image, cells: int) -> Image:
    """Return ``region`` shrunk to a few samples across, scaled back and blurred."""
    height, width = region.shape[:2]
    across = max(1, min(cells, width))
    down = max(1, min(height, round(cells * height / width)))
    tiny = cv2.resize(region, (across, down), interpolation=cv2.INTER_AREA)
    wide = cv2.resize(tiny, (width, height), interpolation=cv2.INTER_LINEAR)
    # The upscaled samples still show their grid; a box blur of one cell removes the edges.
    kernel = max(3, (width // across) | 1)
    return cv2.blur(wide, (kernel, kernel)).astype(np.uint8)


class _MaskArea:
    """Owner-drawn polygons, rasterised once, blurred on every frame."""

    def __init__(self, masks: Sequence[Zone], width: int, height: int) -> None:
        self.rect: tuple[int, int, int, int] | None = None
        self.inside: npt.NDArray[np.bool_] | None = None
        if not masks:
            return
        mask = zone_mask(masks, width, height)
        x, y, w, h = cv2.boundingRect(mask)
        if w and h:
            self.rect = (x, y, w, h)
            self.inside = (mask[y : y + h, x : x + w] > 0)[:, :, None]

    def apply(self, frame: Image) -> None:
        if self.rect is None or self.inside is None:
            return
        x, y, w, h = self.rect
        region = frame[y : y + h, x : x + w]
        # A mask may be large; many more cells than for a face keep it just as unreadable.
        blurred = _smear(region, max(_MASK_CELLS, w // 24))
        np.copyto(region, blurred, where=self.inside)


def redact_file(
    src: str | Path,
    dst: str | Path,
    *,
    masks: Sequence[Zone] = (),
    progress: Progress | None = None,
    settings: RedactionSettings = DEFAULT_SETTINGS,
    audio: bool = False,
    finder: FaceFinder | None = None,
    on_boxes: BoxesSeen | None = None,
    timed: bool = True,
) -> RedactionReport:
    """Write ``dst``: ``src`` as H.264 MP4 with heads hidden and masks blurred; audio only if asked.

    Frames wait in a short queue before being written, so a face found late is also hidden
    on the ``settings.look_back`` frames before its first detection. Timed per clip if ``timed``.
    """
    with metrics.timed(metrics.REDACTION_SECONDS) if timed else contextlib.nullcontext():
        return _redact_file(src, dst, masks, progress, settings, audio, finder, on_boxes)


def _redact_file(
    src: str | Path,
    dst: str | Path,
    masks: Sequence[Zone],
    progress: Progress | None,
    settings: RedactionSettings,
    audio: bool,
    finder: FaceFinder | None,
    on_boxes: BoxesSeen | None,
) -> RedactionReport:
    with open_source(src, audio=audio) as source:
        redactor = Redactor(source.width, source.height, settings, masks=masks, finder=finder)
        writer = ClipWriter(
            Path(dst),
            rate=source.rate,
            width=source.width,
            height=source.height,
            audio_rate=source.audio_rate,
            audio_layout=source.audio_layout,
        )
        total = source.frame_count

        def write(pending: _Pending) -> None:
            boxes = np.concatenate(pending.boxes) if len(pending.boxes) > 1 else pending.boxes[0]
            writer.write(redactor.obscure(pending.image, boxes), pending.audio)
            if on_boxes is not None:
                on_boxes(pending.index, boxes)

        frames = Prefetch(source.frames())
        output: Drain[_Pending] = Drain(write)
        try:
            _cover_all(frames, redactor, output, settings.look_back, progress, total)
        except BaseException:
            frames.stop()
            # The first error is the one to report; the writer's would only follow from it.
            with contextlib.suppress(BaseException):
                output.finish()
            raise
        frames.stop()
        output.finish()
        writer.close()
    if progress is not None:
        progress(redactor.frames, redactor.frames)
    return redactor.report()


def _cover_all(
    frames: Prefetch[Frame],
    redactor: Redactor,
    output: Drain[_Pending],
    look_back: int,
    progress: Progress | None,
    total: int,
) -> None:
    waiting: deque[_Pending] = deque()
    for frame in frames:
        assert frame.image is not None
        boxes = redactor.cover(frame.image)
        born = redactor.born
        if len(born):
            for earlier in waiting:
                earlier.boxes.append(born)
        waiting.append(_Pending(frame.index, frame.image, [boxes], frame.audio))
        if len(waiting) > look_back:
            output.put(waiting.popleft())
        if progress is not None and frame.index % _PROGRESS_EVERY == 0:
            progress(frame.index, total)
    while waiting:
        output.put(waiting.popleft())


@dataclass(slots=True)
class _Pending:
    index: int
    image: Image
    boxes: list[Boxes]
    audio: tuple[av.AudioFrame, ...]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorstep redact",
        description="Write a copy of a video with every head hidden (and any masked area blurred).",
    )
    parser.add_argument("source", metavar="IN", help="video file to redact")
    parser.add_argument("target", metavar="OUT", help="MP4 file to write")
    parser.add_argument(
        "--mask",
        action="append",
        default=[],
        metavar='"x1,y1 x2,y2 ..."',
        help="polygon that is always blurred (fractions 0..1 or pixels); repeat for more",
    )
    parser.add_argument("--audio", action="store_true", help="keep the audio (dropped by default)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main_redact(
    argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``doorstep redact``; return 0 on success, 1 for a bad file or mask, 2 for bad usage."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        with open_source(args.source, color=False) as probe:
            frame_size = (probe.width, probe.height)
        masks = [parse_zone(text, frame_size=frame_size, field="--mask") for text in args.mask]
        progress = ProgressBar(err, "redacting") if err.isatty() else None
        report = redact_file(
            args.source, args.target, masks=masks, progress=progress, audio=args.audio
        )
    except DoorstepError as error:
        err.write(f"doorstep redact: error: {error.detail}\n")
        return 1
    if args.json:
        out.write(json.dumps({"source": args.source, "target": args.target, **asdict(report)}))
        out.write("\n")
    else:
        out.write(
            f"{args.target}: {report.frames} frames, {report.faces_found} face boxes found, "
            f"{report.tracks} faces tracked\n"
        )
    return 0
