"""Read the MobileNet-SSD Caffe files: the prototxt (text) and the caffemodel (protobuf wire bytes).

Only what the detector needs: the layer list with its parameters, and each layer's weight blobs.
No Caffe and no protobuf package are involved; BatchNorm and Scale are folded into the
convolution before them, so the graph built from this has only Conv and ReLU in its body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from doorstep.media._onnx_shapes import _fields

Params = dict[str, list["Value"]]
Value = str | float | Params
"""A prototxt value: a quoted string or an enum word (str), a number (float), or a block."""

_TOKEN = re.compile(r'\s*(?:#[^\n]*\n?|("(?:[^"\\]|\\.)*")|([{}:])|([^\s{}:"#]+))')

# Caffe NetParameter.layer, LayerParameter.{name, blobs}, BlobProto.{data, shape}, BlobShape.dim.
_NET_LAYER = 100
_LAYER_NAME, _LAYER_BLOBS = 1, 7
_BLOB_LEGACY = (1, 2, 3, 4)
_BLOB_DATA, _BLOB_SHAPE = 5, 7
_SHAPE_DIM = 1
_BN_EPS = 1e-5


def parse_prototxt(text: str) -> Params:
    """Parse protobuf text format into nested dicts; every key maps to the list of its values."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip():
                raise ValueError(f"cannot read the prototxt at character {pos}")
            break
        pos = match.end()
        token = match.group(1) or match.group(2) or match.group(3)
        if token:
            tokens.append(token)
    block, end = _block(tokens, 0)
    if end != len(tokens):
        raise ValueError("unbalanced braces in the prototxt")
    return block


def _block(tokens: list[str], pos: int) -> tuple[Params, int]:
    block: Params = {}
    while pos < len(tokens) and tokens[pos] != "}":
        key = tokens[pos]
        if pos + 1 >= len(tokens):
            raise ValueError(f"the prototxt ends after {key!r}")
        value: Value
        if tokens[pos + 1] == ":" and pos + 2 < len(tokens) and tokens[pos + 2] != "{":
            value, pos = _scalar(tokens[pos + 2]), pos + 3
        else:
            pos += 2 if tokens[pos + 1] == ":" else 1
            if pos >= len(tokens) or tokens[pos] != "{":
                raise ValueError(f"expected a block after {key!r} in the prototxt")
            value, pos = _block(tokens, pos + 1)
            if pos >= len(tokens):
                raise ValueError("unbalanced braces in the prototxt")
            pos += 1
        block.setdefault(key, []).append(value)
    return block, pos


def _scalar(token: str) -> str | float:
    if token.startswith('"'):
        return token[1:-1]
    try:
        return float(token)
    except ValueError:
        return token


def first(params: Params, key: str, default: float) -> float:
    """The first number under ``key``, or ``default``."""
    values = params.get(key)
    if not values:
        return default
    value = values[0]
    if not isinstance(value, float):
        raise ValueError(f"{key} should be a number, not {value!r}")
    return value


def numbers(params: Params, key: str) -> list[float]:
    """Every number under ``key``."""
    return [v for v in params.get(key, []) if isinstance(v, float)]


def text(params: Params, key: str, default: str = "") -> str:
    """The first string under ``key``, or ``default``."""
    values = params.get(key)
    return values[0] if values and isinstance(values[0], str) else default


def sub(params: Params, key: str) -> Params:
    """The first block under ``key`` (an empty one if there is none)."""
    values = params.get(key)
    return values[0] if values and isinstance(values[0], dict) else {}


def read_blobs(model: bytes) -> dict[str, list[npt.NDArray[np.float32]]]:
    """Each layer's weight blobs from caffemodel bytes, shaped as the model declares them."""
    blobs: dict[str, list[npt.NDArray[np.float32]]] = {}
    for number, _, layer in _fields(model):
        if number != _NET_LAYER:
            continue
        name, found = "", []
        for key, _, payload in _fields(layer):
            if key == _LAYER_NAME:
                name = payload.decode()
            elif key == _LAYER_BLOBS:
                found.append(_blob(payload))
        if found:
            blobs[name] = found
    return blobs


def _blob(payload: bytes) -> npt.NDArray[np.float32]:
    chunks: list[bytes] = []
    shape: list[int] = []
    legacy = [0, 0, 0, 0]
    for key, wire, body in _fields(payload):
        if key == _BLOB_DATA:
            chunks.append(body)  # packed (wire 2) or one float at a time (wire 5): same bytes
        elif key == _BLOB_SHAPE:
            for dim_key, _, dim in _fields(body):
                if dim_key == _SHAPE_DIM:
                    shape.extend(_varints(dim))  # packed or not, the same varints
        elif key in _BLOB_LEGACY and wire == 0:
            legacy[key - 1] = _varints(body)[0]
    data = np.frombuffer(b"".join(chunks), "<f4").astype(np.float32)
    dims = shape or [d for d in legacy if d] or [data.size]
    if int(np.prod(dims)) != data.size:
        raise ValueError(f"a weight blob has {data.size} values for the shape {dims}")
    return data.reshape(dims)


