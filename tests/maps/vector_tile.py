"""An independent MVT reader for the tests: the protobuf runtime on vector_tile.proto (v2.1)."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _message(file: Any, name: str, fields: list[tuple[str, int, int, int, str]]) -> None:
    message = file.message_type.add(name=name)
    for field_name, number, kind, label, type_name in fields:
        added = message.field.add(name=field_name, number=number, type=kind, label=label)
        if type_name:
            added.type_name = type_name
        if label == _F.LABEL_REPEATED and kind in (_F.TYPE_UINT32,):
            added.options.packed = True


def _tile_class() -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name="doorstep_test_vector_tile.proto", package="vt", syntax="proto2"
    )
    optional, repeated = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
    _message(
        file,
        "Value",
        [
            ("string_value", 1, _F.TYPE_STRING, optional, ""),
            ("float_value", 2, _F.TYPE_FLOAT, optional, ""),
            ("double_value", 3, _F.TYPE_DOUBLE, optional, ""),
            ("int_value", 4, _F.TYPE_INT64, optional, ""),
            ("uint_value", 5, _F.TYPE_UINT64, optional, ""),
            ("sint_value", 6, _F.TYPE_SINT64, optional, ""),
            ("bool_value", 7, _F.TYPE_BOOL, optional, ""),
        ],
    )
    _message(
        file,
        "Feature",
        [
            ("id", 1, _F.TYPE_UINT64, optional, ""),
            ("tags", 2, _F.TYPE_UINT32, repeated, ""),
            ("type", 3, _F.TYPE_UINT32, optional, ""),
            ("geometry", 4, _F.TYPE_UINT32, repeated, ""),
        ],
    )
    _message(
        file,
        "Layer",
        [
            ("version", 15, _F.TYPE_UINT32, optional, ""),
            ("name", 1, _F.TYPE_STRING, optional, ""),
            ("features", 2, _F.TYPE_MESSAGE, repeated, ".vt.Feature"),
            ("keys", 3, _F.TYPE_STRING, repeated, ""),
            ("values", 4, _F.TYPE_MESSAGE, repeated, ".vt.Value"),
            ("extent", 5, _F.TYPE_UINT32, optional, ""),
        ],
    )
    _message(file, "Tile", [("layers", 3, _F.TYPE_MESSAGE, repeated, ".vt.Layer")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("vt.Tile"))


Tile = _tile_class()


def _value(value: Any) -> Any:
    for name in ("string_value", "double_value", "float_value", "sint_value", "int_value"):
        if value.HasField(name):
            return getattr(value, name)
    for name in ("uint_value", "bool_value"):
        if value.HasField(name):
            return getattr(value, name)
    return None


def _unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def _rings(geometry: list[int]) -> list[list[tuple[int, int]]]:
    """The parts of a geometry: MoveTo starts one, LineTo extends it, ClosePath ends a ring."""
    parts: list[list[tuple[int, int]]] = []
    x = y = index = 0
    while index < len(geometry):
        command, count = geometry[index] & 7, geometry[index] >> 3
        index += 1
        if command == 7:
            continue
        for _ in range(count):
            x += _unzigzag(geometry[index])
            y += _unzigzag(geometry[index + 1])
            index += 2
            if command == 1:
                parts.append([])
            parts[-1].append((x, y))
    return parts


def decode(data: bytes) -> dict[str, list[dict[str, Any]]]:
    """Every layer's features: their type, properties and parts in tile coordinates."""
    tile = Tile()
    tile.ParseFromString(data)
    layers: dict[str, list[dict[str, Any]]] = {}
    for layer in tile.layers:
        assert layer.version == 2
        assert layer.extent == 4096
        features = []
        for feature in layer.features:
            tags = list(feature.tags)
            properties = {
                layer.keys[tags[i]]: _value(layer.values[tags[i + 1]])
                for i in range(0, len(tags), 2)
            }
            features.append(
                {
                    "type": feature.type,
                    "properties": properties,
                    "parts": _rings(list(feature.geometry)),
                }
            )
        layers[layer.name] = features
    return layers
