"""The boto3 side of the S3 blob store: the client, the bucket, and botocore errors in our words."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from doorstep.errors import ConfigurationError, DoorstepError, NotFound, Unavailable

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

    from doorstep.settings import Settings

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_OUT_OF_RANGE = frozenset({"416", "InvalidRange"})
_REFUSED = frozenset(
    {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket"}
)


def make_client(settings: Settings) -> S3Client:
    """Return an S3 client for the endpoint, credentials and region in the settings."""
    access_key = settings.s3_access_key.get_secret_value() or None
    secret_key = settings.s3_secret_key.get_secret_value() or None
    config = Config(
        # Path-style addressing works with every S3 API (SeaweedFS, MinIO, AWS) without DNS.
        s3={"addressing_style": "path"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        # Not every S3 API accepts the newer default checksums; clips are authenticated anyway.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=settings.s3_region,
        config=config,
    )


def ensure_bucket(client: S3Client, bucket: str) -> None:
    """Create the bucket unless it exists already."""
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as err:
        if error_code(err) not in _MISSING | {"NoSuchBucket"}:
            raise translate(err, what=f"bucket {bucket}") from err
    except BotoCoreError as err:
        raise translate(err, what=f"bucket {bucket}") from err
    else:
        return
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as err:
        # Another process may have created it between the check and here.
        if error_code(err) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise translate(err, what=f"bucket {bucket}") from err
    except BotoCoreError as err:
        raise translate(err, what=f"bucket {bucket}") from err


def error_code(err: ClientError) -> str:
    """Return the S3 error code of a botocore client error."""
    return str(err.response.get("Error", {}).get("Code", ""))


def is_missing(err: ClientError) -> bool:
    """Whether the error says the object is not there."""
    return error_code(err) in _MISSING


def is_out_of_range(err: ClientError) -> bool:
    """Whether the error says a Range starts past the end of the object."""
    return error_code(err) in _OUT_OF_RANGE


def translate(err: Exception, *, what: str) -> DoorstepError:
    """Return the Doorstep error meaning the same as a botocore error about ``what``."""
    if isinstance(err, ClientError):
        code = error_code(err)
        if code in _MISSING:
            return NotFound(f"no blob {what}")
        if code in _REFUSED:
            return ConfigurationError(f"the S3 store refused access to {what}: {code}")
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if status >= 500 or code in {"SlowDown", "Throttling", "RequestTimeout"}:
            return Unavailable(f"the S3 store is not answering for {what}: {code}")
        return DoorstepError(f"the S3 store failed on {what}: {code}")
    return Unavailable(f"the S3 store cannot be reached for {what}: {err}")
