"""`doorstep audit verify`: check the public log against a pinned key and the last checkpoint.

Nothing the server says is taken on trust: the tree head must be signed by the key the verifier
pinned (not the one the response offers), dated no later than now, and provably an extension of the
checkpoint verified last time (a consistency proof); every entry is downloaded and hashed, every
published head and the head read before the report must match the log at its size (none may be
larger than the log), and the transparency report's counts of legal demands and emergency requests
must equal the log's. Two heads the pinned key signed that disagree are kept as evidence. Whatever
shape the server's answers take, a run ends in OK or a one-line reason, never a traceback.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from doorstep.transparency._verify_checks import (
    Tally,
    _check_published_heads,
    _check_report,
    _published_heads,
    _reported,
    _roots_at,
    _Times,
)
from doorstep.transparency._verify_wire import (
    _SHAPE_ERRORS,
    HttpClient,
    _Failed,
    _head,
    _json,
    _list,
    _Malformed,
    _object,
    _str,
)
from doorstep.transparency._verify_witnesses import (
    Served,
    WitnessPolicy,
    key_problem,
    read_served,
)
from doorstep.transparency.merkle import (
    SignedTreeHead,
    checkpoint_problem,
    head_problem,
    key_fingerprint,
)
from doorstep.transparency.pins import Pin, PinStore, server_origin, state_folder


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What verifying the log found.

    ``head`` is the checkpoint to remember when ``ok``; on a failure, the offered head if the
    pinned key signed it (evidence), else None. ``conflicting`` is another head the pinned key
    signed that cannot be true beside ``head`` (read before the report, or published), if any.
    """

    ok: bool
    size: int
    root: str
    problem: str = ""
    head: SignedTreeHead | None = None
    public_key: bytes = b""
    first_use: bool = False
    conflicting: SignedTreeHead | None = None
    witnessed_size: int | None = None
    cosigners: tuple[str, ...] = ()


def _key_changed(pinned: bytes, offered: bytes) -> str:
    return (
        f"the log's key changed: pinned {key_fingerprint(pinned)}, "
        f"the server now signs with {key_fingerprint(offered)}"
    )


def verify_server(
    client: HttpClient,
    *,
    key: bytes | None = None,
    checkpoint: SignedTreeHead | None = None,
    now: datetime | None = None,
    policy: WitnessPolicy | None = None,
) -> AuditReport:
    """Check ``client``'s server against the pinned ``key`` and the remembered ``checkpoint``.

    Without a ``key`` the server's own is used and the report says ``first_use``: that proves only
    that the log agrees with itself. Only a pinned key and a remembered checkpoint (as
    ``verify_and_remember`` keeps them) show the operator did not rewrite it. With a ``policy``,
    ``/checkpoint`` is read first and the log must hash to its root at exactly its size.
    """
    moment = now or datetime.now(UTC)
    run = _Run(key)
    try:
        try:
            _verify(client, run, checkpoint, moment, policy)
        except _SHAPE_ERRORS as err:
            # The checks above name what they expect; this catches what slipped past them.
            raise _Malformed(f"{type(err).__name__} while reading it") from err
    except _Failed as failed:
        # A head the pinned key signed, beside the problem, is the operator's own word against it.
        head = run.head
        return AuditReport(
            False,
            head.size if head else 0,
            head.root.hex() if head else "",
            str(failed),
            head=head if run.signed_by_pin else None,
            public_key=run.pinned,
            conflicting=failed.conflicting if run.signed_by_pin else None,
        )
    assert run.head is not None
    served = run.served
    return AuditReport(
        True,
        run.head.size,
        run.head.root.hex(),
        head=run.head,
        public_key=run.pinned,
        first_use=key is None,
        witnessed_size=served.checkpoint.size if served and policy and policy.keys else None,
        cosigners=served.cosigners if served else (),
    )


