"""The house keeps its shape: a package per feature with the same files, small modules, thin routes.

import-linter (`lint-imports`, run by scripts/test.sh) checks who may import whom; these check what
it cannot: module sizes, the files every room has, and that no route module holds a query.
"""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "doorstep"
FEATURES = (
    "accounts",
    "agencies",
    "bystanders",
    "cameras",
    "clips",
    "doorbell",
    "invitations",
    "legal",
    "maps",
    "neighbors",
    "notify",
    "partnerships",
    "pets",
    "requests",
    "transparency",
)
#: The files every room has, so that a reader who knows one room knows them all.
ROOM_FILES = ("rules.py", "models.py", "store.py", "service.py", "schemas.py", "api.py")
MAX_LINES = 400
ROUTE_MODULE = re.compile(r"^(api|pages|jobs|jobs_\w+|\w+_api|pages_\w+|_pages)\.py$")
#: Every module of a room is of one kind, by its name; a kind may import only kinds ranked at or
#: below it in its own room. import-linter's layers contract names only the base modules
#: (``service``, ``store`` ...); this holds their siblings (``service_consent``, ``_store_feed``,
#: ``device_api`` ...) to the same order, and a module of no known kind fails the test.
KINDS = (
    ("route", 6, r"api|pages|jobs|jobs_\w+|\w+_api|pages_\w+|_pages|_http"),
    (
        "service",
        5,
        r"service|service_\w+|_views|_public|_present|_feed_map|export|sign_up|throttling",
    ),
    ("client", 5, r"verify|_verify_\w+|evidence|pins|geocode"),
    ("auth", 4, r"auth"),
    ("store", 4, r"store|_store_\w+|\w+_store"),
    ("models", 3, r"models"),
    ("schemas", 2, r"schemas"),
    ("rules", 1, r"rules|rules_\w+|consent|counts|merkle|note|throttle_rules|roles"),
)


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


def _kind(module: str) -> tuple[str, int] | None:
    parts = module.split(".")
    if len(parts) != 3 or parts[1] not in FEATURES:
        return None
    for kind, rank, pattern in KINDS:
        if re.fullmatch(pattern, parts[2]):
            return kind, rank
    return "unknown", 0


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("doorstep", cache_dir=None)


def test_every_room_module_is_of_a_known_kind(graph: grimp.ImportGraph) -> None:
    unknown = sorted(m for m in graph.modules if (_kind(m) or ("", 1))[0] == "unknown")
    assert unknown == []


def test_inside_a_room_imports_go_down_the_kinds_only(graph: grimp.ImportGraph) -> None:
    upward = []
    for module in sorted(graph.modules):
        kind = _kind(module)
        if kind is None:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            other = _kind(imported)
            if other is None:
                continue
            same_room = imported.split(".")[1] == module.split(".")[1]
            if same_room and other[1] > kind[1]:
                upward.append(f"{module} -> {imported}")
    assert upward == []


def test_no_room_imports_another_rooms_routes_and_routes_no_store(
    graph: grimp.ImportGraph,
) -> None:
    crossing = []
    for module in sorted(graph.modules):
        kind = _kind(module)
        if kind is None:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            other = _kind(imported)
            if other is None:
                continue
            same_room = imported.split(".")[1] == module.split(".")[1]
            if (not same_room and other[0] == "route") or (
                kind[0] == "route" and other[0] == "store"
            ):
                crossing.append(f"{module} -> {imported}")
    assert crossing == []
