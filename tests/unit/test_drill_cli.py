"""`moncheck drill` / `moncheck up` without a stack: repository from the git top level, help, usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moncheck import cli
from moncheck.drills import parallel

REPO = Path(__file__).resolve().parents[2]


def test_drill_finds_the_repository_from_a_subdirectory(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO / "monitoring/drills")
    assert cli.main(["drill", "no-such-drill"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("moncheck: error: unknown drill(s): no-such-drill; known: ")
    assert "high-error-rate" in err  # the drills of the git top level, not of the cwd


def test_up_and_drill_refuse_a_repo_that_is_not_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("up", "drill"):
        with pytest.raises(SystemExit) as e:
            cli.main([cmd, "--repo", str(tmp_path / "nope")])
        assert e.value.code == 2
        assert capsys.readouterr().err == f"moncheck: error: --repo {tmp_path / 'nope'}: not a directory\n"


def test_no_drills_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["drill", "--repo", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"moncheck: error: no drills in {tmp_path / 'monitoring/drills'}\n"


@pytest.mark.parametrize("cmd,words", [("up", "run until Ctrl-C or SIGTERM"),
                                       ("drill", "Exit 0 when every drill passes")])
def test_help_describes_the_command(cmd: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main([cmd, "--help"])
    assert words in " ".join(capsys.readouterr().out.split())


def test_default_jobs_from_cores_and_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parallel, "_mem_available_mb", lambda: 24_000)
    assert parallel.default_jobs() == 6
    monkeypatch.setattr(parallel, "_mem_available_mb", lambda: 900)
    assert parallel.default_jobs() == 2  # two stacks of 400 MB
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 64)
    monkeypatch.setattr(parallel, "_mem_available_mb", lambda: None)
    assert parallel.default_jobs() == parallel.MAX_JOBS


_SIGNAL_SCRIPT = """
import signal
from moncheck.stack import signals
before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
signals.hold()
try:
    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        print("unwound")
    assert signals.interrupted()
    signal.raise_signal(signal.SIGINT)   # ignored: the clean-up must run to its end
    signal.raise_signal(signal.SIGTERM)
    print("ignored")
finally:
    signals.release()
assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
assert not signals.interrupted()  # a later stack in the same process is not "interrupted"
print("restored")
"""


def test_only_the_first_signal_unwinds_while_stacks_are_held() -> None:
    # In its own interpreter: the signal state is process-wide, and a session stack held by this
    # pytest process (the load tests' fixture) must neither see this signal nor change the outcome.
    done = subprocess.run([sys.executable, "-c", _SIGNAL_SCRIPT], capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout.split(), done.stderr) == (0, ["unwound", "ignored", "restored"], "")
