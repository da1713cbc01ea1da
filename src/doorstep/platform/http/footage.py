"""What every route that hands out an agency's copy of footage shares: how it may be asked for.

Playback is a GET of byte ranges from Doorstep's own pages; a download is an explicit POST (the
session's CSRF token checked like any other). A cross-site GET can neither start a download nor
play footage, so no other site can make an agency member's browser fetch a file (I2, I5).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request, status
from fastapi.responses import StreamingResponse

from doorstep.errors import Forbidden, MethodNotAllowed
from doorstep.platform.ranges import Interval

#: ``Sec-Fetch-Site`` values of requests started by Doorstep's pages or typed in by the user.
_OWN_FETCHES = frozenset({"same-origin", "none"})


def refuse_download_by_get(download: bool, post_url: str) -> None:
    """405 for the old ``?download=true`` GET: downloads are POSTs to ``post_url`` now."""
    if download:
        raise MethodNotAllowed(
            f"a download is an explicit POST to {post_url}; GET only plays byte ranges",
            extra={"allow": "POST", "download_url": post_url},
        )


def refuse_cross_site(request: Request) -> None:
    """403 for footage fetched by another site's page (browsers say so in Sec-Fetch-Site)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in _OWN_FETCHES:
        raise Forbidden("footage is played only from Doorstep's own pages")


def copy_response(
    body: Iterator[bytes],
    span: Interval,
    size: int,
    *,
    ranged: bool,
    sha256: str,
    filename: str | None = None,
) -> StreamingResponse:
    """The bytes ``span`` of a delivered copy: 206 for a Range request, else the whole file."""
    first, last = span
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(last - first + 1),
        "cache-control": "private, no-store",
        "x-content-sha256": sha256,
    }
    if filename is not None:
        headers["content-disposition"] = f'attachment; filename="{filename}"'
    if ranged:
        headers["content-range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(
        body,
        status_code=status.HTTP_206_PARTIAL_CONTENT if ranged else status.HTTP_200_OK,
        media_type="video/mp4",
        headers=headers,
    )
