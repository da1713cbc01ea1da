"""A test RTSP camera: GStreamer's RTSP server serving H.264 from a live test pattern.

Run with Debian's Python (it has ``gi``), not the project's::

    /usr/bin/python3 _rtsp_camera.py PORT [USER PASSWORD]

It serves ``/door`` (open) and, given a user and password, ``/locked`` (basic auth) over
TCP and UDP, prints ``ready`` once listening, and reads commands on stdin, one a line:
``motion`` (a moving ball), ``still`` (nothing moves), ``stall`` (stop sending frames and keep
the session open), ``flow`` (send frames again).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import gi  # type: ignore[import-not-found]

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # type: ignore[import-not-found]  # noqa: E402

LAUNCH = (
    "( videotestsrc name=scene is-live=true pattern=black "
    "! video/x-raw,width=320,height=240,framerate=10/1 "
    "! valve name=tap drop=false "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
PATTERNS = {"motion": "ball", "still": "black"}


class Camera:
    """The server, its two mounts and the one shared pipeline the commands act on."""

    def __init__(self, port: str, user: str | None, password: str | None) -> None:
        self.pipelines: list[Any] = []
        self.pattern = "black"
        self.dropping = False
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.server.set_service(port)
        mounts = self.server.get_mount_points()
        mounts.add_factory("/door", self._factory("anonymous"))
        if user is not None and password is not None:
            mounts.add_factory("/locked", self._factory("user"))
            auth = GstRtspServer.RTSPAuth()
            auth.set_default_token(_token("anonymous"))
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), _token("user"))
            self.server.set_auth(auth)

    def _factory(self, role: str) -> Any:
        factory = GstRtspServer.RTSPMediaFactory()
        # Anyone may see that a locked mount exists, so a stranger is asked to log in (401).
        for allowed, construct in (("user", "true"), ("anonymous", str(role == "anonymous"))):
            factory.add_role_from_structure(
                Gst.Structure.from_string(
                    f"{allowed}, media.factory.access=(boolean)true,"
                    f" media.factory.construct=(boolean){construct.lower()}"
                )[0]
            )
        factory.set_launch(LAUNCH)
        factory.set_shared(True)
        factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
        factory.connect("media-configure", self._configured)
        return factory

    def _configured(self, _factory: Any, media: Any) -> None:
        pipeline = media.get_element()
        self.pipelines.append(pipeline)
        self._apply(pipeline)

    def _apply(self, pipeline: Any) -> None:
        pipeline.get_by_name("scene").set_property("pattern", self.pattern)
        pipeline.get_by_name("tap").set_property("drop", self.dropping)

    def command(self, line: str) -> bool:
        """Act on one stdin command (in the main loop)."""
        word = line.strip()
        if word in PATTERNS:
            self.pattern = PATTERNS[word]
        elif word in ("stall", "flow"):
            self.dropping = word == "stall"
        for pipeline in self.pipelines:
            self._apply(pipeline)
        print(f"done {word}", flush=True)
        return False


def _token(role: str) -> Any:
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", role)
    return token


def main() -> None:
    """Serve until stdin closes."""
    Gst.init(None)
    args = sys.argv[1:]
    camera = Camera(args[0], *(args[1:3] if len(args) >= 3 else (None, None)))
    loop = GLib.MainLoop()
    camera.server.attach(None)

    def read_commands() -> None:
        for line in sys.stdin:
            GLib.idle_add(camera.command, line)
        GLib.idle_add(loop.quit)

    threading.Thread(target=read_commands, daemon=True).start()
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
