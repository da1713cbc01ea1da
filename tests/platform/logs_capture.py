"""Capture what the root logger writes, formatted by Doorstep's own JSON chain."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from doorstep.platform.observe.logs import make_formatter


class Captured(logging.Handler):
    """Every record the root logger handles, as the JSON line Doorstep would write."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(make_formatter("json"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the formatted line (not the test's HTTP client's: it is no part of the server)."""
        if not record.name.startswith("httpx"):
            self.lines.append(self.format(record))

    def parsed(self) -> list[dict[str, Any]]:
        """Every line, parsed (each must be one JSON object)."""
        return [json.loads(line) for line in self.lines]

    def requests(self) -> list[dict[str, Any]]:
        """The access lines."""
        return [line for line in self.parsed() if line["logger"] == "doorstep.access"]


@contextmanager
def captured_logs() -> Iterator[Captured]:
    """Capture the root logger's records at INFO for the block."""
    root = logging.getLogger()
    handler, level = Captured(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
