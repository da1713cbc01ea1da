"""Quick replies: short messages the owner plays to the visitor with one tap.

They are spoken once with espeak-ng into ``<agent folder>/replies/<id>.wav`` (48 kHz mono);
an owner may replace a file with a recording of their own under the same name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from doorstep.errors import ConfigurationError
from doorstep.media.sound import espeak_available, speak_to_wav
from doorstep.platform.folders import private_folder

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuickReply:
    """One message: its id on the data channel, its label on the owner's button."""

    id: str
    label: str


QUICK_REPLIES = (
    QuickReply("coming", "We'll be right there"),
    QuickReply("leave-it", "Please leave it at the door"),
    QuickReply("cannot-come", "We can't come to the door right now"),
)


def replies_folder(folder: Path) -> Path:
    """Where an agent keeps its quick replies."""
    return folder / "replies"


def reply_path(folder: Path, reply_id: str) -> Path | None:
    """The WAV of a known quick reply, or None for an unknown id or a missing file."""
    known = {reply.id for reply in QUICK_REPLIES}
    if reply_id not in known:
        return None
    path = replies_folder(folder) / f"{reply_id}.wav"
    return path if path.is_file() else None


def available(folder: Path) -> list[QuickReply]:
    """The quick replies this agent can play."""
    return [reply for reply in QUICK_REPLIES if reply_path(folder, reply.id) is not None]


def make(folder: Path, *, overwrite: bool = True) -> list[Path]:
    """Speak every quick reply into the agent's folder; return the files made."""
    target = private_folder(replies_folder(folder))
    made: list[Path] = []
    for reply in QUICK_REPLIES:
        path = target / f"{reply.id}.wav"
        if path.exists() and not overwrite:
            continue
        speak_to_wav(reply.label, path)
        made.append(path)
    return made


def make_missing(folder: Path) -> None:
    """On an agent's start: make the replies it lacks, or say in one line why it cannot."""
    if len(available(folder)) == len(QUICK_REPLIES):
        return
    if not espeak_available():
        log.info("quick replies are off: install espeak-ng, then run: doorstep agent quick-replies")
        return
    try:
        made = make(folder, overwrite=False)
    except ConfigurationError as err:
        log.warning("quick replies were not made: %s", err.detail)
        return
    log.info("made %d quick replies with espeak-ng", len(made))
