"""``moncheck.atomic``: modes kept, no temporary file left behind (failure, signal, SIGKILL)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moncheck import atomic


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_new_file_is_0644(tmp_path: Path) -> None:
    atomic.write_text(tmp_path / "new.yml", "a: 1\n")
    assert _mode(tmp_path / "new.yml") == 0o644


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o755, 0o664])
def test_replaced_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    p = tmp_path / "gen.yml"
    p.write_text("old\n")
    p.chmod(mode)
    atomic.write_text(p, "new\n")
    assert (_mode(p), p.read_text()) == (mode, "new\n")
    assert os.listdir(tmp_path) == ["gen.yml"]


def test_directory_target_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        atomic.write_text(tmp_path, "x")
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text(tmp_path / "x.yml", "x")
    assert os.listdir(tmp_path) == []


_WRITER = """
import os, sys, time
from pathlib import Path
from moncheck import atomic
real = os.fsync
def slow(fd):
    print("writing", flush=True)
    time.sleep(30)
os.fsync = slow
atomic.write_text(Path(sys.argv[1]), "new contents\\n")
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_signal_during_write_leaves_old_file_and_no_temporary(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "gen.yml"
    target.write_text("old contents\n")
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
        proc.send_signal(sig)
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert sorted(os.listdir(tmp_path)) == ["gen.yml"]
    assert target.read_text() == "old contents\n"


def test_sigkill_leftover_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "gen.yml"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    proc.kill()
    proc.wait()
    left = [n for n in os.listdir(tmp_path) if n.endswith(atomic.SUFFIX)]
    assert len(left) == 1  # SIGKILL cannot be caught
    other = tmp_path / ".gen.yml.abcd"  # not ours: never touched
    other.write_text("someone else's\n")
    deadline = time.time() + 5
    while time.time() < deadline and Path(f"/proc/{proc.pid}").exists():
        time.sleep(0.05)
    atomic.write_text(tmp_path / "other.yml", "x\n")
    assert sorted(os.listdir(tmp_path)) == [".gen.yml.abcd", "other.yml"]


def test_a_batch_keeps_modes_and_leaves_no_temporary(tmp_path: Path) -> None:
    old = tmp_path / "a/old.yml"
    old.parent.mkdir()
    old.write_text("old\n")
    old.chmod(0o600)
    stale = tmp_path / "a" / f".x.yml.{2**22 + 7}.abc{atomic.SUFFIX}"  # a pid that is not running
    stale.write_text("left by a killed run\n")
    atomic.write_many([(old, "new\n"), (tmp_path / "b/c/new.yml", "fresh\n")])
    assert (_mode(old), old.read_text()) == (0o600, "new\n")
    assert (_mode(tmp_path / "b/c/new.yml"), (tmp_path / "b/c/new.yml").read_text()) == \
        (0o644, "fresh\n")
    assert sorted(os.listdir(tmp_path / "a")) == ["old.yml"]


def test_a_batch_that_fails_removes_its_temporary_files(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "one.yml").write_text("1\n")
    real = os.replace
    calls: list[str] = []

    def replace(src: str, dst: Path) -> None:
        calls.append(Path(dst).name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OSError, match="No space"):
        atomic.write_many([(tmp_path / "one.yml", "one\n"), (tmp_path / "two.yml", "two\n"),
                           (tmp_path / "three.yml", "three\n")])
    # The first file was replaced; the failed one and the one after it were not written.
    assert sorted(os.listdir(tmp_path)) == ["one.yml"]
    assert (tmp_path / "one.yml").read_text() == "one\n"


def test_a_batch_with_a_directory_target_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        atomic.write_many([(tmp_path / "x.yml", "x\n"), (tmp_path / "d", "y\n")])
    assert sorted(os.listdir(tmp_path)) == ["d"]
