"""Throughput of the encrypted clip store next to plain file copies of the same bytes.

Run: ``.venv/bin/python bench/storage.py [--size-mb 200] [--ranges 400] [--dir /tmp]``.
Each row compares one job done three ways in the same run: ``shutil`` on a plain file, the local
blob store without encryption, and the local blob store with Doorstep's chunked AES-256-GCM.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from doorstep.platform.blobs import LocalBlobStore
from doorstep.platform.crypto import EncryptingReader, decrypt_range, decrypt_stream, new_key

MIB = 1024 * 1024


def _write_source(path: Path, size: int) -> None:
    # Random bytes, as compressed video is; nothing gets a free ride from repetition.
    with path.open("wb") as out:
        for _ in range(size // MIB):
            out.write(os.urandom(MIB))
        out.write(os.urandom(size % MIB))


def _mb_per_s(size: int, job: Callable[[], object]) -> float:
    started = time.perf_counter()
    job()
    return size / MIB / (time.perf_counter() - started)


def _drain(pieces: Iterable[bytes]) -> int:
    return sum(len(piece) for piece in pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--ranges", type=int, default=400, help="random 1 MiB Range reads")
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    size = args.size_mb * MIB
    rng = random.Random(1)
    starts = [rng.randrange(size - MIB) for _ in range(args.ranges)]

    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        root = Path(scratch)
        source = root / "clip.mp4"
        _write_source(source, size)
        store = LocalBlobStore(root / "blobs")
        key = new_key()
        sealed_size = 0

        def copy_plain() -> None:
            shutil.copyfile(source, root / "copy.mp4")

        def put_plain() -> None:
            with source.open("rb") as src:
                store.put("plain.mp4", src)

        def put_sealed() -> None:
            nonlocal sealed_size
            with source.open("rb") as src:
                sealed_size = store.put("sealed.dsc", EncryptingReader(src, key))

        def read_copy() -> None:
            with (root / "copy.mp4").open("rb") as src:
                _drain(iter(lambda: src.read(MIB), b""))

        def stream_plain() -> None:
            _drain(store.open_stream("plain.mp4"))

        def stream_sealed() -> None:
            _drain(decrypt_stream(store.open_stream("sealed.dsc"), key))

        def ranges_copy() -> None:
            with (root / "copy.mp4").open("rb") as src:
                for start in starts:
                    src.seek(start)
                    src.read(MIB)

        def ranges_plain() -> None:
            for start in starts:
                store.read_at("plain.mp4", start, MIB)

        def ranges_sealed() -> None:
            def read_at(offset: int, length: int) -> bytes:
                return store.read_at("sealed.dsc", offset, length)

            for start in starts:
                decrypt_range(read_at, key, start, start + MIB - 1, sealed_size)

        ranged = args.ranges * MIB
        rows = [
            ("write (upload)", size, copy_plain, put_plain, put_sealed),
            ("read whole (playback)", size, read_copy, stream_plain, stream_sealed),
            (
                f"{args.ranges} random 1 MiB ranges",
                ranged,
                ranges_copy,
                ranges_plain,
                ranges_sealed,
            ),
        ]
        print(f"clip of {args.size_mb} MiB; MB = MiB; page cache warm after the first write;")
        print("store writes fsync before rename, shutil.copyfile does not\n")
        columns = ("shutil MB/s", "store MB/s", "sealed MB/s", "sealed/shutil")
        header = f"{'job':<28} " + " ".join(f"{name:>13}" for name in columns)
        print(header)
        print("-" * len(header))
        for name, amount, *jobs in rows:
            copy, plain, sealed = (_mb_per_s(amount, job) for job in jobs)
            print(f"{name:<28} {copy:>13.0f} {plain:>13.0f} {sealed:>13.0f} {sealed / copy:>13.0%}")
        print(f"\nsealed size {sealed_size} bytes, {sealed_size / size - 1:.3%} over the clip")


if __name__ == "__main__":
    main()
