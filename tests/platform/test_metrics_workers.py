"""`doorstep serve --workers 2` with DOORSTEP_METRICS_BIND: one scrape counts every worker."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from doorstep.platform.http import serving
from tests.platform.test_serving import _paired_camera, serving_port

pytestmark = pytest.mark.skipif(not serving.balanced(), reason="SO_REUSEPORT balancing is Linux's")

TOKEN = "scrape-token-5f4e3d2c1b0a"
REQUESTS = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """A real 2-worker server: its public URL, its metrics URL and its data folder."""
    folder = tmp_path_factory.mktemp("serve")
    port, metrics_port = serving_port(), serving_port()
    env = {
        **os.environ,
        "DOORSTEP_DATA_DIR": str(folder / "data"),
        "DOORSTEP_METRICS_BIND": f"127.0.0.1:{metrics_port}",
        "DOORSTEP_METRICS_TOKEN": TOKEN,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # A stale file from an earlier run must not add to this one's counts.
    stale = folder / "data" / "metrics"
    stale.mkdir(parents=True)
    (stale / "counter_1.db").write_bytes(b"not a metrics file")
    args = ["serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)]
    with (folder / "serve.log").open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "doorstep.cli", *args],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    public, scrape = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{public}/openapi.json").status_code == 200:
                    break
            assert process.poll() is None, (folder / "serve.log").read_text()
            time.sleep(0.1)
        yield public, scrape, folder / "data"
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def scraped(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    response = httpx.get(url, headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def healthz_count(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    """Requests to /healthz answered 2xx, over every worker."""
    key = (
        "doorstep_http_requests_total",
        (("method", "GET"), ("route", "/healthz"), ("status", "2xx")),
    )
    return samples.get(key, 0.0)


def test_requests_add_up_across_workers(server: tuple[str, str, Path]) -> None:
    public, scrape, data = server
    before = healthz_count(scraped(scrape))
    for _ in range(REQUESTS):
        # A connection each: the kernel spreads them over both workers' sockets.
        with httpx.Client(base_url=public) as http:
            assert http.get("/healthz").status_code == 200
    assert healthz_count(scraped(scrape)) == before + REQUESTS
    # Both workers answered some: without the shared folder one scrape would see one of them.
    writers = {path.name.split("_")[-1] for path in (data / "metrics").glob("counter_*.db")}
    assert len(writers) >= 2, writers


def test_the_public_port_has_no_metrics_and_the_bind_wants_the_token(
    server: tuple[str, str, Path],
) -> None:
    public, scrape, _ = server
    assert httpx.get(f"{public}/metrics").status_code == 404
    assert (
        httpx.get(f"{public}/metrics", headers={"authorization": f"Bearer {TOKEN}"}).status_code
        == 404
    )
    assert httpx.get(scrape).status_code == 401
    assert (
        httpx.get(scrape, headers={"authorization": "Bearer wrong-token-000000"}).status_code == 401
    )


def test_an_agents_spool_backlog_reaches_the_scrape(server: tuple[str, str, Path]) -> None:
    public, scrape, _ = server
    with httpx.Client(base_url=public) as http:
        token = _paired_camera(http)
        beat = http.post(
            "/api/v1/devices/heartbeat",
            json={"agent_version": "t", "spool_clips": 4, "spool_bytes": 4096},
            headers={"authorization": f"Bearer {token}"},
        )
        assert beat.status_code == 200, beat.text
    samples = scraped(scrape)
    assert samples[("doorstep_agent_spool_clips", ())] == 4
    assert samples[("doorstep_agent_spool_bytes_max", ())] == 4096
