"""The `doorstep` command: version, demo folder rules, migrate, admin create-user, detect."""

from __future__ import annotations

import gc
import json
import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from doorstep import __version__
from doorstep.accounts.models import User
from doorstep.cameras.models import Camera
from doorstep.cli import app_from_env, main
from doorstep.demo.run import DEMO_LOGINS, MARKER
from doorstep.neighbors.models import Post
from doorstep.neighbors.rules import PostCategory
from doorstep.platform.db import Database


def _emails(data_dir: Path) -> list[str]:
    db = Database(f"sqlite:///{data_dir / 'doorstep.db'}")
    with db.session() as session:
        emails = sorted(session.scalars(select(User.email)))
    db.dispose()
    return emails


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_demo_prepares_its_own_folder_and_prints_the_logins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--seed-only"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000" in out
    for login in DEMO_LOGINS:
        assert login.email in out
    demo_dir = tmp_path / "doorstep-demo"
    assert (demo_dir / MARKER).exists()
    assert set(_emails(demo_dir)) >= {login.email for login in DEMO_LOGINS}
    assert sorted(p.name for p in (demo_dir / "doorbells").iterdir()) == ["camera-1", "camera-2"]
    assert (demo_dir / "doorbells" / "camera-1" / "scene.mp4").stat().st_size > 10_000
    assert main(["demo", "--seed-only"]) == 0
    db = Database(f"sqlite:///{demo_dir / 'doorstep.db'}")
    with db.session() as session:
        owner = session.scalars(select(User).where(User.email == DEMO_LOGINS[0].email)).one()
        names = sorted(camera.name for camera in owner.cameras)
        homes = session.scalar(select(func.count()).select_from(User)) or 0
        cameras = session.scalar(select(func.count()).select_from(Camera)) or 0
        categories = set(session.scalars(select(Post.category)))
    db.dispose()
    assert names == ["Front door", "Side gate"]
    assert homes >= 300
    assert cameras >= 60
    assert categories == {category.value for category in PostCategory}


