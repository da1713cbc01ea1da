"""The house keeps its shape: a package per feature with the same files, small modules, thin routes.

import-linter (`lint-imports`, run by scripts/test.sh) checks who may import whom; these check what
it cannot: module sizes, the files every room has, and that no route module holds a query.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "doorstep"
FEATURES = (
    "accounts",
    "agencies",
    "cameras",
    "clips",
    "invitations",
    "legal",
    "neighbors",
    "partnerships",
    "requests",
    "transparency",
)
#: The files every room has, so that a reader who knows one room knows them all.
ROOM_FILES = ("rules.py", "models.py", "store.py", "service.py", "schemas.py", "api.py")
MAX_LINES = 400
ROUTE_MODULE = re.compile(r"^(api|pages|jobs|\w+_api|pages_\w+|_pages)\.py$")


def _modules() -> list[Path]:
    return [path for path in SRC.rglob("*.py") if "migrations" not in path.parts]


def test_no_module_is_over_400_lines() -> None:
    sizes = {str(path.relative_to(SRC)): len(path.read_text().splitlines()) for path in _modules()}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}


@pytest.mark.parametrize("feature", FEATURES)
def test_every_room_has_the_same_files(feature: str) -> None:
    room = SRC / feature
    assert [name for name in ROOM_FILES if not (room / name).is_file()] == []


def test_every_room_is_a_package_of_the_house() -> None:
    rooms = {path.parent.name for path in SRC.glob("*/service.py")}
    assert rooms == set(FEATURES)


def test_no_route_module_holds_a_query() -> None:
    routes = [
        path
        for feature in FEATURES
        for path in (SRC / feature).glob("*.py")
        if ROUTE_MODULE.match(path.name)
    ]
    assert len(routes) >= len(FEATURES)
    holding = [
        str(path.relative_to(SRC))
        for path in routes
        if re.search(r"\bsqlalchemy\b|\bselect\(", path.read_text())
    ]
    assert holding == []
