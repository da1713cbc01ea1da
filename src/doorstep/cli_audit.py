"""`doorstep audit`: verify the public log, check deletion receipts, print or rotate its key."""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path
from typing import Any

from doorstep.errors import DoorstepError


def cmd_audit_key(args: argparse.Namespace) -> int:
    """Print the origin and verifier key of the log's checkpoints; rotate it first if asked."""
    from doorstep.transparency.service_checkpoints import key_command

    return key_command(rotate=args.audit_command == "rotate-key")


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Verify the public audit log against the pinned key and the last checkpoint kept here."""
    import httpx

    from doorstep.transparency._verify_witnesses import policy_from
    from doorstep.transparency.merkle import key_fingerprint
    from doorstep.transparency.pins import parse_public_key
    from doorstep.transparency.verify import verify_and_remember

    try:
        key = parse_public_key(args.key) if args.key else None
        # Witnesses and the checkpoint key are checked in the run, before anything is pinned.
        policy = policy_from(args)
        result = verify_and_remember(args.server, key=key, policy=policy)
    except DoorstepError as err:
        print(f"doorstep audit verify: {err.detail}", file=sys.stderr)
        return 2
    except (httpx.HTTPError, KeyError, TypeError, ValueError) as err:
        print(f"doorstep audit verify: could not read the log from {args.server}: {err}")
        return 2
    report = result.report
    if not report.ok:
        kept = f" (the signed heads are kept as evidence in {result.evidence})"
        evidence = kept if result.evidence else ""
        print(f"audit log FAILED at size {report.size}: {report.problem}{evidence}")
        return 1
    if result.pinned_now:
        pinned = f"{key_fingerprint(report.public_key)} for {result.origin}"
        kept = f"kept with the checkpoint in {result.saved_to}"
        if key is None:
            print(
                f"WARNING: trusting the server on first use: pinned its log key {pinned} "
                f"(base64 {base64.b64encode(report.public_key).decode()}), {kept}; check that key "
                "against one published elsewhere, or pin it with --key",
                file=sys.stderr,
            )
        else:
            print(f"pinned the log key {pinned} given with --key, {kept}", file=sys.stderr)
    print(f"audit log OK: {report.size} entries, root {report.root}")
    if report.witnessed_size is not None:
        print(
            f"witnessed: its first {report.witnessed_size} entries, cosigned by "
            f"{', '.join(report.cosigners) or 'no witness'} within --max-age"
        )
    return 0


def cmd_audit_receipt(args: argparse.Namespace) -> int:
    """Check a deletion receipt offline, against the log keys given."""
    from doorstep.transparency.pins import parse_public_key
    from doorstep.transparency.rules_receipts import explain

    try:
        keys = [parse_public_key(key) for key in args.key]
        text = Path(args.file).read_text()
    except (DoorstepError, OSError) as err:
        print(f"doorstep audit receipt: {getattr(err, 'detail', err)}", file=sys.stderr)
        return 2
    code, line = explain(text, keys)
    print(line)
    return code


def add_audit_parser(sub: Any) -> None:
    """Add `doorstep audit` and its actions to the command line's subcommands."""
    audit = sub.add_parser("audit", help="the public audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_sub.add_parser(
        "verify",
        help="verify the audit log against its pinned key and the last checkpoint",
        description="Download and verify the public audit log. The log's key is pinned on first "
        "use (or from --key) and the last verified checkpoint kept, per server, in "
        "$XDG_STATE_HOME/doorstep/audit/ (~/.local/state/doorstep/audit/); a later run fails if "
        "the key changed or the log shrank or forked since.",
    )
    verify.add_argument("--server", default="http://127.0.0.1:8000", help="Doorstep's address")
    verify.add_argument(
        "--key", help="the log's public key to pin: base64, hex, or a file holding it (or PEM)"
    )
    verify.add_argument(
        "--witness",
        action="append",
        default=[],
        help="a witness's verifier key whose cosignature /checkpoint must carry (repeatable)",
    )
    verify.add_argument(
        "--quorum", type=int, help="how many of the --witness keys must cosign (default: all)"
    )
    verify.add_argument(
        "--max-age",
        type=int,
        default=24 * 60 * 60,
        help="refuse witness cosignatures older than this many seconds (default: one day)",
    )
    verify.add_argument("--log-key", help="the checkpoint key to pin (doorstep audit key)")
    verify.set_defaults(func=cmd_audit_verify)
    receipt = audit_sub.add_parser(
        "receipt",
        help="check a deletion receipt offline (no network)",
        description="Check that "
        "a deletion receipt's entry is in a tree head signed by the log's key.",
    )
    receipt.add_argument("file", help="the receipt (JSON) to check")
    receipt.add_argument(
        "--key",
        action="append",
        default=[],
        help="the log's public key "
        "(base64, hex, or a file holding it); repeat for a key before a change",
    )
    receipt.set_defaults(func=cmd_audit_receipt)
    key = audit_sub.add_parser(
        "key", help="print the origin and verifier key of the log's checkpoints (/checkpoint)"
    )
    key.set_defaults(func=cmd_audit_key)
    rotate = audit_sub.add_parser(
        "rotate-key", help="retire the checkpoint key for a new one, through a signed log entry"
    )
    rotate.set_defaults(func=cmd_audit_key)
