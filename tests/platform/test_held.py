"""Held files (a doorbell's snapshot) stay within a memory budget and a per-camera bound."""

from __future__ import annotations

from doorstep.platform.bus.held import MAX_BYTES, HeldFiles


def test_the_total_is_capped_and_the_oldest_make_room() -> None:
    held = HeldFiles(max_bytes=100)
    held.hold("ring-1", b"a" * 40, 120)
    held.hold("ring-2", b"b" * 40, 120)
    held.hold("ring-3", b"c" * 40, 120)
    assert held.size() <= 100
    assert held.get("ring-1") is None
    assert held.get("ring-2") == b"b" * 40
    assert held.get("ring-3") == b"c" * 40


def test_holding_a_key_again_replaces_it_and_makes_it_the_newest() -> None:
    held = HeldFiles(max_bytes=100)
    held.hold("ring-1", b"a" * 40, 120)
    held.hold("ring-2", b"b" * 40, 120)
    held.hold("ring-1", b"A" * 40, 120)
    assert held.size() == 80
    held.hold("ring-3", b"c" * 40, 120)
    assert held.get("ring-2") is None
    assert held.get("ring-1") == b"A" * 40


def test_a_file_larger_than_the_budget_is_not_held_and_evicts_nothing() -> None:
    held = HeldFiles(max_bytes=100)
    held.hold("ring-1", b"a" * 40, 120)
    held.hold("ring-2", b"b" * 101, 120)
    assert held.get("ring-2") is None
    assert held.get("ring-1") == b"a" * 40


def test_many_large_snapshots_never_pass_the_default_budget() -> None:
    held = HeldFiles()
    snapshot = b"\xff\xd8" + bytes(2 * 1024 * 1024)
    for n in range(100):
        held.hold(f"ring-{n}", snapshot, 300)
    assert held.size() <= MAX_BYTES
    assert held.get("ring-99") == snapshot
    assert held.get("ring-0") is None


def test_one_camera_pushes_out_only_its_own_older_event_snapshots() -> None:
    held = HeldFiles(max_per_group=3)
    held.hold("event:other:e1", b"theirs", 120)
    held.hold("ring-r1", b"ring", 120)
    for n in range(10):
        held.hold(f"event:busy:e{n}", b"mine %d" % n, 120)
    assert [held.get(f"event:busy:e{n}") is not None for n in range(10)] == [False] * 7 + [True] * 3
    assert held.get("event:other:e1") == b"theirs"
    assert held.get("ring-r1") == b"ring"


def test_what_is_due_is_forgotten_and_its_bytes_released() -> None:
    held = HeldFiles()
    held.hold("ring-1", b"x" * 10, 0)
    held.hold("ring-2", b"y" * 10, 120)
    assert held.size() == 10
