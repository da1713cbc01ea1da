"""One settings object for the whole service, read from ``DOORSTEP_*`` environment variables.

The defaults are the embedded deployment: a SQLite file and clips in a data folder under the
working directory, nothing to configure. In production every secret must be given and must not
be a placeholder.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from doorstep.master_key import decode_master_key
from doorstep.platform.observe.collector import check_collector
from doorstep.platform.proxies import check_proxy
from doorstep.settings_relays import RelaySettings

#: Database permits a process may hand out: the pool holds 30 connections (platform/db.py).
MAX_DB_PERMITS = 25
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "password", "placeholder", "xxx", "todo", "default"}
)


class Environment(StrEnum):
    """Where the service runs; production refuses generated or placeholder secrets."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(RelaySettings):
    """Every knob Doorstep has; each is a ``DOORSTEP_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="DOORSTEP_", extra="forbid", frozen=True)

    env: Environment = Field(
        Environment.DEVELOPMENT, description="development, test or production."
    )
    data_dir: Path = Field(
        Path("doorstep-data"), description="Folder for the SQLite file, clips and the master key."
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means a SQLite file in the data folder."
    )
    master_key: SecretStr = Field(
        SecretStr(""),
        description="Base64 of 32 random bytes wrapping every owner's data key. Generated into the "
        "data folder on first start when empty (refused in production).",
    )
    host: str = Field("127.0.0.1", description="Address `doorstep serve` listens on.")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(8000, description="Port to listen on.")
    public_url: str = Field(
        "",
        description="Public base URL, e.g. https://doorstep.example; enables Secure cookies/HSTS.",
    )
    session_ttl_hours: Annotated[int, Field(ge=1, le=24 * 90)] = Field(
        24 * 14, description="How long a browser session lasts."
    )
    login_max_failures: Annotated[int, Field(ge=1, le=100)] = Field(
        5,
        description="Failed logins for one email, from devices that never signed in to it, "
        "before each further attempt waits a little longer (never longer than the next setting). "
        "A device that signed in before is never held up by other people's failures.",
    )
    login_max_delay_seconds: Annotated[int, Field(ge=1, le=600)] = Field(
        120, description="The longest wait between login attempts for one email."
    )
    login_failures_per_address: Annotated[int, Field(ge=1, le=10_000)] = Field(
        20,
        description="Failed logins from one client address (or one device that signed in "
        "before) per throttle window; the rest wait for the next window.",
    )
    sign_ups_per_address: Annotated[int, Field(ge=1, le=10_000)] = Field(
        5, description="Sign-up attempts from one client address per throttle window."
    )
    pairing_failures_per_address: Annotated[int, Field(ge=1, le=10_000)] = Field(
        10, description="Pairing codes from one client address that did not work, per window."
    )
    throttle_window_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = Field(
        15, description="The window of the per-address limits above."
    )
    trusted_proxies: str = Field(
        "",
        description="Addresses (or networks, e.g. 10.0.0.0/24) of reverse proxies whose "
        "X-Forwarded-For names the client, comma-separated; empty believes no such header. The "
        "client address is what the per-address limits count, so '*' and networks as wide as "
        "0.0.0.0/0 are refused: any client could name its own address.",
    )
    log_addresses: bool = Field(
        False, description="Log each request's client network (/24 IPv4, /48 IPv6) for abuse."
    )
    log_format: Literal["json", "plain"] = Field(
        "json", description="Log lines of `serve` and `worker`: JSON objects or plain text."
    )
    otel_endpoint: str = Field(
        "",
        pattern=r"^(https?://\S+)?$",
        description="OTLP/HTTP collector for request traces (https://host:4318; http:// only "
        "to loopback); empty: none.",
    )
    public_cell_resolution: Annotated[int, Field(ge=0, le=9)] = Field(
        8, description="H3 resolution of every location shown to anyone but its owner (at most 9)."
    )
    camera_map_k: Annotated[int, Field(ge=2, le=1000)] = Field(
        5, description="Camera-map cells with fewer cameras than this are suppressed."
    )
    emergency_publication_delay_days: Annotated[int, Field(ge=0, le=365)] = Field(
        30, description="Days after its decision an emergency request is published for review."
    )
    max_upload_mb: Annotated[int, Field(ge=1, le=10_000)] = Field(
        200, description="Largest clip or image upload accepted, in MiB."
    )
    db_requests: Annotated[int, Field(ge=1, le=25)] = Field(
        4,
        description="Requests that may work with the database at once in each API process; the "
        "rest wait their turn without holding a thread, and get 503 after 10 s.",
    )
    db_uploads: Annotated[int, Field(ge=1, le=25)] = Field(
        1,
        description="Clip uploads from cameras that may work with the database at once in each "
        "API process, apart from the requests above: a burst of uploads cannot hold up residents' "
        "pages, and cameras keep their clips until there is room.",
    )
    base_map: Path | None = Field(
        None,
        description="The street base map under every map: a PMTiles archive of vector tiles in "
        "the Protomaps basemap schema (see Maps in the README). Empty means "
        "maps/base.pmtiles in the data folder; no file there draws maps without streets.",
    )
    geocoder_url: str = Field(
        "",
        description="Base URL of a Nominatim-compatible service for address search, e.g. "
        "https://nominatim.example.org; the typed address is sent there. Empty searches the "
        "gazetteer in the data folder (maps/gazetteer.json, which the demo writes), if any.",
        pattern=r"^(https?://\S+)?$",
    )
    place_searches_per_address: Annotated[int, Field(ge=1, le=10_000)] = Field(
        60, description="Address searches from one client address per throttle window."
    )
    blob_store: Literal["local", "s3"] = Field("local", description="Where clips live.")
    s3_endpoint_url: str = Field("", description="S3 endpoint, e.g. http://127.0.0.1:8333.")
    s3_bucket: str = Field("doorstep", description="S3 bucket for clips.")
    s3_access_key: SecretStr = Field(SecretStr(""), description="S3 access key id.")
    s3_secret_key: SecretStr = Field(SecretStr(""), description="S3 secret access key.")
    s3_region: str = Field("us-east-1", description="S3 region name.")
    retention_sweep_seconds: Annotated[int, Field(ge=0, le=86400)] = Field(
        300, description="How often expired clips are shredded; 0 turns the in-process sweep off."
    )
    metrics_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token a scrape of the metrics bind must send; empty asks none "
        "(then the bind must be loopback).",
    )
    metrics_bind: str = Field(
        "",
        description="host:port of the Prometheus endpoint, apart from the public port, e.g. "
        "127.0.0.1:9464; empty turns metrics off.",
        pattern=r"^(\S+:\d{1,5})?$",
    )
    mqtt_url: str = Field(
        "",
        description="mqtt://host:port or mqtts://user:password@host:port (TLS) of a broker; "
        "empty keeps events in-process.",
    )
    mqtt_ca_file: str = Field(
        "", description="With mqtts://: the PEM CA of a private broker; empty trusts the system's."
    )
    mqtt_cert_file: str = Field(
        "", description="With mqtts://: a client certificate and its key in one PEM, if asked."
    )
    queue_url: str = Field(
        "",
        description="redis://host:port/db of the task queue's broker; empty runs background jobs "
        "on threads inside each `doorstep serve` process.",
    )
    queue_heartbeat_seconds: Annotated[int, Field(ge=2, le=3600)] = Field(
        60,
        description="With a task queue: how long a silent `doorstep worker` is presumed dead "
        "before its unfinished jobs go to another worker.",
    )
    job_threads: Annotated[int, Field(ge=1, le=64)] = Field(
        2,
        description="Threads running background jobs: in each `doorstep serve` process without a "
        "task queue, in each `doorstep worker` process with one.",
    )
    share_wait_seconds: Annotated[int, Field(ge=0, le=600)] = Field(
        120,
        description="Without a task queue: how long an owner's answer waits for the agency copy "
        "before returning with the share still preparing.",
    )

    push_allow_loopback: bool = Field(
        False,
        description="Also accept http://127.0.0.1 and http://[::1] push endpoints (the demo and "
        "the tests run their push service there); otherwise only https endpoints whose host "
        "resolves to public addresses only.",
    )
    push_subject: str = Field(
        "mailto:operator@doorstep.invalid",
        description="The VAPID `sub` claim: a mailto: or https: contact push services may use "
        "to reach the operator about the pushes.",
        pattern=r"^(mailto:|https://)\S+$",
    )
    push_threads: Annotated[int, Field(ge=1, le=64)] = Field(
        4,
        description="Threads sending Web Push messages, in each process that runs push jobs.",
    )
    vapid_private_key: SecretStr = Field(
        SecretStr(""),
        description="The Web Push (VAPID) private key, as PEM or base64url raw P-256; empty "
        "generates one into the data folder (vapid-private.pem) on first use.",
    )

    audit_origin: str = Field("", description="Audit checkpoints' origin (host/path/audit).")
    witnesses: str = Field("", description="Witnesses to ask: comma-separated 'VERIFIERKEY URL'.")
    witness_quorum: Annotated[int, Field(ge=0, le=16)] = Field(0, description="Cosigns needed.")
    apprise_targets: bool = Field(
        False,
        description="Let users add Apprise URLs (ntfy://, gotify://, json:// ...) as notification "
        "targets; Doorstep then connects to whatever address they give, so self-hosters only.",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("base_map", mode="before")
    @classmethod
    def _base_map_path(cls, value: object) -> object:
        # DOORSTEP_BASE_MAP= (empty) is the default, not the working directory.
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return Path(str(value)).expanduser().resolve()

    @field_validator("metrics_token")
    @classmethod
    def _guessable_metrics_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if token and (token.strip().lower() in PLACEHOLDER_SECRETS or len(token) < 16):
            raise ValueError(
                "DOORSTEP_METRICS_TOKEN must be empty (no token asked) or at least 16 random "
                "characters, e.g. `doorstep admin new-key`"
            )
        return value

    @model_validator(mode="after")
    def _public_metrics_need_a_token(self) -> Settings:
        # Metrics count every route's traffic: only the machine itself may read them unasked.
        if self.metrics_bind and not self.metrics_token.get_secret_value():
            host = self.metrics_bind.rpartition(":")[0].strip("[]")
            if not _is_loopback(host):
                raise ValueError(
                    "DOORSTEP_METRICS_BIND on an address other than loopback needs "
                    "DOORSTEP_METRICS_TOKEN (at least 16 random characters)"
                )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for part in (part.strip() for part in value.split(",")):
            if part:
                check_proxy(part)
        return value

    @field_validator("otel_endpoint")
    @classmethod
    def _traces_over_tls(cls, value: str) -> str:
        check_collector(value)
        return value

    @model_validator(mode="after")
    def _permits_fit_the_pool(self) -> Settings:
        # Jobs and health checks open sessions without a permit; they need connections left.
        if self.db_requests + self.db_uploads > MAX_DB_PERMITS:
            raise ValueError(
                f"DOORSTEP_DB_REQUESTS + DOORSTEP_DB_UPLOADS may be at most {MAX_DB_PERMITS}: "
                "each permit needs a pooled connection and the rest are for background jobs"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            key = self.master_key.get_secret_value()
            if key.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    "DOORSTEP_MASTER_KEY must be set to a real key in production "
                    "(base64 of 32 random bytes, e.g. `doorstep admin new-key`)"
                )
            decode_master_key(key)
            if self.blob_store == "s3":
                for name in ("s3_access_key", "s3_secret_key"):
                    secret: SecretStr = getattr(self, name)
                    if secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                        raise ValueError(f"DOORSTEP_{name.upper()} must be set in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'doorstep.db'}"

    @property
    def base_map_path(self) -> Path:
        """Where the base map archive is: the setting, or maps/base.pmtiles in the data folder."""
        return self.base_map or self.data_dir / "maps" / "base.pmtiles"

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get the Secure flag (the service is reached over HTTPS)."""
        return self.public_url.startswith("https://")

    @property
    def proxy_list(self) -> list[str]:
        """The reverse proxies whose forwarding headers are believed, as uvicorn reads them."""
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return [
            str(ipaddress.ip_network(part, strict=False)) if "/" in part else part
            for part in parts
            if part
        ]

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.max_upload_mb * 1024 * 1024


def _is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere
