"""The rendered visit says where its visitor is, so the demo's stored boxes sit on the figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from doorstep.media.source import open_source
from doorstep.media.synthetic import render_visit, visitor_box


def test_the_visitor_box_holds_every_pixel_the_visitor_changed(tmp_path: Path) -> None:
    path = render_visit(tmp_path / "visit.mp4", seconds=5.0, fps=6, seed=4)
    with open_source(path) as source:
        images = {frame.index: frame.image for frame in source.frames() if frame.image is not None}
    frames = len(images)
    empty = images[0].astype(np.int16)
    checked = 0
    for index in (10, 15, 18):
        box = visitor_box(index, frames)
        assert box is not None
        changed = np.abs(images[index].astype(np.int16) - empty).max(axis=2) > 40
        ys, xs = np.nonzero(changed)
        height, width = changed.shape
        # The figure changed a real patch of the frame, and all of it lies inside the box
        # (a pixel of slack, and a few stray pixels of encoder noise round the moving figure).
        outside = (
            (xs < box[0] * width - 1)
            | (xs > box[2] * width + 1)
            | (ys < box[1] * height - 1)
            | (ys > box[3] * height + 1)
        )
        assert len(xs) > 500
        assert outside.sum() <= len(xs) // 200
        # And the box is snug: the figure reaches its bottom and its top.
        assert ys.max() >= box[3] * height - 12
        assert ys.min() <= box[1] * height + 4
        checked += 1
    assert checked == 3
    assert visitor_box(0, frames) is None
