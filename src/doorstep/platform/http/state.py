"""What one running app holds: settings, database, keys, metrics; no module-level singletons."""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from doorstep.platform.blobs import BlobStore
from doorstep.platform.bus.held import HeldFiles
from doorstep.platform.bus.live import LiveHub
from doorstep.platform.bus.memory import MemoryBus
from doorstep.platform.bus.mqtt import MqttBus, SharedHeld, SharedLive
from doorstep.platform.db import Database
from doorstep.platform.http.admission import Admission
from doorstep.platform.keys import WORK_FOLDER, Keys
from doorstep.settings import Settings


@dataclass
class AppState:
    """Everything a request handler may reach, built once by ``create_app``."""

    settings: Settings
    db: Database
    master_key: bytes
    blobs: BlobStore
    bus: MemoryBus | MqttBus = field(default_factory=MemoryBus)
    live: LiveHub | SharedLive = field(default_factory=LiveHub)
    #: Files kept only in memory for a short while (a doorbell's snapshot).
    held: HeldFiles | SharedHeld = field(default_factory=HeldFiles)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    #: Every throttle (``accounts.throttle_rules.Limits``), built from the settings by the
    #: composition root (``app.create_app``); platform serves accounts and cannot name its types.
    limits: Any = None
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

    @functools.cached_property
    def throttle_secret(self) -> bytes:
        """The key of the throttle counters' hashes and of known-device cookies."""
        return hmac.new(self.master_key, b"doorstep throttle", hashlib.sha256).digest()

    @property
    def session_ttl(self) -> timedelta:
        """How long a browser session lasts."""
        return timedelta(hours=self.settings.session_ttl_hours)
