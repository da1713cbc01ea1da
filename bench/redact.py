"""Face redaction speed and coverage: doorstep redact vs deface, and recall on labelled faces.

deface lives in ``.venv-bench-deface`` (it brings its own OpenCV): run ``bench/setup_peers.sh``.
Then ``.venv/bin/python bench/redact.py [--runs N]``. Prints one table.

Coverage: deface's own detector (score ≥ 0.5, full resolution, as ``deface`` runs by default)
is run on every frame; a face box counts as covered on a frame when the boxes Doorstep hid on
that frame cover at least 90% of its area.

Faces left: the same detector is run again on the output, ours and deface's (its own blur), frame
by frame and photo by photo: every box it still finds at ≥ 0.5 is a face the redaction left.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from doorstep.media._faces import FaceDetector, Faces, iou_matrix
from doorstep.media.redact import DEFAULT_SETTINGS, RedactionSettings, Redactor, redact_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FOOTAGE = DATA / "video" / "crowd-faces.mp4"
FACES = DATA / "faces"
NO_FACE = "dogs.jpg"
BENCH_PYTHON = ROOT / ".venv-bench-deface" / "bin" / "python"
DEFACE = ROOT / ".venv-bench-deface" / "bin" / "deface"
# The interpreter running the bench runs Doorstep too (``.venv/bin/python`` as documented).
PYTHON = Path(sys.executable)
PEER_SCORE = 0.5
COVERED_SHARE = 0.9
CALL_MAIN_REDACT = (
    "import sys\nfrom doorstep.media.redact import main_redact\n"
    "sys.exit(main_redact(sys.argv[1:]))\n"
)
# Runs in .venv-bench-deface: deface's detector on every frame, as deface itself reads them.
DUMP_PEER_BOXES = """
import json, sys
import imageio
from deface.centerface import CenterFace
finder = CenterFace(in_shape=None, backend="auto")
frames = []
for image in imageio.get_reader(sys.argv[1]).iter_data():
    found, _ = finder(image, threshold=float(sys.argv[3]))
    frames.append([[float(v) for v in row[:4]] for row in found])
with open(sys.argv[2], "w") as out:
    json.dump(frames, out)
"""


# Runs in .venv-bench-deface: how many faces deface's detector finds on each photo given.
COUNT_PHOTO_FACES = """
import json, sys
import imageio
from deface.centerface import CenterFace
finder = CenterFace(in_shape=None, backend="auto")
counts = []
for path in sys.argv[2:]:
    found, _ = finder(imageio.imread(path)[:, :, :3], threshold=float(sys.argv[1]))
    counts.append(len(found))
print(json.dumps(counts))
"""


def make_720p(source: Path, target: Path) -> None:
    """Re-encode the footage at 1280×720 (H.264) so both tools see the same frames."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream_in = inp.streams.video[0]
        stream_in.thread_type = "AUTO"
        rate = stream_in.average_rate or Fraction(25)
        stream_out = out.add_stream("libx264", rate=rate)
        stream_out.width, stream_out.height, stream_out.pix_fmt = 1280, 720, "yuv420p"
        stream_out.options = {"preset": "veryfast", "crf": "20"}
        for index, frame in enumerate(inp.decode(stream_in)):
            scaled = frame.reformat(width=1280, height=720, format="yuv420p")
            scaled.pts = index
            scaled.time_base = 1 / Fraction(rate)
            out.mux(stream_out.encode(scaled))
        out.mux(stream_out.encode(None))


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def median_seconds(commands: list[list[str]], runs: int) -> list[float]:
    """Median wall time of ``runs`` whole-process runs of each command, taken in turns.

    Taking turns spreads any load from other processes over all the tools alike.
    """
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, spent in zip(commands, times, strict=True):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def peer_boxes(video: Path, out_dir: Path) -> list[list[list[float]]]:
    """The peer's detections (score ≥ 0.5) on every frame of ``video``."""
    dump = out_dir / f"{video.stem}-peer.json"
    subprocess.run(
        [str(BENCH_PYTHON), "-c", DUMP_PEER_BOXES, str(video), str(dump), str(PEER_SCORE)],
        check=True,
        capture_output=True,
    )
    frames: list[list[list[float]]] = json.loads(dump.read_text())
    return frames


