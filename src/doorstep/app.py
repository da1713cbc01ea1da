"""The app factory: ``create_app(settings)`` builds one Doorstep web app (API and pages)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import doorstep.tasks  # noqa: F401 - registers every feature's background tasks
from doorstep import __version__
from doorstep.accounts import api as accounts
from doorstep.accounts import pages, pages_email, throttling
from doorstep.accounts.service import AUTHENTICATOR
from doorstep.accounts.throttle_rules import Backoff, Limits, Window
from doorstep.agencies import api as agencies
from doorstep.agencies import pages as agency_pages
from doorstep.bystanders import api as bystanders
from doorstep.bystanders import pages as bystander_pages
from doorstep.cameras import api as cameras
from doorstep.cameras import device_api as devices
from doorstep.cameras import pages as camera_pages
from doorstep.clips import api as clips
from doorstep.clips import events_api as events
from doorstep.clips import jobs as clip_jobs
from doorstep.doorbell import api as doorbell
from doorstep.doorbell import device_api as doorbell_devices
from doorstep.doorbell.jobs import DOORBELL_SWEEP
from doorstep.errors import ConfigurationError
from doorstep.invitations import api as invitations
from doorstep.invitations import pages as invitation_pages
from doorstep.legal import api as legal
from doorstep.legal import pages as legal_pages
from doorstep.maps import api as maps
from doorstep.master_key import let_go, load_master_key, rotation_pending
from doorstep.neighbors import api as neighbors
from doorstep.neighbors import pages as feed_pages
from doorstep.notify import api as push
from doorstep.notify import pages as app_pages
from doorstep.notify import service as notify
from doorstep.notify.jobs import NOTIFY_EVENT
from doorstep.partnerships import api as partnerships
from doorstep.partnerships import pages as partnership_pages
from doorstep.pets import api as pets
from doorstep.pets import pages as pet_pages
from doorstep.pets.jobs import PET_SWEEP
from doorstep.platform import keycheck
from doorstep.platform.blobs import make_blob_store
from doorstep.platform.bus.mqtt import MqttBus
from doorstep.platform.db import Database
from doorstep.platform.folders import private_folder
from doorstep.platform.http import middleware, problems, system
from doorstep.platform.http.render import STATIC
from doorstep.platform.http.state import AppState
from doorstep.platform.migrate import migrate
from doorstep.platform.queue import core as queue
from doorstep.platform.queue.scheduler import Scheduler
from doorstep.requests import api as requests
from doorstep.requests import pages as request_pages
from doorstep.settings import Settings
from doorstep.transparency import api as transparency
from doorstep.transparency import audit_api as audit
from doorstep.transparency import pages as transparency_pages
from doorstep.transparency import receipts_api as receipts


def _swagger_assets() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


log = logging.getLogger(__name__)

DESCRIPTION = """\
Doorstep's API. Browsers use a session cookie (send the `csrf_token` you got at login as the
`X-CSRF-Token` header on every change); scripts and cameras use `Authorization: Bearer <token>`.
Every error is `application/problem+json`.
"""


#: Every router, in the order a request is matched against them, at a few microseconds a route:
#: the busiest (cameras uploading, residents reading their feed and timeline) first. No path of
#: one router matches a route of another (tests/platform/test_api_system.py), so the order changes
#: nothing but speed.
ROUTERS = (
    devices.router,
    doorbell_devices.router,
    clips.router,
    neighbors.router,
    system.router,
    accounts.router,
    cameras.router,
    events.router,
    doorbell.router,
    audit.router,
    receipts.router,
    agencies.router,
    requests.router,
    bystanders.router,
    legal.router,
    partnerships.router,
    transparency.router,
    invitations.router,
    push.router,
    maps.router,
    pets.router,
    legal_pages.router,
    partnership_pages.router,
    transparency_pages.router,
    feed_pages.router,
    camera_pages.router,
    agency_pages.router,
    request_pages.router,
    pet_pages.router,
    bystander_pages.router,
    invitation_pages.router,
    pages_email.router,
    app_pages.router,
    pages.router,
)


#: The wait after the first login failure over the free ones; it doubles with each after.
FIRST_DELAY = timedelta(seconds=2)


def throttle_limits(settings: Settings) -> Limits:
    """Every throttle, from the settings: the one place their numbers are read."""
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
        place_search_address=Window(settings.place_searches_per_address, window),
    )


class _Sent:
    """The receipt of a job nobody waits for."""

    def wait(self, timeout: float) -> bool:
        del timeout
        return False


class _PushLane:
    """The job queue, but push jobs go to their own pool (if any) and are never waited for."""

    def __init__(self, jobs: queue.JobQueue, pushes: queue.JobQueue | None) -> None:
        self._jobs = jobs
        self._pushes = pushes

    def send(self, task: str, *args: str) -> queue.Receipt:
        """Hand the task over; a push job's receipt says nothing to wait for."""
        if task != NOTIFY_EVENT:
            return self._jobs.send(task, *args)
        (self._pushes or self._jobs).send(task, *args)
        return _Sent()

    def close(self) -> None:
        """Close both queues."""
        self._jobs.close()
        if self._pushes is not None:
            self._pushes.close()


