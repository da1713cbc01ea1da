"""The demo's rendered doorstep: a quiet scene with one visit that motion finds."""

from __future__ import annotations

from pathlib import Path

import av

from doorstep.media.motion import MotionSettings
from doorstep.media.scan import scan_file
from doorstep.media.synthetic import render_visit


def test_a_rendered_visit_is_one_motion_event_in_the_middle(tmp_path: Path) -> None:
    path = render_visit(tmp_path / "visit.mp4", seconds=12, fps=10, width=320, height=180)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
    settings = MotionSettings(pre_roll_seconds=0, post_roll_seconds=0.5)
    events = scan_file(path, settings=settings)
    assert len(events) == 1
    assert 3.0 <= events[0].start_seconds <= 4.5
    assert 8.0 <= events[0].end_seconds <= 11.5
