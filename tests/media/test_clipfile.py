"""The clip writer keeps colours and frame sizes as they were given, and says when it wrote."""

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from doorstep.media._clipfile import ClipWriter

# Saturated and mid colours (BGR): a swapped channel or a wrong range would move them far.
COLOURS = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (40, 120, 200), (128, 128, 128), (16, 16, 16)]


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def test_colours_come_back_as_written(tmp_path: Path) -> None:
    writer = ClipWriter(tmp_path / "c.mp4", rate=Fraction(10), width=64, height=48)
    for colour in COLOURS:
        writer.write(np.full((48, 64, 3), colour, np.uint8))
    writer.close()
    frames = decoded(tmp_path / "c.mp4")
    assert len(frames) == len(COLOURS)
    for frame, colour in zip(frames, COLOURS, strict=True):
        centre = frame[16:32, 24:40].reshape(-1, 3).mean(axis=0)
        assert np.abs(centre - np.array(colour)).max() <= 6, (colour, centre)


def test_an_odd_sized_frame_loses_only_its_last_row_and_column(tmp_path: Path) -> None:
    writer = ClipWriter(tmp_path / "odd.mp4", rate=Fraction(10), width=65, height=49)
    image = np.zeros((49, 65, 3), np.uint8)
    image[:, :32] = (0, 0, 255)
    writer.write(image)
    writer.close()
    (frame,) = decoded(tmp_path / "odd.mp4")
    assert frame.shape == (48, 64, 3)
    assert frame[24, 8, 2] > 200
    assert frame[24, 56, 2] < 40


def test_the_same_pictures_written_at_two_times_are_two_files(tmp_path: Path) -> None:
    # The server keeps one clip per content: a looping scene's next pass must not look like a
    # retried upload of the first.
    first, then = (
        datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC),
        datetime(2026, 5, 1, 8, 0, 30, tzinfo=UTC),
    )
    paths = []
    for when in (first, then):
        path = tmp_path / f"{when:%H%M%S}.mp4"
        writer = ClipWriter(path, rate=Fraction(10), width=64, height=48, created=when)
        for colour in COLOURS:
            writer.write(np.full((48, 64, 3), colour, np.uint8))
        writer.close()
        paths.append(path)
    assert paths[0].read_bytes() != paths[1].read_bytes()
    for path, when in zip(paths, (first, then), strict=True):
        with av.open(str(path)) as container:
            assert container.metadata["creation_time"].startswith(f"{when:%Y-%m-%dT%H:%M:%S}")
        assert len(decoded(path)) == len(COLOURS)
