"""Video errors, each a subclass of the one Doorstep error tree.

Unavailable
└── SourceUnavailable      a camera, stream or file that cannot be opened or read right now
    └── CameraRefusedLogin a network camera that refused the user name or password (401)
UnsupportedMedia
├── NotVideo               a file with no video stream Doorstep can decode
└── DamagedMedia           a video that breaks part-way; carries how many frames were decoded
DoorstepError
└── ClipWriteFailed        a clip or snapshot that could not be written
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from doorstep.errors import DoorstepError, Unavailable, UnsupportedMedia


class SourceUnavailable(Unavailable):
    """A camera, stream or file that cannot be opened or read right now."""

    slug = "source-unavailable"
    title = "The video source cannot be opened"

    def __init__(self, source: str, reason: str) -> None:
        shown = without_credentials(source)
        said = reason.replace(source, shown)
        super().__init__(f"cannot open video source {shown!r}: {said}", extra={"source": shown})
        self.source = shown
        self.reason = said


class CameraRefusedLogin(SourceUnavailable):
    """A network camera that refused the user name or password in its URL (RTSP/HTTP 401)."""

    slug = "camera-refused-login"
    title = "The camera refused the user name or password"

    def __init__(self, source: str) -> None:
        super().__init__(
            source,
            "the camera refused the user name or password (401); check the user and password "
            "set on the camera against the ones given to the agent",
        )


def without_credentials(source: str) -> str:
    """The source with its URL's user name, password and query taken out, for logs and errors.

    A camera's snapshot URL often carries its credentials as query parameters
    (``?user=admin&pwd=...``): the query is dropped whole, like the user and password.
    """
    parts = urlsplit(source)
    if not parts.scheme or not parts.netloc:
        return source
    host = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    netloc = "***@" + host if "@" in parts.netloc else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class NotVideo(UnsupportedMedia):
    """A file with no video stream Doorstep can decode."""

    slug = "not-video"
    title = "Not a video Doorstep can read"

    def __init__(self, source: str, reason: str) -> None:
        shown = without_credentials(source)
        said = reason.replace(source, shown)
        super().__init__(f"{shown!r} is not a video Doorstep can read: {said}")
        self.source = shown


class DamagedMedia(UnsupportedMedia):
    """A video that breaks part-way; ``frames_decoded`` frames came out before the damage."""

    slug = "damaged-media"
    title = "The video is damaged or truncated"

    def __init__(self, source: str, frames_decoded: int, reason: str) -> None:
        shown = without_credentials(source)
        said = reason.replace(source, shown)
        super().__init__(
            f"{shown!r} is damaged or truncated after {frames_decoded} decoded frames: {said}",
            extra={"frames_decoded": frames_decoded},
        )
        self.source = shown
        self.frames_decoded = frames_decoded


class ClipWriteFailed(DoorstepError):
    """A clip or snapshot that could not be written."""

    slug = "clip-write-failed"
    title = "The clip could not be written"
