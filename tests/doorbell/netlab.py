"""A network lab for the NAT test: two homes that cannot reach each other, one TURN relay between.

Three network namespaces, wired with veth pairs through iproute2:

- ``agent`` (the doorbell's home) and ``browser`` (the owner's phone, elsewhere) each have a link
  to the root namespace, where the Doorstep server listens, and a link to ``relay``;
- ``relay`` runs Debian's coturn (``turnserver``, REST-API credentials from a shared secret) on a
  third address that both homes route to, and nothing else: it does not forward, so the homes have
  no path to each other but through the TURN relay itself;
- tcpdump records every packet the relay namespace sees, so a test can read what the relay saw.

Every name carries the test process id and a random suffix, and every address comes from a /24 of
10.0.0.0/8 that no route of the root namespace uses yet, so parallel runs do not clash. Everything
is torn down on exit, whatever happened; a later run removes the labs of test processes that died.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import os
import random
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import service_missing

TURN_PORT = 3478
READY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Home:
    """One side of the call: its namespace, its addresses, and the server address it uses."""

    namespace: str
    server_host: str  # the root namespace's address on this home's link: where it finds the server
    address: str  # this home's address on its link to the root namespace
    relay_link: str  # this home's address on its link to the relay namespace

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run a command inside this home's namespace, capturing its output."""
        return _ip("netns", "exec", self.namespace, *command, check=False)

    def popen(self, command: Sequence[str], **kwargs: object) -> subprocess.Popen[str]:
        """Start a long-running process inside this home's namespace."""
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            ["ip", "netns", "exec", self.namespace, *command], text=True, **kwargs
        )


@dataclass(frozen=True)
class Lab:
    """The running lab: both homes, the relay's address and secret, and its capture file."""

    agent: Home
    browser: Home
    relay_namespace: str
    relay_ip: str
    turn_secret: str
    capture: Path
    turn_log: Path
    dump: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def turn_url(self) -> str:
        """The relay as the server hands it out (DOORSTEP_TURN_URLS)."""
        return f"turn:{self.relay_ip}:{TURN_PORT}?transport=udp"

    def turn_credentials(self, name: str = "lab", ttl: int = 600) -> tuple[str, str]:
        """Credentials of coturn's REST API: ``<expiry>:<name>``, base64(HMAC-SHA1(secret, it))."""
        username = f"{int(time.time()) + ttl}:{name}"
        digest = hmac.new(self.turn_secret.encode(), username.encode(), hashlib.sha1).digest()
        return username, base64.b64encode(digest).decode()

    def stop_capture(self) -> bytes:
        """End the relay's capture once it has written every packet, and return its bytes.

        On a busy machine tcpdump lags behind the kernel; stopped at once, it would drop the
        packets it still holds. The call is over, so the file stops growing when it caught up.
        """
        deadline, size, still = time.monotonic() + READY_TIMEOUT_S, -1, 0
        while still < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            grown = self.capture.stat().st_size
            still, size = (still + 1 if grown == size else 0), grown
        for process in self.dump:
            _stop(process)
        return self.capture.read_bytes()


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def _require_tools() -> None:
    if os.geteuid() != 0:
        service_missing("root (network namespaces for the NAT lab)")
    for tool in ("ip", "turnserver", "tcpdump"):
        if shutil.which(tool) is None:
            service_missing(f"{tool} (the NAT lab)")
    probe = f"ds-probe-{uuid.uuid4().hex[:6]}"
    if _ip("netns", "add", probe, check=False).returncode != 0:
        service_missing("ip netns (the NAT lab)")
    _ip("netns", "del", probe, check=False)


def _free_block() -> ipaddress.IPv4Network:
    used = [
        ipaddress.ip_network(line.split()[0], strict=False)
        for line in _ip("-4", "route", "show", "table", "all").stdout.splitlines()
        if line and line.split()[0][0].isdigit()
    ]
    used += [
        ipaddress.ip_network(line.split()[3], strict=False)
        for line in _ip("-4", "-o", "addr").stdout.splitlines()
    ]
    for _ in range(200):
        block = ipaddress.IPv4Network(f"10.{random.randint(64, 254)}.{random.randint(0, 255)}.0/24")
        if not any(block.overlaps(net) for net in used if net.prefixlen > 0):
            return block
    raise RuntimeError("no free 10.x.y.0/24 for the NAT lab")


def _wire(stack: ExitStack, left: str | None, right: str, link: str, hosts: list[str]) -> None:
    """A veth pair between namespace ``left`` (None: root) and ``right``, /30 addresses on each."""
    a, b = f"{link}a", f"{link}b"
    _ip("link", "add", a, "type", "veth", "peer", "name", b)
    stack.callback(_ip, "link", "del", a, check=False)  # deleting one end deletes both
    if left is not None:
        _ip("link", "set", a, "netns", left)
    _ip("link", "set", b, "netns", right)
    for namespace, device, host in ((left, a, hosts[0]), (right, b, hosts[1])):
        _in(namespace, "addr", "add", f"{host}/30", "dev", device)
        _in(namespace, "link", "set", device, "up")


def _internet(namespace: str, link: str, address: str, gateway: str) -> None:
    """A default route in ``namespace`` into a sink, as a relay on the internet has one.

    coturn drops an allocation when sending to a peer fails (no route), as it would to a home's
    private address; on the internet such packets leave and are lost. Here they leave through a
    veth pair whose far end discards them (addressed to a made-up MAC), so the relay, like a real
    one, can try every candidate and reaches only the homes' links to it.
    """
    near, far = f"{link}a", f"{link}b"
    _ip(
        "link",
        "add",
        near,
        "netns",
        namespace,
        "type",
        "veth",
        "peer",
        "name",
        far,
        "netns",
        namespace,
    )
    _in(namespace, "addr", "add", f"{address}/30", "dev", near)
    for device in (near, far):
        _in(namespace, "link", "set", device, "up")
    _in(
        namespace,
        "neigh",
        "add",
        gateway,
        "lladdr",
        "02:00:5e:00:00:01",
        "dev",
        near,
        "nud",
        "permanent",
    )
    _in(namespace, "route", "add", "default", "via", gateway, "dev", near)