def _varints(data: bytes) -> list[int]:
    values: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            values.append(value)
            value = shift = 0
    return values


@dataclass
class Conv:
    """A convolution with BatchNorm and Scale folded in."""

    name: str
    bottom: str
    top: str
    weight: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    pad: int
    stride: int
    group: int
    relu: bool = False


@dataclass
class Net:
    """The detector's layers in order, read from the Caffe files."""

    size: tuple[int, int]
    """The input's (height, width)."""
    layers: list[Conv | tuple[str, Params]] = field(default_factory=list)
    """In order: convolutions, and every other layer as (type, its whole prototxt block)."""


def read_net(prototxt: str, model: bytes) -> Net:
    """Build the folded layer list from the two Caffe files."""
    spec = parse_prototxt(prototxt)
    blobs = read_blobs(model)
    dims = numbers(sub(spec, "input_shape"), "dim") or numbers(spec, "input_dim")
    if len(dims) != 4:
        raise ValueError("the prototxt gives no 4-dimensional input shape")
    net = Net(size=(int(dims[2]), int(dims[3])))
    producer: dict[str, Conv] = {}
    for layer in spec.get("layer", []):
        if not isinstance(layer, dict):
            raise ValueError("a layer in the prototxt is not a block")
        kind, name = text(layer, "type"), text(layer, "name")
        bottom, top = text(layer, "bottom"), text(layer, "top")
        if kind == "Convolution":
            conv = _conv(name, layer, blobs)
            net.layers.append(conv)
            producer[top] = conv
        elif kind in ("BatchNorm", "Scale", "ReLU"):
            if bottom not in producer:
                raise ValueError(f"{kind} layer {name!r} does not follow a convolution")
            _fold(producer[bottom], kind, blobs.get(name, []), layer)
            producer[top] = producer[bottom]
        else:
            net.layers.append((kind, layer))
    return net


def _conv(name: str, layer: Params, blobs: dict[str, list[npt.NDArray[np.float32]]]) -> Conv:
    params = sub(layer, "convolution_param")
    weights = blobs.get(name)
    if not weights:
        raise ValueError(f"the caffemodel has no weights for {name!r}")
    weight = weights[0].astype(np.float32)
    outputs = int(first(params, "num_output", 0))
    if weight.ndim != 4 or weight.shape[0] != outputs:
        raise ValueError(f"the weights of {name!r} have the shape {weight.shape}")
    has_bias = text(params, "bias_term", "true") != "false" and len(weights) > 1
    bias = weights[1].reshape(-1).astype(np.float32) if has_bias else np.zeros(outputs, np.float32)
    return Conv(
        name=name,
        bottom=text(layer, "bottom"),
        top=text(layer, "top"),
        weight=weight,
        bias=bias,
        pad=int(first(params, "pad", 0)),
        stride=int(first(params, "stride", 1)),
        group=int(first(params, "group", 1)),
    )


def _fold(conv: Conv, kind: str, weights: list[npt.NDArray[np.float32]], layer: Params) -> None:
    if kind == "ReLU":
        conv.relu = True
        return
    if conv.relu:
        raise ValueError(f"{kind} after a ReLU cannot be folded into {conv.name!r}")
    if kind == "BatchNorm":
        if len(weights) < 3:
            raise ValueError(f"BatchNorm after {conv.name!r} has no statistics")
        factor = float(weights[2].reshape(-1)[0])
        factor = 1.0 / factor if factor != 0 else 1.0
        mean, var = weights[0].reshape(-1) * factor, weights[1].reshape(-1) * factor
        eps = first(sub(layer, "batch_norm_param"), "eps", _BN_EPS)
        scale, shift = 1.0 / np.sqrt(var + eps), -mean / np.sqrt(var + eps)
    else:
        if not weights:
            raise ValueError(f"Scale after {conv.name!r} has no weights")
        scale = weights[0].reshape(-1)
        shift = weights[1].reshape(-1) if len(weights) > 1 else np.zeros_like(scale)
    conv.weight = (conv.weight * scale[:, None, None, None]).astype(np.float32)
    conv.bias = (conv.bias * scale + shift).astype(np.float32)
