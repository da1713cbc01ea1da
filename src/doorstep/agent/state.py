"""The paired agent's state: server URL, camera id and device token, kept in a state folder."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from doorstep.errors import ConfigurationError

DEFAULT_STATE_DIR = Path("doorstep-agent")
STATE_FILE = "agent.json"
CONFIG_FILE = "config.json"


class NotPaired(ConfigurationError):
    """The agent has no device token yet."""

    slug = "not-paired"
    title = "The camera agent is not paired"

    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"this agent is not paired yet (no {folder / STATE_FILE}); in Doorstep, add a camera, "
            "make a pairing code, then run: doorstep agent pair --server URL --code CODE"
            + ("" if folder == DEFAULT_STATE_DIR else f" --state-dir {folder}")
        )


@dataclass(frozen=True, slots=True)
class AgentState:
    """What pairing gave this agent."""

    server: str
    camera_id: str
    token: str


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only, replacing the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file 0600, so the token is never readable by others, even briefly.
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def save_state(folder: Path, state: AgentState) -> Path:
    """Store the agent's pairing in ``folder``; return the file written."""
    path = folder / STATE_FILE
    write_private(path, json.dumps(asdict(state), indent=2) + "\n")
    return path


def load_state(folder: Path) -> AgentState:
    """Read the agent's pairing from ``folder``, or raise ``NotPaired``."""
    path = folder / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AgentState(
            server=str(data["server"]), camera_id=str(data["camera_id"]), token=str(data["token"])
        )
    except FileNotFoundError:
        raise NotPaired(folder) from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigurationError(f"cannot read the agent state {path}: {err}") from err


def save_config(folder: Path, config: dict[str, Any]) -> None:
    """Remember the camera's last known configuration, so the agent can start while offline."""
    write_private(folder / CONFIG_FILE, json.dumps(config, indent=2) + "\n")


def load_config(folder: Path) -> dict[str, Any] | None:
    """The last configuration the server gave, or ``None``."""
    try:
        data = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
