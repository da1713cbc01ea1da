"""The object detector on real footage and photos, and its model checks."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from doorstep.errors import ConfigurationError, InvalidInput
from doorstep.media import _ssd
from doorstep.media.detect import Detection, ObjectDetector
from doorstep.media.motion import MotionDetector
from doorstep.media.source import open_source
from tests.samples import SHARED_DATA, shared_data

SHARED = SHARED_DATA
PERSON_VIDEO = SHARED / "video" / "one-by-one-person-detection.mp4"
ROAD_VIDEO = SHARED / "video" / "road.avi"
PHOTO = SHARED / "faces" / "2008_001009.jpg"


@pytest.fixture(scope="module")
def detector() -> ObjectDetector:
    try:
        return ObjectDetector(threads=1)
    except ConfigurationError as err:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(err.detail)


def _frames(path: Path, wanted: set[int]) -> Iterator[tuple[int, npt.NDArray[np.uint8]]]:
    with open_source(path) as source:
        for frame in source.frames():
            if frame.index in wanted and frame.image is not None:
                yield frame.index, frame.image
            if frame.index >= max(wanted):
                return


def _overlap(box: tuple[float, ...], other: tuple[float, ...]) -> float:
    w = min(box[2], other[2]) - max(box[0], other[0])
    h = min(box[3], other[3]) - max(box[1], other[1])
    if w <= 0 or h <= 0:
        return 0.0
    area = (box[2] - box[0]) * (box[3] - box[1]) + (other[2] - other[0]) * (other[3] - other[1])
    return w * h / (area - w * h)


def test_a_person_in_a_photo_is_found_where_he_is(detector: ObjectDetector) -> None:
    image = cv2.imread(str(shared_data(PHOTO)))
    found = detector.detect(np.asarray(image, np.uint8))
    people = [d for d in found if d.label == "person"]
    assert len(people) == 1
    # By eye: the one man stands between x 100..300, y 80..410 of the 360 × 480 photo.
    assert _overlap(people[0].box, (100, 80, 300, 410)) > 0.6
    assert people[0].score > 0.9


def test_a_person_in_the_footage_is_found_and_the_empty_room_gives_nothing(
    detector: ObjectDetector,
) -> None:
    frames = dict(_frames(shared_data(PERSON_VIDEO), {50, 100}))
    assert detector.detect(frames[50]) == []
    people = [d for d in detector.detect(frames[100]) if d.label == "person"]
    assert len(people) == 1
    # By eye: on frame 100 he stands at x 380..520, from the top of the frame to y ≈ 380.
    assert _overlap(people[0].box, (380, 20, 520, 380)) > 0.6


def test_a_car_on_the_road_is_found_near_its_motion(detector: ObjectDetector) -> None:
    with open_source(shared_data(ROAD_VIDEO)) as source:
        motion = MotionDetector(source.width, source.height)
        for frame in source.frames():
            motion.score(frame.luma)
            if frame.index == 240:
                assert frame.image is not None
                found = detector.detect(frame.image, motion.regions())
                break
    cars = [d for d in found if d.label == "vehicle"]
    # By eye: a small dark car at x 560..620, y 85..135 on frame 240, coming up the road.
    assert any(_overlap(d.box, (560, 85, 620, 135)) > 0.5 for d in cars)


def test_detections_are_labelled_boxes_inside_the_frame(detector: ObjectDetector) -> None:
    image = np.asarray(cv2.imread(str(shared_data(PHOTO))), np.uint8)
    for found in detector.detect(image, regions=[(100, 100, 200, 200)]):
        assert isinstance(found, Detection)
        assert found.label in ("person", "vehicle", "bicycle", "animal")
        x1, y1, x2, y2 = found.box
        assert 0 <= x1 < x2 <= image.shape[1]
        assert 0 <= y1 < y2 <= image.shape[0]


def test_a_frame_that_is_not_a_colour_image_is_a_clear_error(detector: ObjectDetector) -> None:
    with pytest.raises(InvalidInput, match="BGR image"):
        detector.detect(np.zeros((40, 40), np.uint8))
    with pytest.raises(InvalidInput, match="8-bit"):
        detector.detect(np.zeros((40, 40, 3), np.float32))
    with pytest.raises(InvalidInput, match="region"):
        detector.detect(np.zeros((40, 40, 3), np.uint8), regions=[(1, 2, 3)])


def test_a_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"missing.*pip install cam2text"):
        ObjectDetector(folder=tmp_path)


def test_a_changed_model_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    try:
        source = _ssd.model_dir()
    except ConfigurationError as err:
        pytest.skip(err.detail)
    shutil.copy(source / _ssd.PROTOTXT, tmp_path / _ssd.PROTOTXT)
    model = (source / _ssd.CAFFEMODEL).read_bytes()
    (tmp_path / _ssd.CAFFEMODEL).write_bytes(model[: len(model) // 2])
    with pytest.raises(ConfigurationError, match=r"not the expected one.*--force-reinstall"):
        ObjectDetector(folder=tmp_path)


def test_a_missing_package_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(ConfigurationError, match=r"'cam2text'\) is not installed.*pip install"):
        ObjectDetector()
