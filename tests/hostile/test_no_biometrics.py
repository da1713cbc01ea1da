"""No biometrics (I9): faces are found only to be hidden, and nothing can recognise or match one."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi import FastAPI

import doorstep

SOURCE = Path(doorstep.__file__).parent
#: Libraries whose purpose is telling faces (or people) apart, by name or by embedding.
RECOGNISERS = {
    "face_recognition",
    "dlib",
    "deepface",
    "insightface",
    "facenet_pytorch",
    "arcface",
    "compreface",
    "torchreid",
    "sklearn",
}
#: The one module that runs a face model, and the modules allowed to ask it for faces.
FACE_MODEL_MODULE = "doorstep.media._faces"
FACE_USERS = {"doorstep.media.redact", "doorstep.media._tracks"}
#: The one other module that runs a model: the object detector, whose only outputs are a class
#: label (person, vehicle, bicycle, animal), a score and a box; it never looks at faces.
OBJECT_MODEL_MODULE = "doorstep.media._ssd"
#: API fields that may name faces: whether they were hidden, never what they were.
HIDING_FIELDS = {"faces_blurred"}


def _modules() -> dict[str, ast.Module]:
    trees = {}
    for path in SOURCE.rglob("*.py"):
        name = ".".join(("doorstep", *path.relative_to(SOURCE).with_suffix("").parts))
        trees[name.removesuffix(".__init__")] = ast.parse(path.read_text(encoding="utf-8"))
    return trees


def _imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_module_imports_a_recognition_library() -> None:
    offenders = {
        module: sorted(name for name in _imports(tree) if name.split(".")[0] in RECOGNISERS)
        for module, tree in _modules().items()
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_only_the_face_and_object_detectors_run_a_model_and_only_redaction_asks_for_faces() -> None:
    modules = _modules()
    sessions = {
        module
        for module, tree in modules.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "InferenceSession"
    }
    assert sessions == {FACE_MODEL_MODULE, OBJECT_MODEL_MODULE}
    askers = {
        module
        for module, tree in modules.items()
        if FACE_MODEL_MODULE in _imports(tree) and module != FACE_MODEL_MODULE
    }
    assert askers <= FACE_USERS, askers - FACE_USERS


def test_no_api_route_or_schema_speaks_of_faces_beyond_hiding_them(app: FastAPI) -> None:
    spec = app.openapi()
    words = ("face", "biometric", "embedding", "identity_match", "recogn")
    paths = [path for path in spec["paths"] if any(w in path.lower() for w in words)]
    fields = [
        f"{schema}.{field}"
        for schema, body in spec.get("components", {}).get("schemas", {}).items()
        for field in body.get("properties", {})
        if any(w in field.lower() for w in words) and field not in HIDING_FIELDS
    ]
    assert paths == []
    assert fields == []
