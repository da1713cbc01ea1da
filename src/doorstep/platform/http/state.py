"""What one running app holds: settings, database, keys, metrics; no module-level singletons."""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client import CollectorRegistry

from doorstep.accounts.throttle_rules import Backoff, Limits, Window
from doorstep.platform.blobs import BlobStore
from doorstep.platform.bus.live import LiveHub
from doorstep.platform.bus.memory import MemoryBus
from doorstep.platform.bus.mqtt import MqttBus, SharedLive
from doorstep.platform.db import Database
from doorstep.platform.http.admission import Admission
from doorstep.platform.keys import WORK_FOLDER, Keys
from doorstep.settings import Settings

#: The wait after the first login failure over the free ones; it doubles with each after.
FIRST_DELAY = timedelta(seconds=2)


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

    @functools.cached_property
    def limits(self) -> Limits:
        """Every throttle, from the settings: the one place their numbers are read."""
        settings = self.settings
        window = timedelta(minutes=settings.throttle_window_minutes)
        cap = timedelta(seconds=settings.login_max_delay_seconds)
        return Limits(
            sign_in_source=Window(settings.login_failures_per_address, window),
            sign_in_account=Backoff(
                free=settings.login_max_failures,
                first_delay=min(FIRST_DELAY, cap),
                cap=cap,
                forget_after=max(window, cap),
            ),
            sign_up_address=Window(settings.sign_ups_per_address, window),
            pairing_address=Window(settings.pairing_failures_per_address, window),
        )

    @functools.cached_property
    def throttle_secret(self) -> bytes:
        """The key of the throttle counters' hashes and of known-device cookies."""
        return hmac.new(self.master_key, b"doorstep throttle", hashlib.sha256).digest()

    @property
    def session_ttl(self) -> timedelta:
        """How long a browser session lasts."""
        return timedelta(hours=self.settings.session_ttl_hours)
