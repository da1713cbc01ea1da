"""Schemathesis over the app's /openapi.json: no 5xx, and no answer the schema does not describe.

Every operation in the schema gets a bounded number of generated requests, both schema-valid and
deliberately invalid, sent in-process to the ASGI app: once with no credentials and once as a
logged-in resident (session cookie and CSRF header) who owns a camera, clips, a post and the rest
of the hostile-input neighbourhood, so generated bodies reach the code behind the permission
checks. About half of the requests use the neighbourhood's real ids in the path.

``DOORSTEP_SCHEMATHESIS_EXAMPLES`` sets how many requests each operation gets per caller (default
6); ``DOORSTEP_SCHEMATHESIS_CALLERS`` adds roles for a deeper run, e.g.
``anonymous,owner,agent,reviewer,admin``. Generation is derandomized, so CI sends the same
requests each run, and Hypothesis keeps no example database.
"""

from __future__ import annotations

import logging
import os
import re
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup
from schemathesis.python.asgi import shutdown_lifespans

from doorstep.platform.http.deps import CSRF_HEADER, SESSION_COOKIE
from tests.hostile.conftest import build_world

# Read at import: the suite's autouse fixture clears DOORSTEP_* variables before each test runs.
EXAMPLES = int(os.environ.get("DOORSTEP_SCHEMATHESIS_EXAMPLES", "6"))
#: Who sends the requests: "anonymous" or roles of the hostile-input world (tests/hostile/conftest).
CALLERS = os.environ.get("DOORSTEP_SCHEMATHESIS_CALLERS", "anonymous,owner").split(",")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
Operation = APIOperation[Any, Any, Any, Any]
#: Answers that never end while the client stays: the live view's MJPEG stream only ever gets
#: generated ids (tests/agent/test_live.py covers its stream), and the event stream is read for a
#: moment.
ENDLESS = "GET /api/v1/cameras/{camera_id}/live"
STREAM = "GET /api/v1/events"
_PATH_PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Caller:
    """Who sends the generated requests: extra headers and cookies on every one."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One kind of failure on one operation, with the first request that showed it."""

    operation: str
    caller: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.operation} as {self.caller}: {self.kind}\n{self.detail}"


@dataclass
class Tally:
    """What the run did and what it found."""

    operations: int = 0
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)

    def crashed(self, operation: str, caller: str, case: Case[Any], error: Exception) -> None:
        """An exception the app raised past its handlers: a 500 to a real client."""
        kind = f"Server error ({type(error).__name__})"
        key = (operation, caller, kind)
        if key not in self.findings:
            where = "".join(traceback.format_exception(error, limit=-4))
            detail = f"{where}\n{case.as_curl_command()}"
            self.findings[key] = Finding(operation, caller, kind, detail[-3000:])

    def record(self, operation: str, caller: str, group: FailureGroup) -> None:
        """Keep the first example of each kind of failure per operation and caller."""
        for failure in group.exceptions:
            key = (operation, caller, failure.title)
            if key not in self.findings:
                detail = str(group).strip()
                self.findings[key] = Finding(operation, caller, failure.title, detail[:3000])


def _ordered(operations: list[Operation]) -> list[Operation]:
    # Deletions last, and logging out and closing the account last of all, so the resident's
    # session and objects survive until every other operation has been tried with them.
    def key(operation: Operation) -> tuple[int, str]:
        if operation.method.upper() != "DELETE":
            rank = 0
        elif operation.path in ("/api/v1/session", "/api/v1/me"):
            rank = 2
        else:
            rank = 1
        return rank, operation.label

    return sorted(operations, key=key)


def _cases(operation: Operation, mode: GenerationMode, ids: dict[str, str]) -> Any:
    generated = operation.as_strategy(generation_mode=mode)
    known = {name: ids[name] for name in _PATH_PARAMETER.findall(operation.path) if name in ids}
    if not known or operation.label == ENDLESS:
        return generated
    return st.one_of(generated, operation.as_strategy(generation_mode=mode, path_parameters=known))


def _fuzz(
    operation: Operation, caller: Caller, ids: dict[str, str], tally: Tally
) -> Callable[[], None]:
    def send(case: Case[Any]) -> None:
        timeout = 1 if operation.label == STREAM else 10
        tally.calls += 1
        try:
            response = case.call(headers=caller.headers, cookies=caller.cookies, timeout=timeout)
        except Exception as error:
            # In-process, an unhandled error reaches the caller after its 500 went out.
            tally.crashed(operation.label, caller.name, case, error)
            return
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=caller.headers)
        except FailureGroup as group:
            # Collected rather than raised: one run reports every operation, and nothing shrinks.
            tally.record(operation.label, caller.name, group)

    strategies = [_cases(operation, mode, ids) for mode in MODES]
    configured = settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    return configured(given(case=st.one_of(*strategies))(send))


@pytest.fixture
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis caches under a temporary folder, not the work tree; the app stops with the test.

    Schemathesis starts the app's lifespan itself and would otherwise end it only at exit.
    """
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    shutdown_lifespans()
    set_hypothesis_home_dir(None)


@pytest.mark.usefixtures("isolated")
def test_every_operation_survives_generated_requests(
    app: FastAPI, clip_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(app, clip_bytes)
    callers = [Caller("anonymous")]
    for role in CALLERS:
        if role != "anonymous":
            session = world.clients[role].cookies.get(SESSION_COOKIE)
            assert session, role
            cookies = {SESSION_COOKIE: session}
            callers.append(Caller(role, {CSRF_HEADER: world.csrf[role]}, cookies))
    config = schemathesis.Config.from_dict({"cache": {"enabled": False}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    found = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            pytest.fail(f"schemathesis cannot read an operation: {result.err()}")
        found.append(result.ok())
    operations = _ordered(found)
    tally = Tally(operations=len(operations))
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="doorstep"):
        for caller in callers:
            for operation in operations:
                _fuzz(operation, caller, world.ids, tally)()
    elapsed = time.monotonic() - started
    for client in world.clients.values():
        client.close()

    summary = (
        f"{tally.operations} operations, {tally.calls} requests in {elapsed:.0f}s, "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    print(summary)
    errors = "\n".join(record.getMessage() for record in caplog.records)
    findings = "\n\n".join(str(finding) for finding in tally.findings.values())
    assert not tally.findings, (
        f"{len(tally.findings)} failures ({summary}):\n\n{findings}\n\nserver log:\n{errors}"
    )
    assert tally.calls >= tally.operations * len(callers)