def our_boxes(
    video: Path, out_dir: Path, settings: RedactionSettings
) -> dict[int, npt.NDArray[np.float32]]:
    """The boxes Doorstep blurs on each frame of ``video``."""
    seen: dict[int, npt.NDArray[np.float32]] = {}

    def record(index: int, boxes: npt.NDArray[np.float32]) -> None:
        seen[index] = boxes.copy()

    redact_file(video, out_dir / f"{video.stem}-cover.mp4", settings=settings, on_boxes=record)
    return seen


def coverage(
    peer: list[list[list[float]]], ours: dict[int, npt.NDArray[np.float32]], size: tuple[int, int]
) -> tuple[int, int, int]:
    """(peer boxes, of them covered, frames with a bare face)."""
    width, height = size
    total = covered = bare_frames = 0
    for index, boxes in enumerate(peer):
        hidden = np.zeros((height, width), np.uint8)
        for x1, y1, x2, y2 in np.rint(ours.get(index, np.zeros((0, 4)))).astype(int):
            hidden[max(0, y1) : y2, max(0, x1) : x2] = 1
        bare = 0
        for box in boxes:
            x1, y1 = max(0, round(box[0])), max(0, round(box[1]))
            x2, y2 = min(width, round(box[2])), min(height, round(box[3]))
            area = max(1, (x2 - x1) * (y2 - y1))
            total += 1
            if hidden[y1:y2, x1:x2].sum() >= COVERED_SHARE * area:
                covered += 1
            else:
                bare += 1
        bare_frames += int(bare > 0)
    return total, covered, bare_frames


class Finders:
    """Detectors as ``Redactor`` makes them for each input size, made once per size."""

    def __init__(self, settings: RedactionSettings) -> None:
        self.settings = settings
        self.made: dict[int, FaceDetector] = {}

    def find(self, photo: npt.NDArray[np.uint8]) -> Faces:
        """The faces on a BGR photo, as the redactor would find them."""
        size = self.settings.input_size(photo.shape[1], photo.shape[0])
        if size not in self.made:
            self.made[size] = FaceDetector(
                input_size=size,
                threshold=self.settings.threshold,
                second_look=self.settings.second_look,
            )
        return self.made[size].find(photo)


def read_photo(path: Path) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.imread(str(path)), np.uint8)


def labelled_recall(finders: Finders) -> tuple[int, int, int]:
    """(labelled faces, found with IoU ≥ 0.3, boxes matching no label) on the dlib photos."""
    total = found = unlabelled = 0
    for name in ("training.xml", "testing.xml"):
        for image in ET.parse(FACES / name).getroot().iter("image"):
            labels = np.array(
                [
                    [
                        float(box.get("left", 0)),
                        float(box.get("top", 0)),
                        float(box.get("left", 0)) + float(box.get("width", 0)),
                        float(box.get("top", 0)) + float(box.get("height", 0)),
                    ]
                    for box in image.iter("box")
                ],
                np.float32,
            )
            faces = finders.find(read_photo(FACES / image.get("file", "")))
            total += len(labels)
            if len(faces):
                overlaps = iou_matrix(labels, faces.boxes)
                found += int((overlaps.max(axis=1) >= 0.3).sum())
                unlabelled += int((overlaps.max(axis=0) < 0.3).sum())
    return total, found, unlabelled


def left_in_video(video: Path, out_dir: Path) -> tuple[int, int]:
    """(faces the peer's detector finds on ``video``, frames with any)."""
    frames = peer_boxes(video, out_dir)
    return sum(len(boxes) for boxes in frames), sum(1 for boxes in frames if boxes)


