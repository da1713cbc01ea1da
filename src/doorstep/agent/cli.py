"""`doorstep agent`: pair a camera, then run it (capture, record, spool, upload, heartbeat)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from urllib.parse import quote, urlsplit, urlunsplit

from doorstep.agent import e2e, replies
from doorstep.agent.client import DeviceClient
from doorstep.agent.options import AGENT_MOTION, MAX_CLIP_SECONDS, AgentOptions
from doorstep.agent.press import ring_running_agent
from doorstep.agent.runner import CameraAgent, check_source
from doorstep.agent.spool import DEFAULT_MAX_BYTES
from doorstep.agent.state import DEFAULT_STATE_DIR, AgentState, load_state, save_state
from doorstep.errors import DoorstepError
from doorstep.media.errors import DamagedMedia, NotVideo, SourceUnavailable
from doorstep.media.source import RTSP_TRANSPORTS, is_network
from doorstep.platform.observe import logs

EXIT_FAILED, EXIT_BAD_SOURCE = 1, 2
#: Where the camera's password may come from instead of the command line.
PASSWORD_VARIABLE = "DOORSTEP_SOURCE_PASSWORD"

log = logging.getLogger(__name__)


def _pair_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorstep agent pair", description="Pair this agent with a camera in Doorstep."
    )
    parser.add_argument("--server", required=True, help="the Doorstep server, e.g. https://...")
    parser.add_argument("--code", required=True, help="the one-time pairing code from Doorstep")
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    return parser


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorstep agent",
        description="Run a paired camera: record motion clips and upload them to Doorstep.",
        epilog="Pair first: doorstep agent pair --server URL --code CODE",
    )
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument(
        "--source", required=True, help="a video file, an rtsp:// URL or a /dev/videoN webcam"
    )
    parser.add_argument(
        "--source-password-file",
        type=Path,
        metavar="PATH",
        help="the camera's password, read from this file (or set DOORSTEP_SOURCE_PASSWORD) "
        "and put into the --source URL, which names the user: rtsp://USER@host/...",
    )
    parser.add_argument(
        "--rtsp-transport",
        choices=RTSP_TRANSPORTS,
        default="tcp",
        help="carry an RTSP camera's video over tcp (default; passes NAT) or udp",
    )
    parser.add_argument("--loop", action="store_true", help="play a video file over and over")
    parser.add_argument(
        "--no-realtime",
        dest="realtime",
        action="store_false",
        help="read a video file as fast as possible instead of at its own pace",
    )
    parser.add_argument(
        "--mqtt",
        metavar="URL",
        default=os.environ.get("DOORSTEP_AGENT_MQTT_URL"),
        help="also publish to mqtt://host:1883 or mqtts://user:password@host:8883 (or set "
        "DOORSTEP_AGENT_MQTT_URL, which keeps the password out of the process list)",
    )
    parser.add_argument(
        "--mqtt-ca", metavar="FILE", default="", help="the CA that signed a private mqtts broker"
    )
    parser.add_argument(
        "--mqtt-cert", metavar="FILE", default="", help="a client certificate and key (PEM)"
    )
    parser.add_argument(
        "--spool-max-mb",
        type=int,
        default=DEFAULT_MAX_BYTES // (1024 * 1024),
        help="bound the local spool of unsent clips (oldest go first when full)",
    )
    parser.add_argument(
        "--once", action="store_true", help="exit when the file ends and every clip is uploaded"
    )
    parser.add_argument(
        "--max-clip-seconds",
        type=_clip_seconds,
        default=MAX_CLIP_SECONDS,
        help="cut longer events into clips of at most this long, each uploaded as it completes",
    )
    parser.add_argument(
        "--button-pin", type=int, metavar="N", help="the doorbell button's GPIO pin (BCM number)"
    )
    parser.add_argument(
        "--ring-key", action="store_true", help="Enter on this terminal presses the doorbell"
    )
    parser.add_argument(
        "--microphone",
        default="none",
        help="the visitor's audio for the owner: tone:HZ, alsa:DEVICE or none (default)",
    )
    parser.add_argument(
        "--speaker",
        default="none",
        help="where the owner's voice and quick replies play: file:PATH.wav, alsa:DEVICE or none",
    )
    return parser


def _clip_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 1.0 <= seconds <= 3600.0:
        raise argparse.ArgumentTypeError("give a number of seconds from 1 to 3600")
    return seconds


def _folder_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    return parser


def _ring(args: argparse.Namespace) -> int:
    try:
        rang = ring_running_agent(args.state_dir)
    except DoorstepError as err:
        print(f"doorstep agent ring: {err.detail}", file=sys.stderr)
        return EXIT_FAILED
    print("Ding dong." if rang else "Already ringing (a press within 2 s is the same ring).")
    return 0


def _quick_replies(args: argparse.Namespace) -> int:
    try:
        made = replies.make(args.state_dir)
    except DoorstepError as err:
        print(f"doorstep agent quick-replies: {err.detail}", file=sys.stderr)
        return EXIT_FAILED
    for path in made:
        print(f"made {path}")
    return 0


def main_agent(argv: list[str]) -> int:
    """Entry point of `doorstep agent ...`; returns the exit status."""
    if argv[:1] == ["pair"]:
        return _pair(_pair_parser().parse_args(argv[1:]))
    if argv[:1] == ["e2e"]:
        return _e2e(_e2e_parser().parse_args(argv[1:]))
    if argv[:1] == ["ring"]:
        parser = _folder_parser(
            "doorstep agent ring", "Press the doorbell of the agent running with this folder."
        )
        return _ring(parser.parse_args(argv[1:]))
    if argv[:1] == ["quick-replies"]:
        parser = _folder_parser(
            "doorstep agent quick-replies",
            "Speak the quick replies with espeak-ng into the agent's folder.",
        )
        return _quick_replies(parser.parse_args(argv[1:]))
    return _run(_run_parser().parse_args(argv))


def _e2e_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorstep agent e2e",
        description="Give this camera the end-to-end passphrase set in Doorstep (read from "
        f"${e2e.PASSPHRASE_ENV} or typed at a prompt); clips are then sealed before upload.",
    )
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    return parser


def _e2e(args: argparse.Namespace) -> int:
    try:
        state = load_state(args.state_dir)
        e2e.set_up(args.state_dir, state, e2e.read_passphrase())
    except DoorstepError as err:
        print(f"doorstep agent e2e: {err.detail}", file=sys.stderr)
        return EXIT_FAILED
    print("End-to-end encryption is set up: clips from this camera are sealed before upload.")
    return 0


def _pair(args: argparse.Namespace) -> int:
    try:
        with DeviceClient(args.server) as client:
            pairing = client.pair(args.code)
        path = save_state(
            args.state_dir, AgentState(args.server.rstrip("/"), pairing.camera_id, pairing.token)
        )
    except DoorstepError as err:
        print(f"doorstep agent pair: {err.detail}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as err:
        print(f"doorstep agent pair: cannot store the device token: {err}", file=sys.stderr)
        return EXIT_FAILED
    name = pairing.config.get("name", "")
    print(f"Paired as camera {name!r} ({pairing.camera_id}); device token stored in {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.spool_max_mb < 1:
        print("doorstep agent: --spool-max-mb must be at least 1", file=sys.stderr)
        return EXIT_FAILED
    try:
        state = load_state(args.state_dir)
    except DoorstepError as err:
        print(f"doorstep agent: {err.detail}", file=sys.stderr)
        return EXIT_FAILED
    if is_network(args.source) and urlsplit(args.source).password is not None:
        # Said once, without the URL: the password itself must not reach the log too.
        log.warning(
            "the --source URL carries the camera's password, readable by every user of this "
            "machine (ps): put it in %s or --source-password-file",
            PASSWORD_VARIABLE,
        )
    try:
        source = source_with_password(args.source, args.source_password_file)
        check_source(source, args.rtsp_transport)
    except (SourceUnavailable, NotVideo, DamagedMedia) as err:
        print(f"doorstep agent: {err.detail}", file=sys.stderr)
        return EXIT_BAD_SOURCE
    options = AgentOptions(
        source=source,
        rtsp_transport=args.rtsp_transport,
        loop=args.loop,
        realtime=args.realtime,
        once=args.once,
        mqtt_url=args.mqtt,
        mqtt_ca_file=args.mqtt_ca,
        mqtt_cert_file=args.mqtt_cert,
        spool_max_bytes=args.spool_max_mb * 1024 * 1024,
        button_pin=args.button_pin,
        ring_key=args.ring_key,
        microphone=args.microphone,
        speaker=args.speaker,
        motion=replace(AGENT_MOTION, max_clip_seconds=args.max_clip_seconds),
    )
    if not logging.getLogger().handlers:
        # Scrubbed like the server's lines (a camera URL's password never reaches the log).
        logs.configure("json" if os.environ.get("DOORSTEP_LOG_FORMAT") == "json" else "plain")
    try:
        agent = CameraAgent(args.state_dir, state, options)
    except DoorstepError as err:
        print(f"doorstep agent: {err.detail}", file=sys.stderr)
        return EXIT_FAILED
    with _terminate_as_interrupt():
        status = agent.run()
    if agent.failure is not None:
        print(f"doorstep agent: {agent.failure}", file=sys.stderr)
    return status


def source_with_password(source: str, password_file: Path | None) -> str:
    """The source URL with the camera's password from a file or the environment put in.

    A password on the command line would be readable by every user of the machine (``ps``).
    """
    if password_file is not None:
        try:
            password: str | None = password_file.read_text(encoding="utf-8").strip("\r\n")
        except OSError as err:
            raise SourceUnavailable(
                source, f"cannot read the password file: {err.strerror}"
            ) from err
    else:
        password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        return source
    parts = urlsplit(source)
    if not is_network(source) or "@" not in parts.netloc:
        raise SourceUnavailable(
            source, "a camera password needs a URL with a user: scheme://USER@host/..."
        )
    user, host = parts.netloc.rsplit("@", 1)
    netloc = f"{user.split(':', 1)[0]}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    # A service manager stops the agent with SIGTERM; finish the clip as on Ctrl-C.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
