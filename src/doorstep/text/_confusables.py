"""Unicode confusables (UTS #39): source code point to prototype, read once from package data.

The table is ``_confusables.txt`` beside this module, written by scripts/confusables_table.py
from Unicode's confusables.txt; see that file's header for its version and licence. Each entry
is SOURCE:TARGET in hex, a target of several code points joined by dots.
"""

from __future__ import annotations

from importlib.resources import files

_COMMENT = "#"
_VERSION = "# Version:"

_LINES = files(__package__).joinpath("_confusables.txt").read_text(encoding="utf-8").splitlines()

VERSION = next(line.removeprefix(_VERSION).strip() for line in _LINES if line.startswith(_VERSION))
TABLE = "\n".join(line for line in _LINES if not line.startswith(_COMMENT))
