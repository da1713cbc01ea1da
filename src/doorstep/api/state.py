"""What one running app holds: settings, database, keys, metrics; no module-level singletons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client import CollectorRegistry

from doorstep.api.admission import Admission
from doorstep.bus.live import LiveHub
from doorstep.bus.memory import MemoryBus
from doorstep.bus.mqtt import MqttBus, SharedLive
from doorstep.settings import Settings
from doorstep.storage.accounts import ThrottlePolicy
from doorstep.storage.blobs import BlobStore
from doorstep.storage.clips import WORK_FOLDER, Keys
from doorstep.storage.db import Database


@dataclass
class AppState:
    """Everything a request handler may reach, built once by ``create_app``."""

    settings: Settings
    db: Database
    master_key: bytes
    blobs: BlobStore
    bus: MemoryBus | MqttBus = field(default_factory=MemoryBus)
    live: LiveHub | SharedLive = field(default_factory=LiveHub)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    admission: Admission = field(init=False)
    upload_admission: Admission = field(init=False)

    def __post_init__(self) -> None:
        self.admission = Admission(self.settings.db_requests)
        self.upload_admission = Admission(self.settings.db_uploads)

    @property
    def keys(self) -> Keys:
        """What reading or writing footage needs."""
        return Keys(
            master=self.master_key, blobs=self.blobs, scratch=self.settings.data_dir / WORK_FOLDER
        )

    @property
    def throttle(self) -> ThrottlePolicy:
        """The login throttling policy from settings."""
        return ThrottlePolicy(
            max_failures=self.settings.login_max_failures,
            lockout=timedelta(minutes=self.settings.login_lockout_minutes),
        )

    @property
    def session_ttl(self) -> timedelta:
        """How long a browser session lasts."""
        return timedelta(hours=self.settings.session_ttl_hours)
