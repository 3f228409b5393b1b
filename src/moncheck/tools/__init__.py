"""Wrappers around the real ``promtool`` and ``amtool`` binaries that return findings.

The binaries are found on PATH; ``MONCHECK_PROMTOOL`` / ``MONCHECK_AMTOOL`` override the lookup
(useful for testing against another Prometheus version).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

INSTALL_HINTS = {
    "promtool": "install the 'prometheus' package (apt-get install prometheus) or put "
    "promtool from a Prometheus release on PATH; `make setup` does it",
    "amtool": "install the 'prometheus-alertmanager' package (apt-get install "
    "prometheus-alertmanager) or put amtool from an Alertmanager release on PATH",
}

# A tool that hangs must not hang the gate.
TIMEOUT_S = 120

# Both tools print Go YAML type errors as indented "line N: message" items, and name the
# offending thing (a label, a receiver, a file) in double quotes.
LINE_ITEM = re.compile(r"^\s*line (?P<line>\d+): (?P<msg>.*)$")
QUOTED = re.compile(r'"([^"]+)"')


class ToolMissing(Exception):
    """A required external binary is not installed."""

    def __init__(self, tool: str, install: str = "") -> None:
        self.tool = tool
        self.install = install or INSTALL_HINTS.get(tool, f"put {tool} on PATH")
        super().__init__(f"{tool} not found on PATH; {self.install}")


def find_binary(*names: str) -> str:
    """Absolute path of the first of ``names`` found on PATH; ``ToolMissing`` otherwise.

    An environment variable ``MONCHECK_<NAME>`` (first name, upper case) takes precedence.
    """
    override = os.environ.get(f"MONCHECK_{names[0].upper().replace('-', '_')}")
    if override:
        if os.access(override, os.X_OK):
            return override
        raise ToolMissing(names[0], f"MONCHECK_{names[0].upper()}={override} is not executable")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise ToolMissing(names[0])


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool with stdout and stderr merged (keeps their interleaving, which the parsers
    rely on to attribute errors to the file being checked)."""
    try:
        return subprocess.run(
            argv,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise ToolMissing(Path(argv[0]).name) from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"{Path(argv[0]).name} did not finish within {TIMEOUT_S}s") from None


class ToolError(Exception):
    """A tool ran but did something we cannot interpret (timeout, unexpected crash)."""


def line_of_text(path: Path, needle: str) -> int:
    """First line of ``path`` containing ``needle`` (1 when absent or unreadable)."""
    try:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return i
    except (OSError, UnicodeDecodeError):
        pass
    return 1


def display_path(path: Path, repo: Path | None) -> str:
    """``path`` relative to ``repo`` when inside it, else as given."""
    if repo is not None:
        try:
            return path.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
