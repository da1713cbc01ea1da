"""Write the folded MobileNet-SSD as an ONNX model, in protobuf wire bytes, in memory.

The graph is the network's body (Conv, Relu) and its heads (Transpose, Flatten, Concat, Reshape,
Softmax); the prior boxes and the detection output are computed by the caller in numpy, from
the ``PriorBox`` and ``DetectionOutput`` parameters this returns with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from doorstep.media._onnx_shapes import Field, _encode, _varint
from doorstep.media._ssd_caffe import Conv, Net, Params, numbers, sub, text

_VARINT, _LEN = 0, 2
_IR_VERSION, _OPSET = 8, 13
_FLOAT, _INT64 = 1, 7
_ATTR_INT, _ATTR_INTS = 2, 7
INPUT = "data"


@dataclass
class Graph:
    """The ONNX bytes and what the numpy side needs to finish the detection."""

    model: bytes
    size: tuple[int, int]
    outputs: tuple[str, str] = ("", "")
    """The (box offsets, class scores) outputs, as the DetectionOutput layer takes them."""
    priors: list[tuple[tuple[int, int], Params]] = field(default_factory=list)
    """Each PriorBox layer's feature map (height, width) and parameters, in concat order."""
    detection: Params = field(default_factory=dict)


def _int(value: int) -> bytes:
    return _varint(value & 0xFFFFFFFFFFFFFFFF)


def _attr_int(name: str, value: int) -> Field:
    body = [(1, _LEN, name.encode()), (3, _VARINT, _int(value)), (20, _VARINT, _int(_ATTR_INT))]
    return (5, _LEN, _encode(body))


def _attr_ints(name: str, values: list[int]) -> Field:
    packed = b"".join(_int(v) for v in values)
    body = [(1, _LEN, name.encode()), (8, _LEN, packed), (20, _VARINT, _int(_ATTR_INTS))]
    return (5, _LEN, _encode(body))


def _node(op: str, inputs: list[str], outputs: list[str], *attrs: Field) -> Field:
    body: list[Field] = [(1, _LEN, name.encode()) for name in inputs]
    body += [(2, _LEN, name.encode()) for name in outputs]
    body += [(3, _LEN, outputs[0].encode()), (4, _LEN, op.encode()), *attrs]
    return (1, _LEN, _encode(body))


def _tensor(name: str, array: npt.NDArray[np.float32] | npt.NDArray[np.int64]) -> Field:
    kind = _INT64 if array.dtype == np.int64 else _FLOAT
    dims = b"".join(_int(int(d)) for d in array.shape)
    data = np.ascontiguousarray(array, "<i8" if kind == _INT64 else "<f4").tobytes()
    body = [(1, _LEN, dims), (2, _VARINT, _int(kind)), (8, _LEN, name.encode()), (9, _LEN, data)]
    return (5, _LEN, _encode(body))


def _value(number: int, name: str, dims: list[int | str]) -> Field:
    shape = _encode(
        [
            (
                1,
                _LEN,
                _encode([(1, _VARINT, _int(d)) if isinstance(d, int) else (2, _LEN, d.encode())]),
            )
            for d in dims
        ]
    )
    tensor = _encode([(1, _VARINT, _int(_FLOAT)), (2, _LEN, shape)])
    body = [(1, _LEN, name.encode()), (2, _LEN, _encode([(1, _LEN, tensor)]))]
    return (number, _LEN, _encode(body))


def build(net: Net) -> Graph:
    """Turn the folded layers into an ONNX model with a free batch size."""
    height, width = net.size
    shapes: dict[str, tuple[int, int]] = {INPUT: (height, width)}
    nodes: list[Field] = []
    weights: list[Field] = []
    graph = Graph(model=b"", size=net.size)
    prior_tops: set[str] = set()
    for layer in net.layers:
        if isinstance(layer, Conv):
            _add_conv(layer, shapes, nodes, weights)
            continue
        kind, params = layer
        bottoms = [b for b in params.get("bottom", []) if isinstance(b, str)]
        top = text(params, "top")
        if kind == "PriorBox":
            graph.priors.append((shapes[bottoms[0]], sub(params, "prior_box_param")))
            prior_tops.add(top)
        elif kind == "Permute":
            order = [int(v) for v in numbers(sub(params, "permute_param"), "order")]
            nodes.append(_node("Transpose", bottoms, [top], _attr_ints("perm", order)))
        elif kind == "Flatten":
            axis = int((numbers(sub(params, "flatten_param"), "axis") or [1.0])[0])
            nodes.append(_node("Flatten", bottoms, [top], _attr_int("axis", axis)))
        elif kind == "Concat":
            if prior_tops.intersection(bottoms):
                prior_tops.add(top)
                continue
            axis = int((numbers(sub(params, "concat_param"), "axis") or [1.0])[0])
            nodes.append(_node("Concat", bottoms, [top], _attr_int("axis", axis)))
        elif kind == "Reshape":
            dims = [int(d) for d in numbers(sub(sub(params, "reshape_param"), "shape"), "dim")]
            weights.append(_tensor(f"{top}/shape", np.array(dims, np.int64)))
            nodes.append(_node("Reshape", [bottoms[0], f"{top}/shape"], [top]))
        elif kind == "Softmax":
            axis = int((numbers(sub(params, "softmax_param"), "axis") or [1.0])[0])
            nodes.append(_node("Softmax", bottoms, [top], _attr_int("axis", axis)))
        elif kind == "DetectionOutput":
            graph.outputs = (bottoms[0], bottoms[1])
            graph.detection = sub(params, "detection_output_param")
        else:
            raise ValueError(f"the detector cannot run a {kind!r} layer")
    if not graph.detection or not graph.priors:
        raise ValueError("the prototxt has no DetectionOutput or no PriorBox layer")
    body: list[Field] = [*nodes, (2, _LEN, b"ssd")]
    body += weights
    body.append(_value(11, INPUT, ["batch", 3, height, width]))
    body += [_value(12, name, ["batch", "values"]) for name in graph.outputs]
    opset = _encode([(1, _LEN, b""), (2, _VARINT, _int(_OPSET))])
    graph.model = _encode(
        [
            (1, _VARINT, _int(_IR_VERSION)),
            (2, _LEN, b"doorstep"),
            (7, _LEN, _encode(body)),
            (8, _LEN, opset),
        ]
    )
    return graph


def _add_conv(
    conv: Conv, shapes: dict[str, tuple[int, int]], nodes: list[Field], weights: list[Field]
) -> None:
    height, width = shapes[conv.bottom]
    kernel = conv.weight.shape[2]
    shapes[conv.top] = (
        (height + 2 * conv.pad - kernel) // conv.stride + 1,
        (width + 2 * conv.pad - kernel) // conv.stride + 1,
    )
    weights.append(_tensor(f"{conv.name}/W", conv.weight))
    weights.append(_tensor(f"{conv.name}/B", conv.bias))
    out = f"{conv.top}/conv" if conv.relu else conv.top
    nodes.append(
        _node(
            "Conv",
            [conv.bottom, f"{conv.name}/W", f"{conv.name}/B"],
            [out],
            _attr_ints("kernel_shape", list(conv.weight.shape[2:])),
            _attr_ints("pads", [conv.pad] * 4),
            _attr_ints("strides", [conv.stride] * 2),
            _attr_int("group", conv.group),
        )
    )
    if conv.relu:
        nodes.append(_node("Relu", [out], [conv.top]))