class _Run:
    """What one verification learnt so far: the current head, and whether the pin signed it."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self.pinned = key or b""
        self.head: SignedTreeHead | None = None
        self.signed_by_pin = False
        self.served: Served | None = None


def _verify(
    client: HttpClient,
    run: _Run,
    checkpoint: SignedTreeHead | None,
    moment: datetime,
    policy: WitnessPolicy | None,
) -> None:
    # The checkpoint first: an honest log read after it holds at least its entries.
    served = run.served = read_served(client, policy, moment) if policy else None
    before, offered_before = _head(client)
    report = _json(client, "/api/v1/transparency")
    history, history_keys = _published_heads(client)
    head, offered = _head(client)
    run.head = head
    pinned = run.pinned = offered if run.key is None else run.key
    for key_offered in (offered_before, *sorted(history_keys), offered):
        if key_offered != pinned:
            raise _Failed(_key_changed(pinned, key_offered))
    for signed in (before, head):
        problem = head_problem(signed, pinned, moment)
        if problem:
            raise _Failed(problem)
    run.signed_by_pin = True
    if before.size > head.size:
        raise _Failed(
            f"the log shrank from {before.size} to {head.size} entries", conflicting=before
        )
    if checkpoint is not None:
        proof: list[bytes] = []
        if 0 < checkpoint.size < head.size:
            params = {"old": checkpoint.size, "new": head.size}
            answer = _object(_json(client, "/api/v1/audit/proof/consistency", params), "a proof")
            hexes = _list(answer.get("proof"), "the consistency proof")
            try:
                proof = [bytes.fromhex(_str(h, "a proof hash")) for h in hexes]
            except ValueError as err:
                raise _Malformed("the consistency proof is not hex") from err
        problem = checkpoint_problem(checkpoint, head, proof)
        if problem:
            raise _Failed(problem)
    sizes = {head.size, before.size, *(h.size for h in history if h.size <= head.size)}
    if checkpoint is not None:
        sizes.add(checkpoint.size)
    if served is not None:
        if served.checkpoint.size > head.size:
            raise _Failed(
                f"the witnessed checkpoint ({served.checkpoint.size}) is ahead of the log "
                f"served ({head.size})"
            )
        sizes.add(served.checkpoint.size)
    tally = Tally()
    times = _Times(head, checkpoint)
    roots, early = _roots_at(client, head.size, sizes, tally, before.size, times)
    if roots[head.size] != head.root:
        raise _Failed("the entries do not hash to the signed root")
    if checkpoint is not None and roots.get(checkpoint.size) != checkpoint.root:
        raise _Failed(f"the log forked: its first {checkpoint.size} entries changed since verified")
    if roots[before.size] != before.root:
        # Signed by the pinned key, read moments ago, and not this log: two histories.
        raise _Failed(
            f"the log forked: the head read before the report, at {before.size} entries, does "
            "not match the log",
            conflicting=before,
        )
    _check_published_heads(history, pinned, head, roots)
    _check_report(_reported(report), early, tally.counts)
    if served is not None and policy is not None:
        _check_served(served, policy, roots, tally)


def _check_served(
    served: Served, policy: WitnessPolicy, roots: dict[int, bytes], tally: Tally
) -> None:
    """The served checkpoint is this log at exactly its size, signed by the log's checkpoint key."""
    seen = served.checkpoint
    if roots[seen.size] != seen.root:
        shown = base64.b64encode(seen.root).decode()
        raise _Failed(f"the witnesses saw another log: root {shown} at size {seen.size}")
    if policy.log_key is not None and (
        problem := key_problem(served, policy.log_key, tally.rotations)
    ):
        raise _Failed(problem)


@dataclass(frozen=True, slots=True)
class PinnedReport:
    """A verification against a server's pin, and what it remembered."""

    report: AuditReport
    origin: str
    pinned_now: bool
    saved_to: str = ""
    evidence: str = ""


def verify_and_remember(
    server: str,
    *,
    key: bytes | None = None,
    store: PinStore | None = None,
    client: HttpClient | None = None,
    timeout: float = 30.0,
    policy: WitnessPolicy | None = None,
) -> PinnedReport:
    """Verify ``server`` against its pin (made now on first use) and remember the new checkpoint.

    A ``key`` given here must match the pin already kept; the pin is written only when the whole
    log verified, so a failed run leaves the last good checkpoint in place. A failure against a
    head the pinned key signed keeps both heads beside the pin: together they prove the operator
    signed two histories that cannot both be true.
    """
    origin = server_origin(server)
    pins = store or PinStore(state_folder())
    pin = pins.load(origin)
    if pin is not None and key is not None and key != pin.public_key:
        problem = (
            f"the key given ({key_fingerprint(key)}) is not the key pinned for {origin} "
            f"({key_fingerprint(pin.public_key)}) in {pins.path_for(origin)}; "
            "remove that file to pin again"
        )
        return PinnedReport(AuditReport(False, 0, "", problem), origin, False)
    pinned = pin.public_key if pin else key
    checkpoint = pin.checkpoint if pin else None
    if client is None:
        with httpx.Client(base_url=server.rstrip("/"), timeout=timeout) as http:
            report = verify_server(http, key=pinned, checkpoint=checkpoint, policy=policy)
    else:
        report = verify_server(client, key=pinned, checkpoint=checkpoint, policy=policy)
    was_witnessed = pin.witnessed_size if pin else 0
    if report.ok and report.witnessed_size is not None and report.witnessed_size < was_witnessed:
        problem = (
            f"the witnessed checkpoint went back from {was_witnessed} to "
            f"{report.witnessed_size} entries: the server serves an older one"
        )
        return PinnedReport(AuditReport(False, report.size, report.root, problem), origin, False)
    if not report.ok:
        evidence = ""
        # Two heads the pinned key signed that cannot both be true: the one the run found
        # against the current head, else the remembered checkpoint.
        earlier = report.conflicting or checkpoint
        if earlier is not None and report.head is not None:
            kept = pins.keep_evidence(origin, earlier, report.head, report.problem)
            evidence = str(kept)
        return PinnedReport(report, origin, False, evidence=evidence)
    if report.head is None:
        return PinnedReport(report, origin, False)
    witnessed = max(was_witnessed, report.witnessed_size or 0)
    saved = pins.save(Pin(origin, report.public_key, report.head, witnessed))
    return PinnedReport(report, origin, pin is None, str(saved))


def verify_url(server: str, *, timeout: float = 30.0) -> AuditReport:
    """Check that the log of the server at ``server`` agrees with itself, remembering nothing.

    This trusts the key the server offers: it is a self-check, not a check against the operator.
    """
    with httpx.Client(base_url=server.rstrip("/"), timeout=timeout) as client:
        return verify_server(client)