def photo_faces(paths: list[Path]) -> list[int]:
    """Faces the peer's detector (score ≥ 0.5) finds on each photo."""
    done = subprocess.run(
        [str(BENCH_PYTHON), "-c", COUNT_PHOTO_FACES, str(PEER_SCORE), *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
    )
    counts: list[int] = json.loads(done.stdout.strip().splitlines()[-1])
    return counts


def left_in_photos(settings: RedactionSettings, out_dir: Path) -> tuple[int, int, int, int]:
    """(photos, faces on them, faces left after ours, after deface) on the dlib photos."""
    photos = sorted(path for path in FACES.glob("*.jpg") if path.name != NO_FACE)
    ours, peers = [], []
    for path in photos:
        image = read_photo(path)
        redactor = Redactor(image.shape[1], image.shape[0], settings)
        # Lossless, so the count is the redaction's, not a codec's.
        ours.append(out_dir / f"{path.stem}-ours.png")
        cv2.imwrite(str(ours[-1]), redactor.process(image))
        peers.append(out_dir / f"{path.stem}-peer.jpg")
        subprocess.run(
            [str(DEFACE), str(path), "-o", str(peers[-1])], check=True, capture_output=True
        )
    before = sum(photo_faces(photos))
    return len(photos), before, sum(photo_faces(ours)), sum(photo_faces(peers))


def false_faces(finders: Finders) -> int:
    """Boxes found on the photo that shows no human face."""
    return len(finders.find(read_photo(FACES / NO_FACE)))


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="whole-process runs per tool")
    parser.add_argument("--skip-peer-speed", action="store_true", help="only coverage for deface")
    args = parser.parse_args()
    if not FOOTAGE.exists() or not DEFACE.exists():
        sys.stderr.write(
            "needs ../shared/data and deface in .venv-bench-deface (bench/setup_peers.sh)\n"
        )
        return 1
    settings = DEFAULT_SETTINGS
    rows = []
    left: list[tuple[str, str, int, tuple[int, int], tuple[int, int]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        copy = work / "crowd-faces-720p.mp4"
        make_720p(FOOTAGE, copy)
        for video, size in ((copy, (1280, 720)), (FOOTAGE, (1920, 1080))):
            frames = frame_count(video)
            ours_command = [str(PYTHON), "-c", CALL_MAIN_REDACT, str(video), str(work / "o.mp4")]
            # deface as it runs by default: detector at full resolution, its own threshold.
            peer_command = [str(DEFACE), str(video), "-o", str(work / "peer.mp4")]
            if args.skip_peer_speed:
                ours, peer = median_seconds([ours_command], args.runs)[0], float("nan")
                subprocess.run(peer_command, check=True, capture_output=True)
            else:
                ours, peer = median_seconds([ours_command, peer_command], args.runs)
            before = peer_boxes(video, work)
            total, covered, bare_frames = coverage(before, our_boxes(video, work, settings), size)
            rows.append(
                (
                    f"{size[1]}p",
                    frames,
                    frames / ours,
                    frames / peer,
                    peer / ours,
                    f"{covered}/{total}",
                    bare_frames,
                )
            )
            left.append(
                (
                    f"crowd {size[1]}p",
                    f"{frames} frames",
                    sum(len(boxes) for boxes in before),
                    left_in_video(work / "o.mp4", work),
                    left_in_video(work / "peer.mp4", work),
                )
            )
        photos, on_photos, ours_left, peer_left = left_in_photos(settings, work)
        left.append(("dlib photos", f"{photos} photos", on_photos, (ours_left, 0), (peer_left, 0)))
    finders = Finders(settings)
    labelled, found, unlabelled = labelled_recall(finders)
    false = false_faces(finders)
    header = ("video", "frames", "ours fps", "deface fps", "speed-up", "covered", "bare frames")
    print("  ".join(f"{h:>12}" for h in header))
    for name, frames, our_fps, peer_fps, speedup, share, bare in rows:
        print(
            f"{name:>12}  {frames:>12}  {our_fps:>12.1f}  {peer_fps:>12.1f}  "
            f"{speedup:>11.1f}×  {share:>12}  {bare:>12}"
        )
    print(
        f"labelled faces (dlib examples): {found}/{labelled} found (threshold {settings.threshold},"
        f" second look from {settings.second_look}); {unlabelled} boxes match no label"
    )
    print(f"false faces: {false} box(es) on {NO_FACE} (no human face)")
    print(
        f"\nfaces deface's detector still finds (score ≥ {PEER_SCORE}, full resolution)"
        " in the output:"
    )
    titles = ("footage", "of", "before", "after ours", "after deface")
    print(f"{titles[0]:>12}  {titles[1]:>11}  {titles[2]:>8}  {titles[3]:>18}  {titles[4]:>18}")
    for name, of, on, (ours_n, ours_frames), (peer_n, peer_frames) in left:
        mine = f"{ours_n} ({ours_frames} fr)" if of.endswith("frames") else str(ours_n)
        theirs = f"{peer_n} ({peer_frames} fr)" if of.endswith("frames") else str(peer_n)
        print(f"{name:>12}  {of:>11}  {on:>8}  {mine:>18}  {theirs:>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
