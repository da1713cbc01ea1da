"""Motion scan speed and agreement: doorstep scan vs DVR-Scan vs decoding alone.

Run ``bench/setup_peers.sh`` once to put DVR-Scan in ``.venv-bench``; then
``.venv/bin/python bench/motion.py [--runs N]``. Prints one table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / "shared" / "data" / "video" / "one-by-one-person-detection.mp4"
DVR_SCAN = ROOT / ".venv-bench" / "bin" / "dvr-scan"
PYTHON = ROOT / ".venv" / "bin" / "python"
DOORSTEP = ROOT / ".venv" / "bin" / "doorstep"
# Same event rules for both tools (DVR-Scan's defaults) so their intervals are comparable.
ROLLS = {"pre": 1.5, "post": 2.0, "min": 0.1}
DECODE_ONLY = (
    "import sys, av\n"
    "c = av.open(sys.argv[1]); s = c.streams.video[0]; s.thread_type = 'AUTO'\n"
    "n = sum(1 for _ in c.decode(s))\n"
)
CALL_MAIN_SCAN = (
    "import sys\nfrom doorstep.media.scan import main_scan\nsys.exit(main_scan(sys.argv[1:]))\n"
)

Intervals = list[tuple[float, float]]


def make_720p(source: Path, target: Path) -> None:
    """Re-encode the footage at 1280×720 (H.264) so both tools see the same full frames."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream_in = inp.streams.video[0]
        stream_in.thread_type = "AUTO"
        stream_out = out.add_stream("libx264", rate=stream_in.average_rate)
        stream_out.width, stream_out.height, stream_out.pix_fmt = 1280, 720, "yuv420p"
        stream_out.options = {"preset": "veryfast", "crf": "21"}
        for index, frame in enumerate(inp.decode(stream_in)):
            scaled = frame.reformat(width=1280, height=720, format="yuv420p")
            scaled.pts = index
            scaled.time_base = 1 / Fraction(stream_in.average_rate or 10)
            out.mux(stream_out.encode(scaled))
        out.mux(stream_out.encode(None))


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def timed(command: list[str], runs: int) -> tuple[float, str]:
    """Return the median wall time of ``runs`` runs of ``command`` and its last output."""
    times = []
    output = ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        output = done.stdout
    return statistics.median(times), output


def ours_command(path: Path) -> list[str]:
    rolls = [
        "--json",
        "--pre-roll",
        str(ROLLS["pre"]),
        "--post-roll",
        str(ROLLS["post"]),
        "--min-event",
        str(ROLLS["min"]),
    ]
    if DOORSTEP.exists():
        return [str(DOORSTEP), "scan", str(path), *rolls]
    return [str(PYTHON), "-c", CALL_MAIN_SCAN, str(path), *rolls]


def parse_timecode(text: str) -> float:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def dvr_intervals(output: str) -> Intervals:
    line = output.strip().splitlines()[-1] if output.strip() else ""
    marks = [parse_timecode(mark) for mark in line.split(",") if mark]
    return list(zip(marks[::2], marks[1::2], strict=True))


def ours_intervals(output: str) -> Intervals:
    events = json.loads(output)["events"]
    return [(float(e["start_seconds"]), float(e["end_seconds"])) for e in events]


def covered(intervals: Intervals, step: float = 0.05) -> set[int]:
    return {t for start, end in intervals for t in range(round(start / step), round(end / step))}


def agreement(a: Intervals, b: Intervals) -> float:
    """Time-based intersection over union of two sets of event intervals (1.0 = identical)."""
    first, second = covered(a), covered(b)
    union = first | second
    return len(first & second) / len(union) if union else 1.0


def bench(path: Path, label: str, runs: int) -> list[str]:
    frames = frame_count(path)
    decode_time, _ = timed([str(PYTHON), "-c", DECODE_ONLY, str(path)], runs)
    ours_time, ours_out = timed(ours_command(path), runs)
    dvr_time, dvr_out = timed([str(DVR_SCAN), "-i", str(path), "-so", "-q"], runs)
    ours_fps, dvr_fps, decode_fps = frames / ours_time, frames / dvr_time, frames / decode_time
    ours, theirs = ours_intervals(ours_out), dvr_intervals(dvr_out)
    return [
        label,
        str(frames),
        f"{ours_fps:.0f}",
        f"{dvr_fps:.0f}",
        f"{decode_fps:.0f}",
        f"{ours_fps / dvr_fps:.1f}×",
        f"{ours_fps / decode_fps:.0%}",
        f"{len(ours)}/{len(theirs)}",
        f"{agreement(ours, theirs):.0%}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not DVR_SCAN.exists():
        print("DVR-Scan is missing: run bench/setup_peers.sh first", file=sys.stderr)
        return 1
    if not FOOTAGE.exists():
        print(f"footage missing: {FOOTAGE}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "one-by-one-720p.mp4"
        make_720p(FOOTAGE, big)
        rows = [
            bench(FOOTAGE, "768×432", args.runs),
            bench(big, "1280×720", args.runs),
        ]
    header = [
        "footage",
        "frames",
        "ours fps",
        "DVR-Scan fps",
        "decode fps",
        "ours/DVR",
        "ours/decode",
        "events ours/DVR",
        "interval IoU",
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    print(
        "fps = frames / wall time of the whole process, median of "
        f"{args.runs} runs; both tools pre-roll {ROLLS['pre']} s, post-roll {ROLLS['post']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
