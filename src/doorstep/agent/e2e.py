"""End-to-end encryption on the camera: the passphrase key lives only here and in the owner's head.

`doorstep agent e2e` asks for the passphrase, derives the key with the salt the owner's browser
chose, checks it against the camera's check value, and keeps the key 0600 in the state folder.
From then on every clip and snapshot is sealed before it leaves the camera.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from doorstep.agent.client import DeviceClient
from doorstep.agent.state import AgentState, write_private
from doorstep.errors import ConfigurationError, InvalidInput
from doorstep.platform.crypto import encrypt_file, passphrase_check, passphrase_key

KEY_FILE = "e2e.key"
PASSPHRASE_ENV = "DOORSTEP_E2E_PASSPHRASE"


def load_key(folder: Path) -> bytes | None:
    """The camera's end-to-end key, if `doorstep agent e2e` has been run."""
    path = folder / KEY_FILE
    if not path.exists():
        return None
    return bytes.fromhex(path.read_text().strip())


def set_up(folder: Path, state: AgentState, passphrase: str) -> None:
    """Derive and check the key for the paired camera and keep it in the state folder."""
    with DeviceClient(state.server, state.token) as client:
        config = client.config()
    if not config.get("e2e_enabled") or not config.get("e2e_salt"):
        raise ConfigurationError(
            "end-to-end encryption is off for this camera; turn it on in Doorstep first"
        )
    try:
        key = passphrase_key(passphrase, bytes.fromhex(config["e2e_salt"]))
    except ValueError as err:
        raise InvalidInput(str(err), field="passphrase") from err
    if passphrase_check(key) != config["e2e_check"]:
        raise InvalidInput("that is not the passphrase set for this camera", field="passphrase")
    write_private(folder / KEY_FILE, key.hex() + "\n")


def read_passphrase() -> str:
    """The passphrase from the environment or typed at a prompt (never a command-line argument)."""
    return os.environ.get(PASSPHRASE_ENV) or getpass.getpass("End-to-end passphrase: ")


@contextmanager
def sealed_copies(key: bytes, *paths: Path) -> Iterator[list[Path]]:
    """Temporary sealed copies of ``paths``, removed afterwards."""
    made: list[Path] = []
    try:
        for path in paths:
            fd, name = tempfile.mkstemp(dir=path.parent, suffix=".sealed")
            os.close(fd)
            made.append(Path(name))
            with Path(name).open("wb") as sealed, path.open("rb") as source:
                encrypt_file(source, sealed, key)
        yield made
    finally:
        for path in made:
            path.unlink(missing_ok=True)
