"""The metrics endpoint: its bind, its token, the broker's depth, a wrong bind refused clearly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis
from pydantic import SecretStr, ValidationError

from doorstep.platform.http import metrics_server
from doorstep.platform.http.metrics import PRODUCT, QUEUE_DEPTH
from doorstep.settings import Settings
from tests.platform.test_serving import serving_port

REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture
def bound(settings: Settings) -> tuple[Settings, str]:
    """The settings with a free metrics bind, and its URL."""
    port = serving_port()
    return (
        settings.model_copy(update={"metrics_bind": f"127.0.0.1:{port}"}),
        f"http://127.0.0.1:{port}/metrics",
    )


@pytest.mark.parametrize("bind", ["9464", "localhost", "127.0.0.1:", "a b:1"])
def test_a_bind_that_is_not_host_port_is_refused(bind: str) -> None:
    with pytest.raises(ValidationError, match="metrics_bind"):
        Settings(metrics_bind=bind)


@pytest.mark.parametrize("bind", ["127.0.0.1:0x1", "127.0.0.1:70000", ":9464"])
def test_parse_bind_says_what_is_wrong(bind: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        metrics_server.parse_bind(bind)


def test_parse_bind_takes_ipv6_in_brackets() -> None:
    assert metrics_server.parse_bind("[::1]:9464") == ("::1", 9464)


def test_empty_bind_serves_nothing(settings: Settings) -> None:
    assert metrics_server.start_metrics(settings.model_copy(update={"metrics_bind": ""})) is None


def test_the_workers_endpoint_serves_its_own_registry(bound: tuple[Settings, str]) -> None:
    settings, url = bound
    QUEUE_DEPTH.labels("jobs").inc(0)
    server = metrics_server.start_metrics(settings, PRODUCT)
    assert server is not None
    try:
        response = httpx.get(url)
        assert response.status_code == 200
        assert "doorstep_queue_depth" in response.text
        assert httpx.get(url.replace("/metrics", "/other")).status_code == 404
    finally:
        server.stop()


def test_with_a_token_a_scrape_must_carry_it(bound: tuple[Settings, str]) -> None:
    settings, url = bound
    token = "scraper-" + uuid.uuid4().hex
    settings = settings.model_copy(update={"metrics_token": SecretStr(token)})
    server = metrics_server.start_metrics(settings, PRODUCT)
    assert server is not None
    try:
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"authorization": "Bearer " + "x" * 40}).status_code == 401
        assert httpx.get(url, headers={"authorization": f"Bearer {token}"}).status_code == 200
    finally:
        server.stop()


def test_the_brokers_depth_is_read_when_scraped(bound: tuple[Settings, str]) -> None:
    settings, url = bound
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    client.delete(*metrics_server.BROKER_KEYS)
    client.hset(metrics_server.BROKER_KEYS[0], mapping={"a": "1", "b": "2"})
    client.hset(metrics_server.BROKER_KEYS[1], mapping={"c": "3"})
    server = metrics_server.start_metrics(settings.model_copy(update={"queue_url": REDIS}))
    assert server is not None
    try:
        text = httpx.get(url).text
        assert 'doorstep_broker_queue_depth{queue="doorstep"} 3.0' in text
        client.delete(*metrics_server.BROKER_KEYS)
        assert 'doorstep_broker_queue_depth{queue="doorstep"} 0.0' in httpx.get(url).text
    finally:
        server.stop()
        client.close()


def test_serve_with_a_taken_metrics_bind_stops_with_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "DOORSTEP_DATA_DIR": str(tmp_path / "data"),
            "DOORSTEP_METRICS_BIND": f"127.0.0.1:{port}",
            "DOORSTEP_PORT": str(serving_port()),
        }
        done = subprocess.run(
            [sys.executable, "-m", "doorstep.cli", "serve"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 3
    assert "cannot serve metrics on DOORSTEP_METRICS_BIND" in done.stdout


def test_doorstep_worker_answers_scrapes_on_its_own_bind(tmp_path: Path) -> None:
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    finally:
        client.close()
    port = serving_port()
    env = {
        **os.environ,
        "DOORSTEP_DATA_DIR": str(tmp_path / "data"),
        "DOORSTEP_QUEUE_URL": REDIS,
        "DOORSTEP_METRICS_BIND": f"127.0.0.1:{port}",
        "DOORSTEP_RETENTION_SWEEP_SECONDS": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "doorstep.worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        text = ""
        for _ in range(300):
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                break
            except httpx.TransportError:
                assert worker.poll() is None, "the worker stopped"
                time.sleep(0.1)
        assert "doorstep_redaction_seconds_count" in text
        assert "doorstep_broker_queue_depth" in text
    finally:
        worker.terminate()
        worker.wait(30)