def _in(namespace: str | None, *args: str) -> None:
    """``ip ARGS`` in ``namespace`` (None: the root namespace)."""
    _ip(*args) if namespace is None else _ip("netns", "exec", namespace, "ip", *args)


def _wait_for(predicate: object, what: str, process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not become ready in {READY_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=3)


@contextmanager
def started(command: Sequence[str], **kwargs: object) -> Iterator[subprocess.Popen[str]]:
    """A child process that is stopped (TERM, then KILL) on exit, whatever happened."""
    process: subprocess.Popen[str] = subprocess.Popen(  # type: ignore[call-overload]
        list(command), text=True, **kwargs
    )
    try:
        yield process
    finally:
        _stop(process)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def _sweep_abandoned() -> None:
    """Remove the labs of test processes that are gone, and the processes still inside them."""
    for line in _ip("netns", "list").stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        parts = name.split("-")
        if len(parts) != 3 or parts[0] != "ds" or len(parts[1]) < 4:
            continue
        try:
            creator = int(parts[1][:-3], 16)
        except ValueError:
            continue
        if Path(f"/proc/{creator}").exists():
            continue
        for pid in _ip("netns", "pids", name, check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        _ip("netns", "del", name, check=False)


def _turn_ready(lab: Lab) -> bool:
    listening = _ip("netns", "exec", lab.relay_namespace, "ss", "-uln", check=False).stdout
    return f"{lab.relay_ip}:{TURN_PORT}" in listening


@contextmanager
def nat_lab(folder: Path) -> Iterator[Lab]:
    """Build the lab, start coturn and the capture, yield it; tear everything down on exit."""
    _require_tools()
    _sweep_abandoned()
    # The creating process's id, then randomness: unique among parallel runs, and a later run can
    # tell a lab whose test process died (SIGKILL skips every cleanup) from a live one.
    suffix = f"{os.getpid():x}{uuid.uuid4().hex[:3]}"
    hosts = [str(host) for host in _free_block()]  # hosts[n] is .n of the block
    names = {role: f"ds-{suffix}-{role}" for role in ("agent", "browser", "relay")}
    with ExitStack() as stack:
        for namespace in names.values():
            _ip("netns", "add", namespace)
            stack.callback(_ip, "netns", "del", namespace, check=False)
            _ip("netns", "exec", namespace, "ip", "link", "set", "lo", "up")
        # /30 links at .0 .4 .8 .12 of the block (root or relay side first), the relay on .17
        _wire(stack, None, names["agent"], f"ds{suffix}r", [hosts[1], hosts[2]])
        _wire(stack, None, names["browser"], f"ds{suffix}s", [hosts[5], hosts[6]])
        _wire(stack, names["relay"], names["agent"], f"ds{suffix}t", [hosts[9], hosts[10]])
        _wire(stack, names["relay"], names["browser"], f"ds{suffix}u", [hosts[13], hosts[14]])
        relay_ip = hosts[17]
        relay = names["relay"]
        _ip("netns", "exec", relay, "ip", "addr", "add", f"{relay_ip}/32", "dev", "lo")
        _ip("netns", "exec", relay, "sysctl", "-qw", "net.ipv4.ip_forward=0")
        _internet(relay, f"ds{suffix}v", hosts[21], hosts[22])
        _ip("netns", "exec", names["agent"], "ip", "route", "add", relay_ip, "via", hosts[9])
        _ip("netns", "exec", names["browser"], "ip", "route", "add", relay_ip, "via", hosts[13])
        lab = Lab(
            agent=Home(names["agent"], hosts[1], hosts[2], hosts[10]),
            browser=Home(names["browser"], hosts[5], hosts[6], hosts[14]),
            relay_namespace=relay,
            relay_ip=relay_ip,
            turn_secret=uuid.uuid4().hex,
            capture=folder / "relay.pcap",
            turn_log=folder / "turnserver.log",
        )
        dump_log = folder / "tcpdump.log"
        dump = stack.enter_context(
            started(
                ["ip", "netns", "exec", relay, "tcpdump", "-i", "any", "-U", "-s", "0", "-n"]
                + ["-w", str(lab.capture), "udp"],
                stderr=stack.enter_context(dump_log.open("w")),
                stdout=subprocess.DEVNULL,
            )
        )
        _wait_for(lambda: "listening on" in dump_log.read_text(), "tcpdump", dump)
        lab.dump.append(dump)
        turn = stack.enter_context(
            started(
                ["ip", "netns", "exec", relay, "turnserver", "-n", "--no-cli", "--no-tls"]
                + ["--no-dtls", "--no-tcp", "--no-tcp-relay", "--fingerprint"]
                + ["--use-auth-secret", f"--static-auth-secret={lab.turn_secret}"]
                + ["--realm=doorstep.test", f"--listening-ip={relay_ip}"]
                + [f"--relay-ip={relay_ip}", f"--listening-port={TURN_PORT}"]
                + ["--min-port=49152", "--max-port=65535", f"--db={folder / 'turndb'}"]
                + [f"--pidfile={folder / 'turnserver.pid'}", f"--log-file={lab.turn_log}"]
                + ["--simple-log", "--no-software-attribute", "--verbose"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        )
        _wait_for(lambda: _turn_ready(lab), "turnserver", turn)
        yield lab
