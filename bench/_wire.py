"""A minimal HTTP/1.1 client on asyncio streams, for load generation.

A general-purpose client spends about a millisecond of CPU per request; at hundreds of requests a
second on two cores that is the load generator, not the server, being measured. This one keeps one
connection per simulated resident or camera, writes the request in one call and reads exactly the
response: a status line, headers, then a body by Content-Length or chunked transfer coding.
"""

from __future__ import annotations

import asyncio
import contextlib


class WireError(Exception):
    """The server closed the connection or answered something that is not HTTP/1.1."""


class Connection:
    """One keep-alive connection to ``host:port``, reopened when the server closes it."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host = host
        self.port = port
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._head = f"Host: {host}:{port}\r\n{extra}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def close(self) -> None:
        """Close the connection, if open."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def get(self, target: str) -> tuple[int, int]:
        """GET ``target`` (path and query); return the status and the body's length."""
        return await self.send(f"GET {target} HTTP/1.1\r\n{self._head}\r\n".encode("latin-1"))

    async def post(self, target: str, headers: dict[str, str], body: bytes) -> tuple[int, int]:
        """POST ``body`` to ``target`` with ``headers``; return the status and the body's length."""
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = f"POST {target} HTTP/1.1\r\n{self._head}{lines}Content-Length: {len(body)}\r\n\r\n"
        return await self.send(head.encode("latin-1") + body)

    async def send(self, request: bytes) -> tuple[int, int]:
        """Write a whole request; return the response's status and its body's length."""
        reader, writer = await self._open()
        writer.write(request)
        try:
            await writer.drain()
            status, length, chunked, close = await _read_head(reader)
            size = await (_read_chunked(reader) if chunked else _read_exactly(reader, length))
        except (OSError, asyncio.IncompleteReadError, ValueError) as err:
            await self.close()
            raise WireError(str(err) or type(err).__name__) from err
        if close:
            await self.close()
        return status, size


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[str, bytes]:
    """A multipart/form-data body: its Content-Type (with the boundary) and its bytes."""
    boundary = "doorstep-load-boundary-7f3a9c"
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + value.encode() + b"\r\n")
    for name, (filename, content, media_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {media_type}\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, int, bool, bool]:
    status_line = await reader.readuntil(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1.1 status line: {status_line!r}")
    status = int(parts[1])
    length, chunked, close = 0, False, False
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    return status, length, chunked, close


async def _read_exactly(reader: asyncio.StreamReader, length: int) -> int:
    if length:
        await reader.readexactly(length)
    return length


async def _read_chunked(reader: asyncio.StreamReader) -> int:
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        # Each chunk, the last (empty) one included, ends with CRLF.
        await reader.readexactly(size + 2)
        if size == 0:
            return total
        total += size
