"""Settings: embedded defaults, the generated master key, production refusing placeholders."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from doorstep.errors import ConfigurationError
from doorstep.master_key import load_master_key, new_master_key
from doorstep.settings import Environment, Settings


def test_defaults_are_the_embedded_deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.data_dir == tmp_path / "doorstep-data"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'doorstep-data'}/doorstep.db"
    assert settings.blob_store == "local"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DOORSTEP_PORT", "9001")
    settings = Settings()
    assert settings.port == 9001
    assert settings.data_dir == tmp_path


def test_the_master_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path)
    first = load_master_key(settings)
    assert len(first) == 32
    assert load_master_key(settings) == first
    mode = stat.S_IMODE((tmp_path / "master.key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("key", ["", "changeme", "placeholder"])
def test_production_refuses_missing_or_placeholder_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValidationError, match="DOORSTEP_MASTER_KEY"):
        Settings(env=Environment.PRODUCTION, data_dir=tmp_path, master_key=key)


def test_production_refuses_keys_of_the_wrong_size(tmp_path: Path) -> None:
    short = base64.b64encode(b"x" * 16).decode()
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(env=Environment.PRODUCTION, data_dir=tmp_path, master_key=short)


def test_production_refuses_placeholder_s3_secrets(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="S3_SECRET_KEY"):
        Settings(
            env=Environment.PRODUCTION,
            data_dir=tmp_path,
            master_key=new_master_key(),
            blob_store="s3",
            s3_access_key="doorstep",
            s3_secret_key="changeme",
        )


def test_production_accepts_a_real_key_and_never_writes_one(tmp_path: Path) -> None:
    key = new_master_key()
    settings = Settings(env=Environment.PRODUCTION, data_dir=tmp_path, master_key=key)
    assert load_master_key(settings) == base64.b64decode(key)
    assert not (tmp_path / "master.key").exists()


def test_a_damaged_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text("not base64 at all!")
    with pytest.raises(ConfigurationError, match="master.key"):
        load_master_key(Settings(data_dir=tmp_path))


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, public_cell_resolution=12)


def test_database_permits_must_leave_pooled_connections_for_jobs(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DOORSTEP_DB_REQUESTS"):
        Settings(data_dir=tmp_path, db_requests=20, db_uploads=6)
    assert Settings(data_dir=tmp_path, db_requests=20, db_uploads=5).db_requests == 20


@pytest.mark.parametrize(
    "proxies",
    [
        "*",
        "127.0.0.1,*",
        "0.0.0.0/0",
        "::/0",
        "128.0.0.0/1",
        "10.0.0.0/7",
        "2001::/16",
        "::ffff:0:0/96",
        "proxy.internal",
    ],
)
def test_trusted_proxies_that_would_let_a_client_choose_its_address_are_refused(
    tmp_path: Path, proxies: str
) -> None:
    with pytest.raises(ValidationError, match="DOORSTEP_TRUSTED_PROXIES"):
        Settings(data_dir=tmp_path, trusted_proxies=proxies)


def test_trusted_proxies_are_addresses_and_proxy_networks(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, trusted_proxies=" 127.0.0.1, 10.1.2.3/24,fd00::/64 ")
    assert settings.proxy_list == ["127.0.0.1", "10.1.2.0/24", "fd00::/64"]


def test_a_turn_credential_lasts_at_most_an_hour(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DOORSTEP_TURN_TTL is 3601 s; at most 3600 s"):
        Settings(data_dir=tmp_path, turn_ttl=3601)
    assert Settings(data_dir=tmp_path, turn_ttl=3600).turn_ttl == 3600


@pytest.mark.parametrize("bind", ["0.0.0.0:9464", "[::]:9464", "metrics.example:9464"])
def test_a_metrics_bind_beyond_loopback_needs_a_token(tmp_path: Path, bind: str) -> None:
    with pytest.raises(ValidationError, match="DOORSTEP_METRICS_TOKEN"):
        Settings(data_dir=tmp_path, metrics_bind=bind)


@pytest.mark.parametrize("bind", ["127.0.0.1:9464", "[::1]:9464", "localhost:9464"])
def test_a_loopback_metrics_bind_needs_no_token(tmp_path: Path, bind: str) -> None:
    assert Settings(data_dir=tmp_path, metrics_bind=bind).metrics_bind == bind


def test_a_metrics_bind_beyond_loopback_with_a_token_is_accepted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, metrics_bind="0.0.0.0:9464", metrics_token="t" * 16)
    assert settings.metrics_bind == "0.0.0.0:9464"
