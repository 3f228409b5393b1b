"""Leftovers of a killed run are found and removed; spawned children die with their parent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from moncheck.stack import leftovers
from moncheck.stack.procs import spawn


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _wait_gone(pid: int, started: int | None, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not leftovers.alive(pid, started):
            return True
        time.sleep(0.05)
    return False


def test_reap_kills_processes_of_a_dead_owner_and_removes_its_directory(tmp_path: Path) -> None:
    d = tmp_path / "moncheck-stack-dead"
    d.mkdir()
    (d / "logs").mkdir()
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        started = leftovers.start_time(child.pid)
        (d / leftovers.MARKER).write_text(json.dumps({
            "owner": {"pid": _dead_pid(), "start": 1},
            "procs": [{"name": "prometheus", "pid": child.pid, "start": started}]}))
        lines = leftovers.reap(tmp_path)
        child.wait(5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert lines == [f"removed leftovers of a killed run: {d}; killed prometheus (pid {child.pid})"]
    assert child.returncode == -9
    assert not d.exists()


def test_reap_leaves_a_live_owners_stack_and_recycled_pids_alone(tmp_path: Path) -> None:
    live = leftovers.make_dir(tmp_path)
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        dead = tmp_path / "moncheck-stack-old"
        dead.mkdir()
        # The recorded start time differs: the pid now belongs to another process, never killed.
        (dead / leftovers.MARKER).write_text(json.dumps({
            "owner": {"pid": _dead_pid(), "start": 1},
            "procs": [{"name": "service", "pid": bystander.pid, "start": 1}]}))
        assert leftovers.reap(tmp_path) == [f"removed leftovers of a killed run: {dead}"]
        assert bystander.poll() is None
        assert live.dir.is_dir()
    finally:
        bystander.kill()
        bystander.wait()


def test_unreadable_marker_still_removes_the_directory(tmp_path: Path) -> None:
    d = tmp_path / "moncheck-stack-bad"
    d.mkdir()
    (d / leftovers.MARKER).write_bytes(b"\xff{not json")
    assert leftovers.reap(tmp_path) == [f"removed leftovers of a killed run: {d}"]
    assert not d.exists()


def test_fresh_directory_without_marker_is_not_taken(tmp_path: Path) -> None:
    d = tmp_path / "moncheck-stack-new"
    d.mkdir()
    assert leftovers.reap(tmp_path) == []
    old = time.time() - leftovers.ORPHAN_AGE_S - 1
    os.utime(d, (old, old))
    assert leftovers.reap(tmp_path) == [f"removed leftovers of a killed run: {d}"]


def test_marker_records_owner_and_children(tmp_path: Path) -> None:
    m = leftovers.make_dir(tmp_path)
    m.add("sink", os.getpid())
    doc = json.loads((m.dir / leftovers.MARKER).read_text())
    assert doc["owner"] == {"pid": os.getpid(), "start": leftovers.start_time(os.getpid())}
    assert doc["procs"] == [{"name": "sink", "pid": os.getpid(), "start": leftovers.start_time(os.getpid())}]


def test_spawned_child_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    # A parent that spawns `sleep` through `spawn`, prints its pid and then is SIGKILLed: the
    # kernel's parent-death signal must take the child too.
    code = ("import sys, time; from moncheck.stack.procs import spawn\n"
            "p = spawn(['sleep', '60'], 1)\nprint(p.pid, flush=True)\ntime.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    started = leftovers.start_time(pid)
    assert started is not None
    assert os.getpgid(pid) == pid  # its own process group (own session)
    parent.kill()
    parent.wait()
    assert _wait_gone(pid, started), f"child {pid} outlived its SIGKILLed parent"


def test_spawn_records_the_child_before_a_signal_can_interrupt(tmp_path: Path) -> None:
    seen: list[int] = []
    p = spawn(["true"], subprocess.DEVNULL, on_started=lambda popen: seen.append(popen.pid))
    p.wait()
    assert seen == [p.pid]
