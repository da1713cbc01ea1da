"""Move a finished blob from its work key to its final key, whole or not at all."""

from __future__ import annotations

import os

from botocore.exceptions import BotoCoreError, ClientError

from doorstep.platform import _s3
from doorstep.platform.blobs import BlobStore, LocalBlobStore, S3BlobStore, blob_label, validate_key
from doorstep.platform.folders import private_folder


def work_key(final_key: str) -> str:
    """Where a job writes before the output is complete; the same key on every retry."""
    return "jobs/" + validate_key(final_key)


def promote(blobs: BlobStore, source: str, target: str) -> None:
    """Move ``source`` to ``target``: a rename on disk, a server-side copy on S3."""
    if isinstance(blobs, LocalBlobStore):
        destination = blobs.root.joinpath(*validate_key(target).split("/"))
        private_folder(destination.parent)
        os.replace(blobs.root.joinpath(*validate_key(source).split("/")), destination)
        return
    if isinstance(blobs, S3BlobStore):
        try:
            # S3 makes the copy visible only once it is complete.
            blobs.client.copy_object(
                Bucket=blobs.bucket,
                Key=validate_key(target),
                CopySource={"Bucket": blobs.bucket, "Key": validate_key(source)},
            )
        except (ClientError, BotoCoreError) as err:
            raise _s3.translate(err, what=blob_label(target)) from err
        blobs.delete(source)
        return
    raise TypeError(f"cannot move blobs in a {type(blobs).__name__}")
