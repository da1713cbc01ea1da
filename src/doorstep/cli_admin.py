"""`doorstep admin backup | restore | rotate-master-key`: the operator's care of data and keys."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from doorstep.errors import ConfigurationError, InvalidInput


def _human(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a backup file while the server keeps running."""
    from doorstep.backup import MAX_RETENTION, backup
    from doorstep.settings import Settings

    if args.include_master_key:
        print(
            "WARNING: this backup holds the master key: whoever has the file can open every "
            "clip in it. Keep it as you keep the key itself.",
            file=sys.stderr,
        )
    started = time.monotonic()
    out = Path(args.file)
    manifest = backup(Settings(), out, include_master_key=args.include_master_key)
    took = time.monotonic() - started
    counts = manifest.counts
    print(
        f"backup written to {out} ({_human(out.stat().st_size)}, {took:.1f} s): schema "
        f"{manifest.schema_revision}, {counts.get('clips', 0)} clips, {counts['blobs']} blobs, "
        f"{counts['files']} key and data files"
    )
    if not args.include_master_key:
        print("the master key is not in it: keep it apart; a restore needs it")
    print(
        "it holds clips deleted after it was taken until it is destroyed: keep it no longer "
        f"than {MAX_RETENTION.days} days (the longest clip retention; restore refuses it after)"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup into an empty data folder and an empty database."""
    from doorstep.backup import restore
    from doorstep.settings import Settings

    if args.older_than_retention:
        print(
            "WARNING: restoring a backup older than the longest clip retention brings back "
            "clips their owners deleted since it was taken, until they expire again",
            file=sys.stderr,
        )
    started = time.monotonic()
    key_file = Path(args.master_key_file) if args.master_key_file else None
    restored = restore(
        Settings(),
        Path(args.file),
        master_key_file=key_file,
        older_than_retention=args.older_than_retention,
    )
    manifest = restored.manifest
    print(
        f"restored the backup of {manifest.created} (schema {manifest.schema_revision}, "
        f"{manifest.counts.get('blobs', 0)} blobs) in {time.monotonic() - started:.1f} s; "
        "the database is migrated to this version's schema"
    )
    if restored.master_key_written:
        print("the master key was written to the data folder's master.key")
    print(f"{restored.shredded} clips past their retention were shredded before serving")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    """Move every data key to a new master key; the old one is refused after."""
    from doorstep.master_key import decode_master_key
    from doorstep.rotation import rotate_master_key
    from doorstep.settings import Settings

    settings = Settings()
    if settings.queue_url and not args.queue_drained:
        raise ConfigurationError(
            "jobs on the task queue are sealed under the current master key: stop `doorstep "
            "serve`, let the workers empty the queue, stop them, then pass --queue-drained"
        )
    new_key = None
    if args.new_key_file:
        try:
            new_key = decode_master_key(Path(args.new_key_file).read_text())
        except (OSError, ValueError) as err:
            raise InvalidInput(f"--new-key-file: {err}") from err
    result = rotate_master_key(settings, new_key)
    if result.finished_earlier_run:
        print("finished the master key rotation an earlier run began")
    else:
        moved = ", ".join(f"{count} {what}" for what, count in result.counts.items())
        print(f"re-wrapped under the new master key: {moved}")
    if result.key_in_environment:
        print(
            f"the new key is in {result.new_key_at}: put its contents in DOORSTEP_MASTER_KEY "
            "wherever the server and workers read it, then delete that file (run this command "
            "again once DOORSTEP_MASTER_KEY holds it, and it deletes the file)"
        )
    else:
        print(f"the new key is in {result.new_key_at}")
    print(
        "the old master key is refused from now on. Email links (address checks, password "
        "resets) sent before the rotation no longer open: ask for a new one. The audit log's "
        "signing key did not change."
    )
    return 0


def add_admin_parsers(admin_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add backup, restore and rotate-master-key to `doorstep admin`."""
    backup = admin_sub.add_parser(
        "backup", help="back up the database, blobs and key files into one file, while serving"
    )
    backup.add_argument("file", help="the backup file to write (a new .tar)")
    backup.add_argument(
        "--include-master-key",
        action="store_true",
        help="put the master key in the backup too (then the file opens every clip)",
    )
    backup.set_defaults(func=cmd_backup)
    restore = admin_sub.add_parser(
        "restore", help="restore a backup into an empty data folder and an empty database"
    )
    restore.add_argument("file", help="the backup file")
    restore.add_argument(
        "--master-key-file", help="the master key the backup was made under (base64, one line)"
    )
    restore.add_argument(
        "--older-than-retention",
        action="store_true",
        help="restore a backup older than the longest clip retention (it holds deleted clips)",
    )
    restore.set_defaults(func=cmd_restore)
    rotate = admin_sub.add_parser(
        "rotate-master-key", help="re-wrap every data key under a new master key (server stopped)"
    )
    rotate.add_argument("--new-key-file", help="the new key (base64, one line); else a new one")
    rotate.add_argument(
        "--queue-drained",
        action="store_true",
        help="with a task queue: confirm the workers emptied it and were stopped",
    )
    rotate.set_defaults(func=cmd_rotate)
