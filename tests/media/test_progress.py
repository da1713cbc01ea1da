"""The command-line progress bar."""

from __future__ import annotations

import io

from doorstep.media._progress import ProgressBar


def test_the_bar_redraws_in_place_and_ends_the_line() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, "scanning")
    bar(0, 0)
    bar(15, 30)
    bar(30, 30)
    assert stream.getvalue() == (
        "\rscanning [###############...............]  50%"
        "\rscanning [##############################] 100%\n"
    )
