"""The data folder is the operator's alone: its folders are 0700 and its files 0600.

It holds exact homes and password hashes (the SQLite file), the master key and the sealed
clips; another account on the machine must not read any of it, whatever the umask.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
#: SQLite's companions of a database file; it makes them with the database file's mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path, *, tighten: bool = False) -> Path:
    """Create ``path`` and any missing parents as 0700 folders; ``tighten`` fixes one that exists.

    ``Path.mkdir(parents=True, mode=...)`` gives the mode to the last folder only.
    """
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=FOLDER_MODE)
    if tighten or missing:
        _restrict(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as a 0600 file if it is missing; make it 0600 if it is looser."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    _restrict(path, FILE_MODE)
    return path


def secret_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The contents of a 0600 secret file, written once from ``make()`` if it is missing.

    O_EXCL, so two processes starting together cannot each write a different secret; a file an
    earlier version wrote, or someone copied in, is tightened to 0600.
    """
    private_folder(path.parent, tighten=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(make())
    private_file(path)
    return path.read_bytes()


def private_sqlite_file(path: Path) -> Path:
    """The SQLite file and its journals as 0600, created before SQLite opens it.

    SQLite gives its -wal and -shm files the mode of the database file, so a database file
    made 0600 first keeps them private too; files an earlier version left looser are tightened.
    """
    private_folder(path.parent)
    private_file(path)
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            _restrict(companion, FILE_MODE)
    return path


def _restrict(path: Path, mode: int) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if stat.S_IMODE(info.st_mode) & ~mode and info.st_uid == os.geteuid():
        path.chmod(stat.S_IMODE(info.st_mode) & mode)
