"""Object detection: MobileNet-SSD (doorstep) vs OpenCV's HOG people detector, and the agent's pace.

``.venv/bin/python bench/detect.py`` (not in CI; needs ../shared/data and the cam2text model).
Prints one table:

- person recall and false alarms per frame on frames of the shared footage labelled by eye
  (bench/labels/detect.json), for HOG (media/people.py) and the new detector, on the whole
  frame and with closer looks at the motion regions (as the agent runs it); vehicle recall on
  road.avi frames;
- milliseconds per inference (one 300 × 300 image) on 1 and 2 threads, and per ``detect`` call
  on a 720p frame;
- an agent-like loop (decode + motion + recorder + detection every 0.5 s on motion regions) on
  a 720p 15 fps clip made from the shared footage: how many times real time it keeps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from doorstep.media.detect import ObjectDetector
from doorstep.media.motion import MotionDetector
from doorstep.media.objects import EventWatcher
from doorstep.media.people import PersonDetector
from doorstep.media.recorder import EventRecorder
from doorstep.media.source import open_source

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "video"
LABELS = ROOT / "bench" / "labels" / "detect.json"
TARGET_MS = 20.0
TARGET_REALTIME = 1.5

Image = npt.NDArray[np.uint8]


def labelled_frames(
    name: str, wanted: set[int]
) -> list[tuple[int, Image, list[tuple[float, ...]]]]:
    """The wanted frames of a shared video, each with the motion regions the agent would have."""
    out: list[tuple[int, Image, list[tuple[float, ...]]]] = []
    with open_source(DATA / name) as source:
        motion = MotionDetector(source.width, source.height)
        for frame in source.frames():
            motion.score(frame.luma)
            if frame.index in wanted and frame.image is not None:
                out.append((frame.index, frame.image.copy(), list(motion.regions())))
            if frame.index >= max(wanted):
                break
    return out


def rates(hits: dict[int, bool], truth: dict[int, bool]) -> tuple[str, str]:
    """Recall on frames with the object, false alarms on frames without."""
    present = [i for i, seen in truth.items() if seen]
    absent = [i for i, seen in truth.items() if not seen]
    found = sum(hits[i] for i in present)
    false = sum(hits[i] for i in absent)
    recall = f"{found}/{len(present)} ({found / max(1, len(present)):.0%})"
    alarms = f"{false}/{len(absent)} ({false / max(1, len(absent)):.0%})"
    return recall, alarms


def accuracy(rows: list[tuple[str, ...]]) -> None:
    """Person and vehicle recall and false alarms on the labelled frames."""
    labels = json.loads(LABELS.read_text())
    hog = PersonDetector()
    ssd = ObjectDetector(threads=2)
    for name in ("one-by-one-person-detection.mp4", "road.avi"):
        spec = labels[name]
        label = spec["label"]
        truth = {int(k): bool(v) for k, v in spec["frames"].items()}
        frames = labelled_frames(name, set(truth))
        results: dict[str, dict[int, bool]] = {"whole": {}, "regions": {}, "hog": {}}
        for index, image, regions in frames:
            results["whole"][index] = any(d.label == label for d in ssd.detect(image))
            looked = ssd.detect(image, regions)
            results["regions"][index] = any(d.label == label for d in looked)
            if label == "person":
                results["hog"][index] = hog.count(image) > 0
        if label == "person":
            rows.append((f"{label} HOG (people.py), {name}", *rates(results["hog"], truth)))
        rows.append((f"{label} SSD whole frame, {name}", *rates(results["whole"], truth)))
        rows.append((f"{label} SSD + motion regions, {name}", *rates(results["regions"], truth)))


def speed(rows: list[tuple[str, ...]]) -> None:
    """Milliseconds per inference and per detect call."""
    with open_source(DATA / "one-by-one-person-detection.mp4") as source:
        frame = next(f.image for f in source.frames() if f.index == 300 and f.image is not None)
    big = np.asarray(cv2.resize(frame, (1280, 720)), np.uint8)
    blob = np.zeros((1, 3, 300, 300), np.float32)
    for threads in (1, 2):
        detector = ObjectDetector(threads=threads)
        model = detector._model
        model.run(blob)
        times = []
        for _ in range(40):
            start = time.perf_counter()
            model.run(blob)
            times.append((time.perf_counter() - start) * 1000)
        ms, best = statistics.median(times), min(times)
        verdict = "ok" if ms <= TARGET_MS else "over"
        rows.append(
            (
                f"ms per inference, {threads} thread(s)",
                f"{ms:.1f} median, {best:.1f} best",
                f"≤ {TARGET_MS} {verdict}",
            )
        )
        calls = []
        # No regions (tiles across a large frame), then one person-sized motion region.
        for regions in (None, [(600.0, 300.0, 660.0, 420.0)]):
            before = detector.inferences
            start = time.perf_counter()
            for _ in range(10):
                detector.detect(big, regions)
            calls.append(
                ((time.perf_counter() - start) * 100, (detector.inferences - before) // 10)
            )
        rows.append(
            (
                f"ms per detect on 720p, {threads} thread(s)",
                f"{calls[0][0]:.1f} (whole + {calls[0][1] - 1} tiles)",
                f"{calls[1][0]:.1f} (whole + {calls[1][1] - 1} crop)",
            )
        )
    hog = PersonDetector()
    start = time.perf_counter()
    for _ in range(5):
        hog.count(frame)
    rows.append(("ms per HOG frame (768×432)", f"{(time.perf_counter() - start) * 200:.1f}", ""))


def make_720p(folder: Path, seconds: float) -> Path:
    """The shared footage resized to 1280×720 and written at 15 fps (H.264)."""
    out = folder / "720p15.mp4"
    with (
        av.open(str(DATA / "one-by-one-person-detection.mp4")) as src,
        av.open(str(out), "w") as dst,
    ):
        stream = dst.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for index, frame in enumerate(src.decode(video=0)):
            if index >= seconds * 15:
                break
            image = np.asarray(cv2.resize(frame.to_ndarray(format="bgr24"), (1280, 720)), np.uint8)
            new = av.VideoFrame.from_ndarray(image, format="bgr24")
            new.pts = index
            dst.mux(stream.encode(new))
        dst.mux(stream.encode(None))
    return out


def agent_loop(clip: Path, threads: int) -> tuple[float, float, int, int]:
    """Seconds of footage per second of work, for decode only and for the agent-like loop."""
    start = time.perf_counter()
    with open_source(clip) as source:
        for _ in source.frames():
            pass
        duration = source.frame_count / source.fps
    decode = duration / (time.perf_counter() - start)
    detector = ObjectDetector(threads=threads)
    start = time.perf_counter()
    with open_source(clip) as source:
        motion = MotionDetector(source.width, source.height)
        watcher = EventWatcher(detector, cadence=0.5, regions=motion.regions)
        recorder = EventRecorder(
            rate=source.rate, width=source.width, height=source.height, watcher=watcher
        )
        for frame in source.frames():
            recorder.feed(frame, motion.score(frame.luma))
        recorder.close()
    return decode, duration / (time.perf_counter() - start), watcher.looks, detector.inferences


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the 720p clip")
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = [("measure", "value", "vs")]
    accuracy(rows)
    speed(rows)
    with tempfile.TemporaryDirectory() as folder:
        clip = make_720p(Path(folder), args.seconds)
        for threads in (1, 2):
            decode, loop, looks, inferences = agent_loop(clip, threads)
            verdict = "ok" if loop >= TARGET_REALTIME else "under"
            rows.append(
                (
                    f"agent loop 720p15, {threads} thread(s), {looks} looks, {inferences} inf.",
                    f"{loop:.2f}× real time",
                    f"≥ {TARGET_REALTIME}× {verdict}; decode alone {decode:.2f}×",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
