"""Wrappers around the real ``promtool`` and ``amtool`` binaries that return findings.

The binaries come from the selected toolchain (``moncheck.toolchain``: ``MONCHECK_TOOLCHAIN``);
``MONCHECK_PROMTOOL`` / ``MONCHECK_AMTOOL`` override a single binary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from moncheck import toolchain
from moncheck.toolchain import ToolMissing

__all__ = ["ToolError", "ToolMissing", "find_binary", "run"]

# A tool that hangs must not hang the gate.
TIMEOUT_S = 120

# Both tools print Go YAML type errors as indented "line N: message" items, and name the
# offending thing (a label, a receiver, a file) in double quotes.
LINE_ITEM = re.compile(r"^\s*line (?P<line>\d+): (?P<msg>.*)$")
QUOTED = re.compile(r'"([^"]+)"')


def find_binary(*names: str) -> str:
    """Absolute path of tool ``names[0]`` in the selected toolchain (``moncheck.toolchain``);
    ``ToolMissing`` otherwise. ``MONCHECK_<NAME>`` overrides it."""
    return toolchain.binary(names[0])


def run(argv: list[str], cwd: Path | None = None,
        timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run a tool with stdout and stderr merged (keeps their interleaving, which the parsers
    rely on to attribute errors to the file being checked). Safe to call from threads: every
    running tool is registered so that ``stop_all`` can end them on an interrupt; a tool that
    outlives ``timeout`` seconds is killed and ``ToolTimeout`` raised.

    Each run has a temporary folder of its own as TMPDIR, removed when the run ends: promtool
    keeps a test TSDB (``test_storage*``) there, which a killed promtool (timeout, Ctrl-C,
    ``moncheck mutate`` stopping) would otherwise leave in /tmp."""
    tmp = tempfile.mkdtemp(prefix="moncheck-tool-")
    try:
        return _run(argv, cwd, timeout, {**os.environ, "TMPDIR": tmp})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(argv: list[str], cwd: Path | None, timeout: float, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", env=env)
    except FileNotFoundError:
        raise ToolMissing(Path(argv[0]).name) from None
    with _LIVE_LOCK:
        _LIVE.add(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ToolTimeout(f"{Path(argv[0]).name} did not finish within {timeout:g}s") from None
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    return subprocess.CompletedProcess(argv, proc.returncode, out, None)


_LIVE: set[subprocess.Popen[str]] = set()
_LIVE_LOCK = threading.Lock()


def stop_all() -> None:
    """Kill every tool process started by ``run`` that is still running (on Ctrl-C or SIGTERM,
    when worker threads are still waiting for theirs)."""
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        if p.poll() is None:
            p.kill()


class ToolError(Exception):
    """A tool ran but did something we cannot interpret (timeout, unexpected crash)."""


class ToolTimeout(ToolError):
    """A tool did not finish within its timeout (it was killed)."""


def _content_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text before any ``#`` comment) of every non-comment line of ``path``."""
    from moncheck import yamlpos

    try:
        text = yamlpos.read_source(path, str(path))
    except yamlpos.LoadError:
        return []
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        body = line if "#" not in line else re.split(r"(?:^|\s)#", line, maxsplit=1)[0]
        if body.strip():
            out.append((i, body))
    return out


def line_of_text(path: Path, needle: str) -> int:
    """First line of ``path`` containing ``needle`` outside a comment (1 when absent)."""
    return next((i for i, body in _content_lines(path) if needle in body), 1)


def first_content_line(path: Path) -> int:
    """The artifact's first line that is not blank or a comment (where a finding without a
    position goes: never on a comment)."""
    lines = _content_lines(path)
    return lines[0][0] if lines else 1


def display_path(path: Path, repo: Path | None) -> str:
    """``path`` relative to ``repo`` when inside it, else as given."""
    if repo is not None:
        try:
            return path.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
