"""Pure maps rules: queries, the PMTiles header, tiles and their vector encoding."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from pmtiles import reader as pmtiles_reader

from doorstep.demo import streets
from doorstep.demo.run import CENTRE
from doorstep.errors import InvalidInput
from doorstep.maps.rules import (
    NotAnArchive,
    clean_query,
    matches,
    parse_header,
    tiles_over,
    words,
)
from doorstep.maps.rules_mvt import Feature, GeomType, encode_tile
from tests.maps.vector_tile import decode


def test_a_query_is_tidied_and_bounded() -> None:
    assert clean_query("  1234\tSE  Alder St ") == "1234 SE Alder St"
    assert clean_query("é" * 200) == "é" * 200
    for bad in ("", "  \n ", "x" * 201, "12\x00 Alder", "a\u202eb"):
        with pytest.raises(InvalidInput):
            clean_query(bad)


def test_every_word_of_a_query_starts_a_word_of_the_label() -> None:
    label = words("1234 SE Alder St")
    assert matches(words("12 ald"), label)
    assert matches(words("alder, 1234"), label)
    assert not matches(words("1234 birch"), label)
    assert not matches(words("lder"), label)


def test_tiles_over_a_box_cover_its_corners() -> None:
    # One z15 tile is 360/32768 degrees wide: a box across a tile edge touches two columns.
    edge = -180 + 360 * 5000 / 32768
    assert sorted({x for x, _ in tiles_over((edge - 0.001, 45.5, edge + 0.001, 45.5001), 15)}) == [
        4999,
        5000,
    ]
    assert list(tiles_over((-180, -85, 180, 85), 0)) == [(0, 0)]


def test_polygons_turn_as_the_specification_says_and_empty_shapes_are_left_out() -> None:
    counter_clockwise = [(0, 0), (0, 10), (10, 10), (10, 0)]
    hole = [(2, 2), (4, 2), (4, 4), (2, 4)]
    data = encode_tile(
        {
            "landuse": [
                Feature(GeomType.POLYGON, [counter_clockwise, hole], {"kind": "park"}),
                Feature(GeomType.POLYGON, [[(1, 1), (1, 1), (1, 1)]], {"kind": "dot"}),
            ],
            "roads": [Feature(GeomType.LINE, [[(5, 5), (5, 5)]], {"kind": "path"})],
        }
    )
    layers = decode(data)
    assert list(layers) == ["landuse"]
    [park] = layers["landuse"]
    outer, inner = park["parts"]

    def area(ring: list[tuple[int, int]]) -> int:
        return sum(
            x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
        )

    assert area(outer) > 0 > area(inner)
    assert park["properties"] == {"kind": "park"}


def _reference_reader(data: bytes) -> Any:
    # The pmtiles package's reader has no annotations; it is called as Any.
    source = getattr(pmtiles_reader, "MemorySource")(data)  # noqa: B009
    return getattr(pmtiles_reader, "Reader")(source)  # noqa: B009


def test_the_demo_archive_reads_back_with_the_reference_reader(demo_archive: bytes) -> None:
    header = parse_header(demo_archive[:127], len(demo_archive))
    assert (header.min_zoom, header.max_zoom, header.tile_type) == (12, 15, "mvt")
    reader = _reference_reader(demo_archive)
    assert reader.metadata()["attribution"].endswith("invented for the Doorstep demo")
    [(x, y)] = tiles_over((CENTRE.lon, CENTRE.lat, CENTRE.lon, CENTRE.lat), 15)
    layers = decode(gzip.decompress(reader.get(15, x, y)))
    assert {"earth", "roads", "buildings"} <= set(layers)
    names = {f["properties"].get("name") for f in layers["roads"]}
    assert {"SE Juniper St", "SE 14th Ave"} <= names
    kinds = {f["properties"]["kind"] for f in layers["roads"]}
    assert kinds <= {"major_road", "minor_road", "path"}
    assert reader.get(15, x + 50, y) is None


@pytest.mark.parametrize("cut", [0, 7, 126, 127, 500])
def test_a_truncated_archive_is_no_archive(demo_archive: bytes, cut: int) -> None:
    with pytest.raises(NotAnArchive):
        parse_header(demo_archive[:cut], cut)


def test_a_home_of_the_demo_has_an_address_on_its_own_street() -> None:
    owner = streets.address_of(CENTRE, CENTRE.__class__(45.5236, -122.6771))
    assert owner.endswith(("SE Juniper St", "SE Hazel St"))
    labels = [lot.label for lot in streets.lots(CENTRE)]
    assert len(labels) == len(set(labels))
    assert "1234 SE Alder St" in labels
