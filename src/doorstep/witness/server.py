"""The witness's HTTP service: ``POST /add-checkpoint`` as C2SP tlog-witness defines it.

Plain ``http.server`` threads: a witness is small, runs anywhere Python does, and shares no code
with the server it watches beyond the pure note and Merkle rules.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from doorstep.transparency.note import COSIGNATURE_V1, VerifierKey, verifier_for
from doorstep.witness.rules import SIZE_CONTENT_TYPE, Refusal, check, parse_submission
from doorstep.witness.state import WitnessState

log = logging.getLogger(__name__)

#: A body longer than this is no checkpoint submission.
MAX_BODY = 64 * 1024
#: Seconds a connection may sit idle before the witness drops it (no thread held forever).
SOCKET_TIMEOUT = 30.0


class Witness:
    """What the service needs: its state folder and the logs' keys it trusts, by origin."""

    def __init__(self, state: WitnessState, log_keys: list[VerifierKey]) -> None:
        """Follow the logs of ``log_keys``; a log's origin is its key's name."""
        self.state = state
        self.log_keys = log_keys

    @property
    def key(self) -> VerifierKey:
        """The witness's own verifier key, for logs and verifiers to configure."""
        return verifier_for(self.state.name, self.state.private_key, COSIGNATURE_V1)

    def add_checkpoint(self, body: bytes) -> tuple[int, str, str]:
        """Answer one submission: status, content type and body."""
        try:
            submission = parse_submission(body)
            origin = submission.checkpoint.origin
            keys = [key for key in self.log_keys if key.name == origin]
            signature = self.state.cosign_if(
                submission.note.text, lambda latest: check(submission, keys, latest)
            )
        except Refusal as refusal:
            log.info("refused a checkpoint: %s", refusal.reason)
            if refusal.known_size is not None:
                return refusal.status, SIZE_CONTENT_TYPE, f"{refusal.known_size}\n"
            return refusal.status, "text/plain; charset=utf-8", refusal.reason + "\n"
        log.info("cosigned %s at size %d", origin, submission.checkpoint.size)
        return HTTPStatus.OK, "text/plain; charset=utf-8", signature.line()


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``witness`` on ``host:port`` (port 0: any free one), not yet serving."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "doorstep-witness"
        timeout = SOCKET_TIMEOUT

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path != "/add-checkpoint":
                self._answer(HTTPStatus.NOT_FOUND, "text/plain", "not found\n")
                return
            given = self.headers.get("Content-Length") or "0"
            length = int(given) if given.isascii() and given.isdigit() else 0
            if not 0 < length <= MAX_BODY:
                self._answer(HTTPStatus.BAD_REQUEST, "text/plain", "a body of up to 64 KiB\n")
                return
            self._answer(*witness.add_checkpoint(self.rfile.read(length)))

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self._answer(HTTPStatus.OK, "text/plain; charset=utf-8", witness.key.encode() + "\n")

        def _answer(self, status: int, content_type: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's
            log.debug(format, *args)

    return ThreadingHTTPServer((host, port), Handler)
