"""Reading the Caffe files and the SSD arithmetic, without running the model."""

from __future__ import annotations

import numpy as np
import pytest

from doorstep.media._onnx_shapes import _encode
from doorstep.media._ssd import Model, decode, detections, priors, suppress
from doorstep.media._ssd_caffe import parse_prototxt, read_blobs


def test_the_prototxt_reader_keeps_repeats_blocks_strings_and_comments() -> None:
    text = """
    name: "net"  # a comment
    layer { name: "a" type: "PriorBox" prior_box_param { min_size: 60.0 aspect_ratio: 2.0
      aspect_ratio: 3.0 flip: true } }
    layer { name: "b" }
    """
    parsed = parse_prototxt(text)
    assert parsed["name"] == ["net"]
    assert [layer["name"] for layer in parsed["layer"]] == [["a"], ["b"]]  # type: ignore[index]
    box = parsed["layer"][0]["prior_box_param"][0]  # type: ignore[index]
    assert box == {"min_size": [60.0], "aspect_ratio": [2.0, 3.0], "flip": ["true"]}


def test_a_broken_prototxt_is_an_error() -> None:
    with pytest.raises(ValueError, match="braces"):
        parse_prototxt("layer { name: 'a'")


def test_weight_blobs_are_read_from_protobuf_bytes_in_either_shape_form() -> None:
    values = np.arange(6, dtype="<f4")
    shape = _encode([(1, 2, bytes([2, 3]))])
    blob = _encode([(5, 2, values.tobytes()), (7, 2, shape)])
    # Older files give num, channels, height and width as fields 1..4 instead of a shape.
    legacy_blob = _encode(
        [
            (5, 2, values.tobytes()),
            (1, 0, b"\x01"),
            (2, 0, b"\x02"),
            (3, 0, b"\x01"),
            (4, 0, b"\x03"),
        ]
    )
    layer = _encode([(1, 2, b"conv"), (7, 2, blob), (7, 2, legacy_blob)])
    blobs = read_blobs(_encode([(100, 2, layer)]))
    assert blobs["conv"][0].shape == (2, 3)
    assert blobs["conv"][1].shape == (1, 2, 1, 3)
    assert blobs["conv"][0][1, 2] == 5.0


def test_priors_follow_caffe_ssd_order_and_count() -> None:
    params = {"min_size": [60.0], "aspect_ratio": [2.0], "flip": ["true"], "offset": [0.5]}
    boxes = priors((300, 300), [((2, 2), params)])  # type: ignore[list-item]
    # 4 cells × (1 square + 2 and 1/2 ratios) = 12 priors, the first cell's first.
    assert boxes.shape == (12, 4)
    np.testing.assert_allclose(boxes[0], [0.25, 0.25, 0.2, 0.2], atol=1e-6)
    np.testing.assert_allclose(boxes[1, 2:], [0.2 * np.sqrt(2), 0.2 / np.sqrt(2)], atol=1e-6)
    np.testing.assert_allclose(boxes[3, :2], [0.75, 0.25], atol=1e-6)


def _model(prior_rows: list[list[float]]) -> Model:
    return Model(
        session=None,
        size=(300, 300),
        outputs=("loc", "conf"),
        priors=np.array(prior_rows, np.float32),
        variances=np.array([0.1, 0.1, 0.2, 0.2], np.float32),
        classes=3,
        nms=0.45,
        top_k=100,
        keep_top_k=100,
    )


def test_zero_offsets_decode_to_the_prior_and_overlaps_are_suppressed() -> None:
    model = _model([[0.5, 0.5, 0.2, 0.4], [0.51, 0.5, 0.2, 0.4], [0.1, 0.1, 0.1, 0.1]])
    loc = np.zeros((3, 4), np.float32)
    np.testing.assert_allclose(decode(model, loc)[0], [0.4, 0.3, 0.6, 0.7], atol=1e-6)
    conf = np.array([[0.1, 0.9, 0.0], [0.2, 0.8, 0.0], [0.3, 0.0, 0.7]], np.float32)
    found = detections(model, loc, conf, [1, 2], 0.5)
    assert [(cls, round(score, 2)) for cls, score, _ in found] == [(1, 0.9), (2, 0.7)]


def test_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]], np.float32)
    scores = np.array([0.5, 0.9, 0.8], np.float32)
    assert suppress(boxes, scores, 0.45) == [1, 2]
