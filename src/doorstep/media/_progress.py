"""A one-line progress bar for the command-line tools (`doorstep scan`, `doorstep redact`)."""

from __future__ import annotations

from typing import TextIO


class ProgressBar:
    """Redraws ``<verb> [####....] 42%`` in place on a terminal."""

    def __init__(self, stream: TextIO, verb: str) -> None:
        self.stream = stream
        self.verb = verb

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` out of ``total``; a line break once finished."""
        if total <= 0:
            return
        share = min(1.0, done / total)
        filled = round(share * 30)
        self.stream.write(f"\r{self.verb} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
