"""Make the face model's input and output sizes free, by editing its protobuf bytes directly.

The CenterFace file declares a fixed 10×3×32×32 input, which onnxruntime enforces. Doorstep
feeds frames of other sizes, so the graph's input and output dimensions are turned into named
(symbolic) ones. Only the protobuf wire format is touched; no ONNX package is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

# ONNX field numbers along the path ModelProto.graph.{input,output}[].type.tensor_type.shape.dim[].
_MODEL_GRAPH = 7
_GRAPH_INITIALIZER, _TENSOR_NAME = 5, 8
_GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_VALUE_INFO = 11, 12, 13
_VALUE_NAME, _VALUE_TYPE = 1, 2
_TYPE_TENSOR = 1
_TENSOR_SHAPE = 2
_SHAPE_DIM = 1
_DIM_PARAM = 2

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

Field = tuple[int, int, bytes]
"""(field number, wire type, raw payload: varint bytes, fixed bytes or the delimited body)."""


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _fields(data: bytes) -> Iterator[Field]:
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            _, end = _read_varint(data, pos)
        elif wire == _I64:
            end = pos + 8
        elif wire == _I32:
            end = pos + 4
        elif wire == _LEN:
            size, pos = _read_varint(data, pos)
            end = pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, data[pos:end]
        pos = end


def _encode(fields: list[Field]) -> bytes:
    out = bytearray()
    for number, wire, payload in fields:
        out += _varint(number << 3 | wire)
        if wire == _LEN:
            out += _varint(len(payload))
        out += payload
    return bytes(out)


def _edit(data: bytes, number: int, change: Callable[[bytes], bytes]) -> bytes:
    return _encode(
        [(n, w, change(p) if n == number and w == _LEN else p) for n, w, p in _fields(data)]
    )


def _free_dims(value_info: bytes, prefix: str) -> bytes:
    counter = iter(range(1_000))

    def dim(_: bytes) -> bytes:
        name = f"{prefix}{next(counter)}".encode()
        return _encode([(_DIM_PARAM, _LEN, name)])

    def shape(payload: bytes) -> bytes:
        return _edit(payload, _SHAPE_DIM, dim)

    def tensor(payload: bytes) -> bytes:
        return _edit(payload, _TENSOR_SHAPE, shape)

    def type_(payload: bytes) -> bytes:
        return _edit(payload, _TYPE_TENSOR, tensor)

    return _edit(value_info, _VALUE_TYPE, type_)


def _name_at(message: bytes, field: int) -> str:
    for number, wire, payload in _fields(message):
        if number == field and wire == _LEN:
            return payload.decode()
    return ""


def _name(value_info: bytes) -> str:
    return _name_at(value_info, _VALUE_NAME)


def free_input_and_output_sizes(model: bytes, input_name: str) -> bytes:
    """Return ``model`` with the sizes of ``input_name`` and the outputs free, weights constant."""

    def graph(payload: bytes) -> bytes:
        fields = list(_fields(payload))
        weights = {
            _name_at(body, _TENSOR_NAME)
            for number, _, body in fields
            if number == _GRAPH_INITIALIZER
        }
        kept: list[Field] = []
        for number, wire, body in fields:
            if number == _GRAPH_INPUT and _name(body) in weights:
                # Weights listed as inputs could be overridden at run time, so onnxruntime
                # would not fold them into the convolutions; they are constants here.
                continue
            if number == _GRAPH_INPUT and _name(body) == input_name:
                body = _free_dims(body, "in")
            elif number == _GRAPH_OUTPUT:
                body = _free_dims(body, f"out_{_name(body)}_")
            elif number == _GRAPH_VALUE_INFO:
                # Intermediate shape hints were recorded for the 32×32 export; drop them.
                continue
            kept.append((number, wire, body))
        return _encode(kept)

    return _edit(model, _MODEL_GRAPH, graph)
