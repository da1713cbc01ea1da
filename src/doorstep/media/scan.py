"""Offline motion scan and object detection of a video file: ``doorstep scan`` and ``detect``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from doorstep.errors import DoorstepError
from doorstep.media._progress import ProgressBar
from doorstep.media.detect import LABELS, ObjectDetector
from doorstep.media.errors import DamagedMedia
from doorstep.media.motion import DEFAULT_SETTINGS, MotionDetector, MotionSettings
from doorstep.media.recorder import EventRecorder, Labeler, MotionEvent, segment
from doorstep.media.source import open_source
from doorstep.media.zones import Zone, parse_zone

Progress = Callable[[int, int], None]
"""Called with (work done, total work) in frames; total is 0 when the length is unknown."""

_PROGRESS_MIN_FRAMES = 300


def object_labeler(labels: Sequence[str] = LABELS, *, threads: int = 2) -> Labeler:
    """Label a few frames of an event with the objects the detector finds among ``labels``."""
    detector = ObjectDetector(threads=threads)

    def label(images: Sequence[npt.NDArray[np.uint8]]) -> tuple[str, ...]:
        seen = {found.label for image in images for found in detector.detect(image)}
        return tuple(name for name in labels if name in seen)

    return label


def scan_file(
    path: str | Path,
    *,
    zones: Sequence[Zone] = (),
    privacy_zones: Sequence[Zone] = (),
    settings: MotionSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    clips_dir: Path | None = None,
    people: bool = False,
    audio: bool = False,
    objects: bool = False,
) -> list[MotionEvent]:
    """Find the motion events in a video file; optionally write clips and label objects.

    ``objects``: label people, vehicles, bicycles and animals; ``people``: people only.

    Motion is measured on luma alone; only when clips or labels are wanted is the file
    decoded a second time in colour, and then only events are written or examined.
    """
    with open_source(path, color=False, privacy_zones=privacy_zones) as source:
        detector = MotionDetector(
            source.width,
            source.height,
            zones=zones,
            privacy_zones=privacy_zones,
            settings=settings,
        )
        labeler = None
        if objects or people:
            labeler = object_labeler(LABELS if objects else ("person",))
        passes = 2 if (clips_dir is not None or labeler is not None) else 1
        total = source.frame_count * passes
        scores: list[float] = []
        for frame in source.frames():
            scores.append(detector.score(frame.luma))
            if progress is not None and frame.index % 50 == 0:
                progress(frame.index, total)
        fps = source.fps
    events = segment(scores, settings=settings, fps=fps)
    if passes == 1 or not events:
        if progress is not None:
            progress(total, total)
        return events
    return _record(
        path, scores, privacy_zones, settings, clips_dir, labeler, audio, progress, total
    )


def _record(
    path: str | Path,
    scores: list[float],
    privacy_zones: Sequence[Zone],
    settings: MotionSettings,
    clips_dir: Path | None,
    labeler: Labeler | None,
    audio: bool,
    progress: Progress | None,
    total: int,
) -> list[MotionEvent]:
    with open_source(path, audio=audio, privacy_zones=privacy_zones) as source:
        recorder = EventRecorder(
            rate=source.rate,
            width=source.width,
            height=source.height,
            settings=settings,
            clips_dir=clips_dir,
            audio_rate=source.audio_rate,
            audio_layout=source.audio_layout,
            labeler=labeler,
            extra_metadata={"source": Path(path).name},
        )
        events: list[MotionEvent] = []
        for frame in source.frames():
            if frame.index >= len(scores):
                break
            clip = recorder.feed(frame, scores[frame.index])
            if clip is not None:
                events.append(clip.event)
            if progress is not None and frame.index % 50 == 0:
                progress(len(scores) + frame.index, total)
        clip = recorder.close()
        if clip is not None:
            events.append(clip.event)
    if progress is not None:
        progress(total, total)
    return events


def format_table(events: Sequence[MotionEvent]) -> str:
    """Return the events as an aligned text table."""
    header = ("#", "start s", "end s", "start frame", "end frame", "peak", "labels")
    rows = [
        (
            str(number),
            f"{event.start_seconds:.2f}",
            f"{event.end_seconds:.2f}",
            str(event.start_frame),
            str(event.end_frame),
            f"{event.peak_score:.3f}",
            ",".join(event.labels) or "-",
        )
        for number, event in enumerate(events, start=1)
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorstep scan", description="Find motion events in a video file."
    )
    parser.add_argument("video", metavar="VIDEO", help="video file to scan")
    parser.add_argument(
        "--zone",
        action="append",
        default=[],
        metavar='"x1,y1 x2,y2 ..."',
        help="motion zone polygon (fractions 0..1 or pixels); repeat for more; default whole frame",
    )
    parser.add_argument(
        "--privacy-zone",
        action="append",
        default=[],
        metavar='"x1,y1 x2,y2 ..."',
        help="privacy zone polygon: never analysed, recorded or triggering; repeat for more",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--clips", type=Path, metavar="DIR", help="write clips and snapshots here")
    parser.add_argument(
        "--objects",
        action="store_true",
        help="label events with the people, vehicles, bicycles and animals they show",
    )
    parser.add_argument("--people", action="store_true", help="label events that show a person")
    parser.add_argument("--audio", action="store_true", help="keep the audio in written clips")
    defaults = DEFAULT_SETTINGS
    parser.add_argument(
        "--pre-roll", type=float, default=defaults.pre_roll_seconds, metavar="SECONDS"
    )
    parser.add_argument(
        "--post-roll", type=float, default=defaults.post_roll_seconds, metavar="SECONDS"
    )
    parser.add_argument(
        "--min-event", type=float, default=defaults.min_event_seconds, metavar="SECONDS"
    )
    return parser


def main_scan(
    argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``doorstep scan``; return 0 on success, 1 for a bad file or zone, 2 for bad usage."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        with open_source(args.video, color=False) as probe:
            frame_size = (probe.width, probe.height)
            long_file = probe.frame_count >= _PROGRESS_MIN_FRAMES
        zones = [parse_zone(text, frame_size=frame_size, field="--zone") for text in args.zone]
        privacy = [
            parse_zone(text, frame_size=frame_size, field="--privacy-zone")
            for text in args.privacy_zone
        ]
        settings = replace(
            DEFAULT_SETTINGS,
            pre_roll_seconds=args.pre_roll,
            post_roll_seconds=args.post_roll,
            min_event_seconds=args.min_event,
        )
        progress = ProgressBar(err, "scanning") if long_file and err.isatty() else None
        events = scan_file(
            args.video,
            zones=zones,
            privacy_zones=privacy,
            settings=settings,
            progress=progress,
            clips_dir=args.clips,
            people=args.people,
            audio=args.audio,
            objects=args.objects,
        )
    except DoorstepError as error:
        err.write(f"doorstep scan: error: {error.detail}\n")
        return 1
    if args.json:
        document = {"video": args.video, "events": [event.as_dict() for event in events]}
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(format_table(events) + "\n")
    return 0


def detect_file(
    path: str | Path,
    *,
    every: int = 1,
    threads: int = 2,
    progress: Progress | None = None,
    frames: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The objects on every ``every``-th decoded frame of a video file, boxes in pixels.

    ``frames``: the list to fill, which keeps the frames before a damage that raises.
    """
    detector = ObjectDetector(threads=threads)
    frames = [] if frames is None else frames
    with open_source(path, color=True) as source:
        total = source.frame_count
        for frame in source.frames():
            if progress is not None and frame.index % 25 == 0:
                progress(frame.index, total)
            if frame.index % every or frame.image is None:
                continue
            found = detector.detect(frame.image)
            objects = [
                {"label": d.label, "score": d.score, "box": [round(v, 1) for v in d.box]}
                for d in found
            ]
            frames.append({"index": frame.index, "time": round(frame.pts, 3), "objects": objects})
    if progress is not None:
        progress(total, total)
    return frames