def create_app(settings: Settings, *, run_migrations: bool = True) -> FastAPI:
    """Build the app for ``settings``; migrations run first unless the caller already did."""
    # Before anything is written there: the data folder is the operator's alone.
    private_folder(settings.data_dir, tighten=True)
    transparency.check_settings(settings)
    db = Database(settings.resolved_database_url)
    if run_migrations:
        migrate(db.engine)
    transparency.finish_rotation(settings, db)
    master_key = load_master_key(settings)
    try:
        with db.session() as session:
            # Before anything is served: a wrong master key is one line now, not one per clip.
            keycheck.check(session, master_key, rotation_pending=rotation_pending(settings))
    except ConfigurationError:
        db.dispose()
        raise
    state = AppState(
        settings=settings,
        db=db,
        master_key=master_key,
        blobs=make_blob_store(settings),
        limits=throttle_limits(settings),
    )
    if settings.mqtt_url:
        # Several API processes: alerts go through the broker to whichever holds the page.
        state.bus = MqttBus(
            settings.mqtt_url,
            master_key=state.master_key,
            ca_file=settings.mqtt_ca_file,
            cert_file=settings.mqtt_cert_file,
        )
        # Live view too: the owner's stream and the camera's agent may be on different processes.
        state.live = state.bus.live
        # And a doorbell's snapshot, held in memory by every process for its short while.
        state.held = state.bus.held

    context = queue.JobContext(db, state.keys, settings)
    jobs = queue.make_queue(settings, context)
    # Pushes in a lane of their own: a request never waits for one, and a ring's push never
    # waits behind a redaction on the shared pool.
    lanes = _PushLane(
        jobs,
        queue.InProcessQueue(context, threads=1, lane="pushes") if not settings.queue_url else None,
    )
    queue.dispatch_after_commit(
        db._factory, lanes, wait_seconds=0 if settings.queue_url else settings.share_wait_seconds
    )
    notify.start_pushes(db, settings)
    clip_jobs.clear_stale_files(settings.data_dir)
    scheduler = Scheduler()
    scheduler.add("stale-files", 600, partial(clip_jobs.clear_stale_files, settings.data_dir))
    scheduler.add("throttles", 3600, partial(throttling.forget_stale_counters, state))
    # With a task queue the sweeps belong to `doorstep worker`, not to every API process.
    if settings.retention_sweep_seconds and not settings.queue_url:
        for task in (queue.RETENTION_SWEEP, queue.SHARE_SWEEP, DOORBELL_SWEEP, PET_SWEEP):
            scheduler.add(task, settings.retention_sweep_seconds, partial(jobs.send, task))
    if settings.retention_sweep_seconds:
        scheduler.add(
            "notices", settings.retention_sweep_seconds, partial(legal.send_due_notices, state)
        )
        scheduler.add(
            "tree-heads",
            settings.retention_sweep_seconds,
            partial(transparency.publish_heads, state),
        )

    closed: list[bool] = []
    lifespans: list[bool] = []

    def shutdown() -> None:
        # Stop the threads once, then close every pooled connection (again, if need be: a
        # connection opened since the last call belongs to a fresh pool and must go too).
        if not closed:
            closed.append(True)
            scheduler.stop()
            lanes.close()
            notify.stop_pushes(db)
            if isinstance(state.bus, MqttBus):
                state.bus.close()
            let_go(master_key)
        db.dispose()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Lifespans may overlap (two clients of one app); the last one to end shuts down.
        lifespans.append(True)
        scheduler.start()
        try:
            yield
        finally:
            lifespans.pop()
            if not lifespans:
                shutdown()

    app = FastAPI(
        title="Doorstep",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.doorstep = state
    # Platform resolves who is calling through this; it imports no feature to do so.
    app.state.authenticator = AUTHENTICATOR
    # For callers that never ran the lifespan (tests driving the app without starting it).
    app.state.shutdown = shutdown
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static/swagger", StaticFiles(directory=_swagger_assets()), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Outermost last: headers go on every response, including the body-limit refusals.
    app.add_middleware(middleware.Metrics, registry=state.registry)
    app.add_middleware(
        middleware.AccessLog,
        addresses=settings.log_addresses,
        traces=settings.otel_endpoint,
        proxies=settings.proxy_list,
    )
    app.add_middleware(middleware.BodyLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(middleware.RejectNul)
    app.add_middleware(middleware.SecurityHeaders, hsts=settings.secure_cookies)
    return app
