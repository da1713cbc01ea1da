"""The multiprocess metrics folder: rebuilt safely at each start, a temporary one gone at exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import values

from doorstep.platform.http import metrics_server
from doorstep.settings import Settings


@pytest.fixture
def restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo what ``prepare_multiprocess`` does to this process when the test ends."""
    monkeypatch.setenv(metrics_server.MULTIPROC_ENV, "")
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)


@pytest.mark.usefixtures("restored")
def test_a_symlink_in_place_of_the_folder_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    data, precious = tmp_path / "data", tmp_path / "precious"
    data.mkdir()
    precious.mkdir()
    (precious / "keep").write_text("mine")
    (data / metrics_server.METRICS_FOLDER).symlink_to(precious)
    with pytest.raises(ValueError, match="symbolic link"):
        metrics_server.prepare_multiprocess(Settings(data_dir=data))
    assert (precious / "keep").read_text() == "mine"


@pytest.mark.usefixtures("restored")
def test_a_file_in_place_of_the_folder_is_replaced(tmp_path: Path) -> None:
    (tmp_path / metrics_server.METRICS_FOLDER).write_text("left over")
    folder = metrics_server.prepare_multiprocess(Settings(data_dir=tmp_path))
    assert folder == tmp_path / metrics_server.METRICS_FOLDER
    assert folder.is_dir()
    assert list(folder.iterdir()) == []


def test_a_temporary_folder_is_removed_when_serve_exits(tmp_path: Path) -> None:
    script = (
        "from doorstep.platform.http.metrics_server import prepare_multiprocess\n"
        "from doorstep.settings import Settings\n"
        f"folder = prepare_multiprocess(Settings(data_dir={str(tmp_path / 'none')!r}))\n"
        "(folder / 'counter_1.db').write_bytes(b'x')\n"
        "print(folder)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    folder = Path(done.stdout.strip())
    assert folder.name.startswith("doorstep-metrics-")
    assert not folder.exists()