def detection_table(frames: Sequence[dict[str, Any]]) -> str:
    """The frames' objects as readable lines: frame, time, then each object."""
    lines = ["frame   time s  objects"]
    for frame in frames:
        seen = "; ".join(
            f"{o['label']} {o['score']:.2f} at {','.join(f'{v:.0f}' for v in o['box'])}"
            for o in frame["objects"]
        )
        lines.append(f"{frame['index']:>5}  {frame['time']:>7.2f}  {seen or '-'}")
    return "\n".join(lines)


def _every(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"--every needs a whole number of frames ≥ 1, not {text!r}"
        )
    return value


def main_detect(
    argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``doorstep detect``; return 0 on success, 1 for a bad file or model, 2 for bad usage.

    A file damaged part-way still has the frames before the damage listed, then the error.
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="doorstep detect",
        description="List the people, vehicles, bicycles and animals on a video's frames.",
    )
    parser.add_argument("video", metavar="VIDEO", help="video file to look at")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--every", type=_every, default=1, metavar="N", help="look at every Nth frame (default 1)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    frames: list[dict[str, Any]] = []
    damage: str | None = None
    try:
        with open_source(args.video, color=False) as probe:
            long_file = probe.frame_count >= _PROGRESS_MIN_FRAMES
            shape = {"width": probe.width, "height": probe.height, "fps": round(probe.fps, 3)}
        progress = ProgressBar(err, "detecting") if long_file and err.isatty() else None
        detect_file(args.video, every=args.every, progress=progress, frames=frames)
    except DamagedMedia as error:
        damage = error.detail
    except DoorstepError as error:
        err.write(f"doorstep detect: error: {error.detail}\n")
        return 1
    if args.json:
        document = {"video": args.video, **shape, "frames": frames}
        if damage is not None:
            document["error"] = damage
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(detection_table(frames) + "\n")
    if damage is not None:
        err.write(f"doorstep detect: error: {damage}\n")
        return 1
    return 0
