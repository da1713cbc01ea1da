"""The demo's phone: a Web Push receiver on loopback that shows each push it gets as one line.

It plays the part of a phone's push service and the phone together (RFC 8030 delivery): it
accepts the POST, decrypts the ``aes128gcm`` body (RFC 8291) with its own subscription's private
key, and calls back with the payload. It checks nothing else (the tests' push service checks the
VAPID signature); it exists so that someone trying ``doorstep demo`` sees pushes arrive.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: A Web Push message carries at most 4 KiB (RFC 8291 section 4); a little room for the header.
MAX_BODY = 8192
PATH = "/push/demo-phone"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def show(payload: dict[str, Any]) -> None:
    """Print a push the way the demo's terminal shows it."""
    title = str(payload.get("title", "Doorstep"))
    camera = payload.get("camera")
    # A ring's title names no camera; with two doorbells the line must say which one rang.
    if isinstance(camera, str) and camera and camera not in title:
        title = f"{title}: {camera}"
    print(f"  phone: {title} ({payload.get('type', '?')})", flush=True)


class DemoPhone:
    """One browser's push subscription, and the loopback server its pushes arrive at."""

    def __init__(self, on_push: Callable[[dict[str, Any]], None] = show) -> None:
        """A fresh key pair and auth secret; call ``start`` to listen."""
        self._private = ec.generate_private_key(ec.SECP256R1())
        self._auth = os.urandom(16)
        self._on_push = on_push
        self.received: list[dict[str, Any]] = []
        self.refused = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        """Where the server sends this phone's pushes (once it listens)."""
        if self._server is None:
            raise RuntimeError("the demo phone is not listening yet")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{PATH}"

    def keys(self) -> dict[str, str]:
        """The subscription's public key and auth secret, base64url as browsers give them."""
        point = self._private.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return {"p256dh": _b64url(point), "auth": _b64url(self._auth)}

    def subscription(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives in a browser: endpoint and keys."""
        return {"endpoint": self.endpoint, "keys": self.keys()}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        """The payload of an ``aes128gcm`` message for this subscription."""
        plain = http_ece.decrypt(
            body, private_key=self._private, auth_secret=self._auth, version="aes128gcm"
        )
        payload = json.loads(plain)
        if not isinstance(payload, dict):
            raise ValueError("a push payload is a JSON object")
        return payload

    def start(self) -> None:
        """Listen on a free loopback port, in a thread of this process."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="demo phone", daemon=True).start()

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _receive(self, path: str, body: bytes) -> int:
        """The status a push service answers a message with."""
        if path != PATH:
            return 404
        try:
            payload = self.decrypt(body)
        except (ValueError, http_ece.ECEException):
            # Not for this phone, or not readable: a push service would not deliver it either.
            self.refused += 1
            return 400
        self.received.append(payload)
        self._on_push(payload)
        return 201

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        phone = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                declared = self.headers.get("content-length") or "0"
                length = int(declared) if declared.isdigit() else -1
                if length < 0:
                    status = 400
                elif length > MAX_BODY:
                    status = 413
                else:
                    status = phone._receive(self.path, self.rfile.read(length))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                # The demo prints one line per push (``show``), not the access log.
                return

        return Handler
