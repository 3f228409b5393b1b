"""Nothing left behind: a real ``moncheck up`` / ``moncheck drill`` is sent each interruption.

Each case runs moncheck in its own session with ``TMPDIR`` set to the test's directory, reads the
stack's ``stack.json`` (every process started, with its kernel start time) while it runs, sends
the signal, and asserts afterwards that none of those processes, nothing in their process groups,
and no ``moncheck-*`` directory remains.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from moncheck.stack import leftovers, missing_binaries

REPO = Path(__file__).resolve().parents[2]
MONCHECK = str(Path(sys.executable).with_name("moncheck"))
START_TIMEOUT = 90.0  # the 2-core machine is shared: start-up under contention

pytestmark = [pytest.mark.load,
              pytest.mark.skipif(bool(missing_binaries()), reason="needs prometheus and alertmanager")]


@pytest.fixture(autouse=True)
def _reap_after(tmp_path: Path) -> Any:
    """A failing case must not leave its stack running: reap by the marker (the owner is dead)."""
    yield
    for marker in tmp_path.glob(f"{leftovers.PREFIX}*/{leftovers.MARKER}"):
        try:
            doc = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        for p in doc["procs"]:
            if leftovers.alive(p["pid"], p["start"]):
                try:
                    os.killpg(p["pid"], signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


class Run:
    """One moncheck subprocess in its own session, its output collected by a thread."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.tmp = tmp
        env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
        self.p = subprocess.Popen([MONCHECK, *args, "--repo", str(REPO)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
                                  cwd=tmp)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, what: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(what in line for line in self.lines):
                return
            if self.p.poll() is not None:
                self._reader.join(5)
                pytest.fail(f"moncheck exited {self.p.returncode} before {what!r}:\n{self.output}")
            time.sleep(0.05)
        pytest.fail(f"no {what!r} within {timeout:g}s:\n{self.output}")

    def procs(self) -> list[tuple[str, int, int | None]]:
        """The processes the stack's marker lists right now."""
        out = []
        for marker in self.tmp.glob(f"{leftovers.PREFIX}*/{leftovers.MARKER}"):
            try:
                doc = json.loads(marker.read_text())
            except (OSError, ValueError):
                continue
            out += [(p["name"], p["pid"], p["start"]) for p in doc["procs"]]
        return out

    def wait_procs(self, pred: object, timeout: float = START_TIMEOUT) -> list[tuple[str, int, int | None]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            procs = self.procs()
            if pred(procs):  # type: ignore[operator]
                return procs
            if self.p.poll() is not None:
                pytest.fail(f"moncheck exited {self.p.returncode} early:\n{self.output}")
            time.sleep(0.02)
        pytest.fail(f"the marker never showed the processes expected:\n{self.output}")

    def finish(self, timeout: float = 60.0) -> int:
        try:
            code = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()
            pytest.fail(f"moncheck did not exit within {timeout:g}s of the signal:\n{self.output}")
        self._reader.join(5)
        return code


def _group_members(pgids: set[int]) -> list[str]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) in pgids and fields[0] != "Z":
            out.append(f"pid {stat.parent.name} (group {fields[2]})")
    return out


def assert_nothing_left(run: Run, procs: list[tuple[str, int, int | None]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        alive = [f"{n} (pid {p})" for n, p, s in procs if leftovers.alive(p, s)]
        members = _group_members({p for _, p, _ in procs})
        dirs = sorted(str(d) for d in run.tmp.glob("moncheck-*"))
        if not (alive or members or dirs) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not alive, f"still running: {alive}\n{run.output}"
    assert not members, f"still in the stack's process groups: {members}\n{run.output}"
    assert not dirs, f"left behind: {dirs}\n{run.output}"


STACK = ("sink", "service", "node-exporter", "alertmanager", "prometheus")


def _ready(run: Run) -> list[tuple[str, int, int | None]]:
    run.wait_for("Ctrl-C to stop")
    return run.procs()


def test_two_sigints_in_a_row(tmp_path: Path) -> None:
    run = Run(tmp_path, "up", "--speed", "60")
    procs = _ready(run)
    assert {n for n, _, _ in procs} >= {"sink", "service", "alertmanager", "prometheus"}
    os.kill(run.p.pid, signal.SIGINT)
    os.kill(run.p.pid, signal.SIGINT)
    assert run.finish() == 0, run.output
    assert_nothing_left(run, procs)


def test_sigint_to_the_process_group_as_timeout_sends_it(tmp_path: Path) -> None:
    run = Run(tmp_path, "up", "--speed", "60")
    procs = _ready(run)
    for _ in range(3):
        os.killpg(run.p.pid, signal.SIGINT)
        time.sleep(0.05)
    assert run.finish() == 0, run.output
    assert_nothing_left(run, procs)


def test_sigterm_during_start_up(tmp_path: Path) -> None:
    run = Run(tmp_path, "up", "--speed", "60")
    # Sink and service started, Prometheus not yet ready: the middle of the start-up.
    procs = run.wait_procs(lambda ps: len(ps) >= 2)
    os.kill(run.p.pid, signal.SIGTERM)
    code = run.finish()
    assert "Ctrl-C to stop" not in run.output
    assert code == 128 + signal.SIGTERM, run.output
    assert_nothing_left(run, procs + run.procs())


def test_a_crashed_component_stops_the_rest(tmp_path: Path) -> None:
    run = Run(tmp_path, "up", "--speed", "60")
    procs = _ready(run)
    am = next(p for n, p, _ in procs if n == "alertmanager")
    os.kill(am, signal.SIGKILL)
    assert run.finish() == 2, run.output
    assert "moncheck: error: alertmanager exited with status -9" in run.output
    assert_nothing_left(run, procs)


def test_sigkill_of_moncheck_then_the_next_start_removes_the_leftovers(tmp_path: Path) -> None:
    run = Run(tmp_path, "up", "--speed", "60")
    procs = _ready(run)
    (stack_dir,) = tmp_path.glob(f"{leftovers.PREFIX}*")
    os.kill(run.p.pid, signal.SIGKILL)
    run.finish()
    # The parent-death signal takes every child with the killed moncheck ...
    deadline = time.monotonic() + 10
    while any(leftovers.alive(p, s) for _, p, s in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [n for n, p, s in procs if leftovers.alive(p, s)]
    assert stack_dir.is_dir()  # ... but only the next start can remove the directory
    nxt = Run(tmp_path, "up", "--speed", "60")
    nxt.wait_for(f"removed leftovers of a killed run: {stack_dir}")
    procs2 = _ready(nxt)
    assert not stack_dir.exists()
    os.kill(nxt.p.pid, signal.SIGINT)
    assert nxt.finish() == 0, nxt.output
    assert_nothing_left(nxt, procs2)


def test_two_sigints_in_the_middle_of_a_drill(tmp_path: Path) -> None:
    run = Run(tmp_path, "drill", "high-error-rate", "--speed", "60", "--report", str(tmp_path / "r.json"))
    # Locust is running: the load generator must go too.
    procs = run.wait_procs(lambda ps: any(n.startswith("locust") for n, _, _ in ps))
    time.sleep(0.5)
    os.kill(run.p.pid, signal.SIGINT)
    os.kill(run.p.pid, signal.SIGINT)
    assert run.finish() == 130, run.output
    assert_nothing_left(run, procs + run.procs())


def test_a_named_drill_that_passes_exits_0_from_a_subdirectory(tmp_path: Path) -> None:
    # No --repo: the git top level of the cwd; a named drill runs no dashboard check.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    report = tmp_path / "r.json"
    p = subprocess.run([MONCHECK, "drill", "health-unhealthy", "--report", str(report)], cwd=REPO / "monitoring",
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "health-unhealthy  HealthCheckUnhealthy" in p.stdout
    assert "drills/panel-data" not in p.stdout
    doc = json.loads(report.read_text())
    assert doc["ok"] and [d["name"] for d in doc["drills"]] == ["health-unhealthy"]
    assert doc["dashboard_findings"] == []
    assert not list(tmp_path.glob("moncheck-*"))
