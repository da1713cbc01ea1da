"""Video errors never carry a camera's password into logs or responses."""

from __future__ import annotations

from doorstep.media.errors import SourceUnavailable, without_credentials


def test_credentials_are_taken_out_of_source_urls() -> None:
    url = "rtsp://admin:hunter2@192.168.1.20:554/stream1"
    assert without_credentials(url) == "rtsp://***@192.168.1.20:554/stream1"
    error = SourceUnavailable(url, f"connection refused by {url}")
    assert "hunter2" not in error.detail
    assert "hunter2" not in str(error.extra)
    assert "192.168.1.20" in error.detail
    assert without_credentials("/dev/video0") == "/dev/video0"