def _without_history(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests are about the folder and the environment; tests/test_demo.py seeds the
    # public-safety history (which redacts footage) once for all of its checks.
    monkeypatch.setattr("doorstep.demo.run.seed_history", lambda *_args: None)


def test_demo_reset_starts_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _without_history(monkeypatch)
    assert main(["demo", "--seed-only"]) == 0
    leftover = tmp_path / "doorstep-demo" / "leftover.txt"
    leftover.write_text("old")
    assert main(["demo", "--seed-only", "--reset"]) == 0
    assert not leftover.exists()
    assert (tmp_path / "doorstep-demo" / MARKER).exists()


def test_the_demo_console_shows_progress_and_no_log_lines_unless_asked(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    _without_history(monkeypatch)
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", root.level)  # put back after the test
    root.setLevel(logging.INFO)  # as `doorstep` sets it in a terminal
    assert main(["demo", "--seed-only"]) == 0
    assert capsys.readouterr().out.startswith("Preparing the demo neighbourhood")
    assert [r.getMessage() for r in caplog.records if r.levelno < logging.WARNING] == []
    assert main(["demo", "--seed-only", "--reset", "--verbose"]) == 0
    assert any("Running upgrade" in r.getMessage() for r in caplog.records)


def test_the_demo_server_logs_warnings_only_and_serve_logs_requests() -> None:
    from doorstep.platform.http.serving import uvicorn_options
    from doorstep.settings import Settings

    quiet, loud = uvicorn_options(Settings(), quiet=True), uvicorn_options(Settings())
    assert (quiet["log_level"], quiet["log_config"]["root"]["level"]) == ("warning", "WARNING")
    assert (loud["log_level"], loud["log_config"]["root"]["level"]) == ("info", "INFO")
    assert quiet["access_log"] is loud["access_log"] is False


def test_demo_never_touches_a_folder_it_did_not_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "doorstep-data"
    real.mkdir()
    (real / "doorstep.db").write_text("precious")
    assert main(["demo", "--seed-only", "--reset", "--data-dir", str(real)]) == 2
    assert "not a demo folder" in capsys.readouterr().err
    assert (real / "doorstep.db").read_text() == "precious"


def test_demo_ignores_doorstep_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _without_history(monkeypatch)
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{tmp_path / 'production.db'}")
    assert main(["demo", "--seed-only"]) == 0
    assert not (tmp_path / "production.db").exists()


def test_migrate_and_create_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    assert main(["migrate"]) == 0
    monkeypatch.setenv("DOORSTEP_NEW_PASSWORD", "review-desk-42")
    code = main(
        [
            "admin",
            "create-user",
            "--email",
            "rev@example.org",
            "--name",
            "Rev",
            "--role",
            "reviewer",
        ]
    )
    assert code == 0
    assert "created reviewer rev@example.org" in capsys.readouterr().out
    assert _emails(tmp_path) == ["rev@example.org"]


def test_create_user_with_a_weak_password_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DOORSTEP_NEW_PASSWORD", "short")
    assert main(["admin", "create-user", "--email", "a@example.org", "--name", "A"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err


def test_invalid_settings_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOORSTEP_PORT", "not-a-port")
    assert main(["migrate"]) == 2
    assert "invalid settings" in capsys.readouterr().err


def test_the_servers_app_keeps_its_startup_objects_out_of_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOORSTEP_ENV", "test")
    database = tmp_path / "data" / "doorstep.db"
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{database}")
    gc.unfreeze()
    try:
        app = app_from_env()
        assert gc.get_freeze_count() > 0
        app.state.shutdown()  # type: ignore[attr-defined]
    finally:
        gc.unfreeze()


def _road() -> Path:
    road = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "road.avi"
    if not road.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the shared footage at {road}")
        pytest.skip(f"shared footage not found at {road}")
    return road


def test_detect_lists_each_nth_frames_objects_as_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["detect", str(_road()), "--json", "--every", "120"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert out.startswith('{\n  "')  # indented by 2
    assert (document["width"], document["height"], document["fps"]) == (640, 360, 30.0)
    assert "error" not in document
    frames = document["frames"]
    assert [f["index"] for f in frames] == [0, 120, 240, 360]
    assert frames[1]["time"] == pytest.approx(4.0)
    for frame in frames:
        for seen in frame["objects"]:
            assert set(seen) == {"label", "score", "box"}
            assert seen["label"] in ("person", "vehicle", "bicycle", "animal")
            assert 0 <= seen["box"][0] < seen["box"][2] <= 640


def test_detect_prints_a_table_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", str(_road()), "--every", "200"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["frame", "time", "s", "objects"]
    assert [line.split()[0] for line in lines[1:]] == ["0", "200"]


def test_detect_on_a_corrupt_video_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    assert main(["detect", str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("doorstep detect: error:")
    assert "Traceback" not in err
    assert "Errno" not in err
    assert err.count("broken.mp4") == 1
    assert len(err.splitlines()) == 1
    assert main(["detect", str(tmp_path / "missing.mp4")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_detect_on_a_truncated_video_lists_the_frames_before_the_damage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _road().read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 3])
    assert main(["detect", str(cut), "--json", "--every", "60"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    indexes = [f["index"] for f in document["frames"]]
    assert indexes[:2] == [0, 60]
    assert "damaged or truncated after" in document["error"]
    assert document["width"] == 640
    assert captured.err.startswith("doorstep detect: error:")
    assert main(["detect", str(cut), "--every", "60"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == [str(i) for i in indexes]


def test_detect_without_the_model_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from doorstep.media import _ssd

    monkeypatch.setattr(_ssd, "model_dir", lambda: tmp_path)
    assert main(["detect", str(_road())]) == 1
    err = capsys.readouterr().err
    assert "pip install cam2text==0.1.1" in err
    assert "Traceback" not in err


def test_audit_key_prints_the_checkpoint_origin_and_verifier_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from doorstep.transparency import checkpoint_store
    from doorstep.transparency.note import parse_verifier_key

    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DOORSTEP_PUBLIC_URL", "https://doors.example/n")
    # Outside a server's data folder there is no key to print, and none is made up.
    assert main(["audit", "key"]) == 2
    assert "no checkpoint key in" in capsys.readouterr().err
    assert not (tmp_path / checkpoint_store.KEY_FILE).exists()
    checkpoint_store.signing_key(tmp_path)  # as the server makes it when it starts
    assert main(["audit", "key"]) == 0
    first = capsys.readouterr().out
    assert "origin: doors.example/n/audit\n" in first
    key = parse_verifier_key(first.split("verifier key: ")[1])
    assert key.name == "doors.example/n/audit"
    assert main(["audit", "key"]) == 0
    assert capsys.readouterr().out == first


def test_audit_rotate_key_puts_a_new_key_in_use_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from doorstep.transparency import checkpoint_store

    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    checkpoint_store.signing_key(tmp_path)
    assert main(["audit", "key"]) == 0
    before = capsys.readouterr().out
    assert main(["audit", "rotate-key"]) == 0
    after = capsys.readouterr().out
    assert after != before
    assert main(["audit", "key"]) == 0
    assert capsys.readouterr().out == after
    assert len(list(tmp_path.glob("audit-checkpoint.key.retired-*"))) == 1
