import io
import json
from pathlib import Path

from doorstep.media.motion import MotionSettings
from doorstep.media.scan import main_scan, scan_file
from tests.media.conftest import Footage

SETTINGS = MotionSettings(pre_roll_seconds=1.0, post_roll_seconds=2.0)


def test_scan_finds_each_burst_near_the_truth(two_bursts: Footage) -> None:
    events = scan_file(two_bursts.path, settings=SETTINGS)
    assert [e.trigger_frame for e in events] == [20, 150]
    assert [29 <= e.last_motion_frame <= 50 for e in events] == [True, False]
    assert [159 <= events[1].last_motion_frame <= 180] == [True]


def test_scan_reports_progress_to_the_end(one_mover: Footage) -> None:
    seen: list[tuple[int, int]] = []
    scan_file(
        one_mover.path, settings=SETTINGS, progress=lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (one_mover.frames, one_mover.frames)


def test_scan_writes_clips_when_asked(two_bursts: Footage, tmp_path: Path) -> None:
    events = scan_file(two_bursts.path, settings=SETTINGS, clips_dir=tmp_path)
    assert len(events) == 2
    assert (
        sorted(p.suffix for p in tmp_path.iterdir()) == [".jpg"] * 2 + [".json"] * 2 + [".mp4"] * 2
    )


def test_main_scan_json_shape(two_bursts: Footage) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main_scan([str(two_bursts.path), "--json"], stdout=out, stderr=err) == 0
    document = json.loads(out.getvalue())
    assert document["video"] == str(two_bursts.path)
    assert len(document["events"]) == 2
    assert set(document["events"][0]) >= {
        "start_seconds",
        "end_seconds",
        "start_frame",
        "end_frame",
        "peak_score",
        "labels",
    }
    assert err.getvalue() == ""


def test_main_scan_table_has_a_row_per_event(two_bursts: Footage) -> None:
    out = io.StringIO()
    assert main_scan([str(two_bursts.path), "--zone", "0,0 0,1 1,1"], stdout=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["#", "start", "s"]
    assert len(lines) == 3


def test_main_scan_bad_file_is_one_clear_line(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00" * 4096)
    err = io.StringIO()
    assert main_scan([str(bogus)], stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue().count("\n") == 1
    assert "bogus.mp4" in err.getvalue()


def test_main_scan_bad_zone_is_one_clear_line(one_mover: Footage) -> None:
    err = io.StringIO()
    assert main_scan([str(one_mover.path), "--zone", "0,0 1,1"], stderr=err) == 1
    assert err.getvalue() == "doorstep scan: error: --zone needs at least 3 points, got 2\n"
