"""What an agency copy's signed provenance says, for a share's copy and a disclosure's alike.

The manifest names no resident: the camera is a pseudonym scoped to the request or demand the
copy answers (the same camera reads alike within one case, and unlinkably across cases), the
window is the clip's, and the source is the clip's uploaded hash under an HMAC scoped the same way
(the raw hash would link one clip's copies, and so the camera's pseudonyms, across cases).
"""

from __future__ import annotations

from collections.abc import Sequence

from doorstep.clips.models import Clip
from doorstep.media.provenance import (
    Provenance,
    SigningIdentity,
    camera_pseudonym,
    signing_identity,
    source_digest,
)
from doorstep.platform.keys import Keys
from doorstep.requests.rules_terms import ONWARD_USE_TERMS, TERMS_VERSION


def copy_provenance(
    keys: Keys,
    clip: Clip,
    *,
    purpose: str,
    reference: str,
    scope: str,
    faces_redacted: bool,
    faces_found: int,
    lines: Sequence[str],
) -> Provenance:
    """The manifest of a copy of ``clip``; never called for an end-to-end encrypted clip."""
    if clip.e2e:
        # The server never holds an end-to-end encrypted clip's footage, so it signs nothing.
        raise ValueError("an end-to-end encrypted clip has no server-side copy to sign")
    return Provenance(
        camera=camera_pseudonym(keys.master, scope, clip.camera_id),
        captured_from=clip.started_at,
        captured_to=clip.ended_at,
        source_hmac=source_digest(keys.master, scope, clip.content_sha256),
        purpose=purpose,
        reference=reference,
        terms=ONWARD_USE_TERMS,
        terms_version=TERMS_VERSION,
        faces_redacted=faces_redacted,
        faces_found=faces_found,
        watermark=tuple(lines),
    )


def operator_signing(keys: Keys) -> SigningIdentity:
    """The operator's signing certificate, kept in the data folder beside the work folder."""
    return signing_identity(keys.scratch.parent)


def operator_root(keys: Keys) -> str:
    """The root certificate (PEM) every agency copy's signature chains to, for verifiers."""
    return operator_signing(keys).root_pem
