"""Find people, vehicles, bicycles and animals on frames with MobileNet-SSD on onnxruntime.

Labels only: nothing here identifies anyone (I9). One ``detect`` runs the whole frame and, in the
same batch, closer looks: square crops around motion regions (as Frigate does), enlarged when the
region is small so distant people reach the size the model was trained on, or, with no regions on
a large frame, square tiles across it. Boxes from every look are merged per label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from doorstep.errors import InvalidInput
from doorstep.media import _ssd
from doorstep.platform.http import metrics

LABELS = ("person", "vehicle", "bicycle", "animal")
_LABEL_OF_CLASS = {
    "person": "person",
    "car": "vehicle",
    "bus": "vehicle",
    "motorbike": "vehicle",
    "bicycle": "bicycle",
    **dict.fromkeys(("dog", "cat", "bird", "horse", "sheep", "cow"), "animal"),
}
# A crop shows its region at most this share of its side across, so the model sees around it...
_CONTEXT = 2.5
# ...and is at least this many pixels across (below, it is enlarged more than twice: blurry).
_SMALLEST_CROP = 150
# A crop nearly as large as the frame's short side adds nothing the whole-frame look lacks.
_USEFUL_CROP = 0.7
# Each crop costs one more inference; the two largest small regions are worth it at 2 Hz.
_MOST_CROPS = 2
# A frame whose short side is this many model inputs or more gets tiles when given no regions.
_LARGE = 2.0
_SAME_OBJECT_IOU = 0.45
# A box mostly inside a better box of the same label is the same object seen by another look.
_INSIDE = 0.8
# A crop's box this close (pixels of the crop) to an edge that cuts the frame is cut in two.
_EDGE = 2.0

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Detection:
    """One object on a frame: its label, the model's score, and its box in the frame's pixels."""

    label: str
    score: float
    box: Box
    """x1, y1, x2, y2 in pixels of the frame given to ``detect``."""


@dataclass(frozen=True, slots=True)
class _View:
    left: int
    top: int
    side_w: int
    side_h: int


class ObjectDetector:
    """MobileNet-SSD (Pascal VOC) run by onnxruntime with ``threads`` intra-op threads.

    Raises ``ConfigurationError`` with the one-line fix when the model is missing or not the
    pinned one. ``folder``: where the Caffe files are (default: the installed ``cam2text``).
    """

    def __init__(
        self, threads: int = 1, min_score: float = 0.5, *, folder: Path | None = None
    ) -> None:
        self.min_score = min_score
        self._model = _ssd.load(threads, folder)
        self._classes = [
            index for index, name in enumerate(_ssd.VOC_CLASSES) if name in _LABEL_OF_CLASS
        ]
        self.inferences = 0
        """How many images the model has looked at (whole frames, crops and tiles)."""

    def detect(
        self,
        bgr: npt.NDArray[np.uint8],
        regions: Sequence[Sequence[float]] | None = None,
    ) -> list[Detection]:
        """Objects on a BGR frame, best first; ``regions``: motion boxes (x1, y1, x2, y2) in px."""
        with metrics.timed(metrics.DETECTION_SECONDS):
            return self._detect(bgr, regions)

    def _detect(
        self, bgr: npt.NDArray[np.uint8], regions: Sequence[Sequence[float]] | None
    ) -> list[Detection]:
        if not isinstance(bgr, np.ndarray) or bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.size == 0:
            shape = getattr(bgr, "shape", None)
            raise InvalidInput(f"a frame must be a BGR image (height × width × 3), not {shape}")
        if bgr.dtype != np.uint8:
            raise InvalidInput(f"a frame must have 8-bit pixels, not {bgr.dtype}")
        height, width = bgr.shape[:2]
        views = [_View(0, 0, width, height)]
        views += self._closer_looks(width, height, regions)
        input_h, input_w = self._model.size
        batch = np.empty((len(views), 3, input_h, input_w), np.float32)
        for slot, view in enumerate(views):
            part = bgr[view.top : view.top + view.side_h, view.left : view.left + view.side_w]
            shrink = part.shape[1] > input_w
            resized = cv2.resize(
                part,
                (input_w, input_h),
                interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
            )
            np.subtract(resized.transpose(2, 0, 1), _ssd.MEAN, out=batch[slot])
        batch *= _ssd.SCALE
        loc, conf = self._model.run(batch)
        self.inferences += len(views)
        found: list[tuple[str, float, npt.NDArray[np.float32]]] = []
        for slot, view in enumerate(views):
            scale = np.array([view.side_w, view.side_h] * 2, np.float32)
            origin = np.array([view.left, view.top] * 2, np.float32)
            for cls, score, box in _ssd.detections(
                self._model, loc[slot], conf[slot], self._classes, self.min_score
            ):
                pixels = box * scale
                if slot and _cut(pixels, view, width, height):
                    continue
                pixels += origin
                np.clip(pixels[0::2], 0, width, out=pixels[0::2])
                np.clip(pixels[1::2], 0, height, out=pixels[1::2])
                if pixels[2] - pixels[0] >= 1 and pixels[3] - pixels[1] >= 1:
                    found.append((_LABEL_OF_CLASS[_ssd.VOC_CLASSES[cls]], score, pixels))
        return _merge(found)

    def _closer_looks(
        self, width: int, height: int, regions: Sequence[Sequence[float]] | None
    ) -> list[_View]:
        short = min(width, height)
        if regions is None:
            input_side = min(self._model.size)
            if short < _LARGE * input_side:
                return []
            # Square tiles as tall as the frame, overlapping, across its width (or down it).
            count = -(-max(width, height) // short)
            if count < 2:
                return []
            starts = np.linspace(0, max(width, height) - short, count).round().astype(int)
            if width >= height:
                return [_View(int(s), 0, short, short) for s in starts]
            return [_View(0, int(s), short, short) for s in starts]
        looks: list[_View] = []
        for region in sorted(regions, key=_area, reverse=True):
            if len(region) != 4:
                raise InvalidInput(f"a region must be (x1, y1, x2, y2), not {tuple(region)}")
            x1, y1, x2, y2 = (float(v) for v in region)
            side = max(_SMALLEST_CROP, _CONTEXT * max(x2 - x1, y2 - y1))
            if side > _USEFUL_CROP * short or x2 <= x1 or y2 <= y1:
                continue
            side_px = round(side)
            left = int(np.clip(round((x1 + x2 - side) / 2), 0, width - side_px))
            top = int(np.clip(round((y1 + y2 - side) / 2), 0, height - side_px))
            view = _View(left, top, side_px, side_px)
            if any(_covers(seen, view) for seen in looks):
                continue
            looks.append(view)
            if len(looks) == _MOST_CROPS:
                break
        return looks


def _area(region: Sequence[float]) -> float:
    if len(region) != 4:
        return 0.0
    return max(0.0, float(region[2]) - float(region[0])) * max(
        0.0, float(region[3]) - float(region[1])
    )


def _covers(outer: _View, inner: _View) -> bool:
    return (
        outer.left <= inner.left
        and outer.top <= inner.top
        and outer.left + outer.side_w >= inner.left + inner.side_w
        and outer.top + outer.side_h >= inner.top + inner.side_h
    )


def _cut(box: npt.NDArray[np.float32], view: _View, width: int, height: int) -> bool:
    """Whether a box found on a crop touches a crop edge that is not the frame's edge."""
    return bool(
        (box[0] <= _EDGE and view.left > 0)
        or (box[1] <= _EDGE and view.top > 0)
        or (box[2] >= view.side_w - _EDGE and view.left + view.side_w < width)
        or (box[3] >= view.side_h - _EDGE and view.top + view.side_h < height)
    )


def _merge(found: list[tuple[str, float, npt.NDArray[np.float32]]]) -> list[Detection]:
    found.sort(key=lambda item: -item[1])
    kept: list[tuple[str, float, npt.NDArray[np.float32]]] = []
    for label, score, box in found:
        if any(other == label and _same(box, seen) for other, _, seen in kept):
            continue
        kept.append((label, score, box))
    return [
        Detection(label, round(score, 4), (float(b[0]), float(b[1]), float(b[2]), float(b[3])))
        for label, score, b in kept
    ]


def _same(box: npt.NDArray[np.float32], better: npt.NDArray[np.float32]) -> bool:
    overlap = float(_ssd.iou(box[None, :], better[None, :])[0, 0])
    if overlap > _SAME_OBJECT_IOU:
        return True
    inter_w = min(box[2], better[2]) - max(box[0], better[0])
    inter_h = min(box[3], better[3]) - max(box[1], better[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return bool(inter_w > 0 and inter_h > 0 and inter_w * inter_h >= _INSIDE * area)
