"""The toolchain: which promtool, amtool, Prometheus and Alertmanager every command runs.

One place resolves the binaries (tool wrappers, the local stack, smoke checks, tests, benches) and
records their versions, so every command and report can say what it ran on. The toolchains and
their pins are in ``versions.yml`` beside this module:

- ``3`` (default): Prometheus 3.5 LTS + Alertmanager 0.33, unpacked by ``make setup`` into
  ``.moncheck/toolchain/3`` (see ``moncheck.toolchain.fetch``);
- ``2``: Debian 12's packages on PATH (Prometheus 2.42, Alertmanager 0.25).

``MONCHECK_TOOLCHAIN`` selects one. ``MONCHECK_<TOOL>`` (``MONCHECK_PROMTOOL=/path``) overrides a
single binary, whatever the toolchain. ``MONCHECK_TOOLCHAIN_DIR`` says where set-up unpacked the
fetched toolchains (default: ``.moncheck/toolchain`` of the project, found from the working
directory or from the virtual environment moncheck runs in).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TOOLS = ("prometheus", "promtool", "alertmanager", "amtool")
VERSIONS_FILE = Path(__file__).with_name("versions.yml")
MANIFEST = "manifest.json"
_VERSION = re.compile(r"version (\S+)")

INSTALL_HINTS = {
    "promtool": "run `make setup` (fetches toolchain 3), or set MONCHECK_TOOLCHAIN=2 and install "
    "the 'prometheus' package, or point MONCHECK_PROMTOOL at a promtool",
    "amtool": "run `make setup` (fetches toolchain 3), or set MONCHECK_TOOLCHAIN=2 and install "
    "the 'prometheus-alertmanager' package, or point MONCHECK_AMTOOL at an amtool",
}


class ToolMissing(Exception):
    """A required external binary is not installed (an environment error: exit 2, or a skip)."""

    def __init__(self, tool: str, install: str = "") -> None:
        self.tool = tool
        self.install = install or INSTALL_HINTS.get(tool, "run `make setup`")
        super().__init__(f"{tool} not found; {self.install}")


class UnknownToolchain(ToolMissing):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__("toolchain", f"MONCHECK_TOOLCHAIN={name!r} is not one of {', '.join(known)} "
                                      f"(see {VERSIONS_FILE.name})")
        self.args = (f"unknown toolchain {name!r}: use one of {', '.join(known)}",)


@functools.cache
def spec() -> dict[str, Any]:
    """The parsed ``versions.yml``."""
    data = yaml.safe_load(VERSIONS_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("toolchains"), dict), VERSIONS_FILE
    return data


def names() -> list[str]:
    return [str(n) for n in spec()["toolchains"]]


def selected() -> str:
    """Name of the toolchain in use: ``MONCHECK_TOOLCHAIN``, else the default."""
    name = os.environ.get("MONCHECK_TOOLCHAIN", "").strip() or str(spec()["default"])
    if name not in names():
        raise UnknownToolchain(name, names())
    return name


def _project_dirs() -> list[Path]:
    out = []
    for start in (Path.cwd(), Path(sys.prefix)):
        out += [start, *start.parents]
    return out


def home(create_in: Path | None = None) -> Path:
    """Folder holding the fetched toolchains (``<project>/.moncheck/toolchain``)."""
    env = os.environ.get("MONCHECK_TOOLCHAIN_DIR")
    if env:
        return Path(env).resolve()
    if create_in is not None:
        return (create_in / ".moncheck" / "toolchain").resolve()
    for d in _project_dirs():
        if (d / ".moncheck" / "toolchain").is_dir():
            return d / ".moncheck" / "toolchain"
    return (Path.cwd() / ".moncheck" / "toolchain").resolve()


def manifest(name: str, root: Path | None = None) -> dict[str, Any] | None:
    """What set-up recorded for fetched toolchain ``name`` (None: not installed)."""
    path = (root or home()) / name / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@functools.cache
def version_of(path: str) -> str:
    """The version a binary reports (``3.5.3+ds1``), ``?`` when it does not say."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                             check=False, errors="replace")
    except (OSError, subprocess.SubprocessError):
        return "?"
    m = _VERSION.search(out.stdout + out.stderr)
    return m.group(1) if m else "?"


def _override(tool: str) -> str | None:
    var = f"MONCHECK_{tool.upper()}"
    value = os.environ.get(var)
    if not value:
        return None
    if not os.access(value, os.X_OK):
        raise ToolMissing(tool, f"{var}={value} is not executable")
    return value


def _fetched(name: str, tool: str, tc: dict[str, Any]) -> str:
    root = home()
    m = manifest(name, root)
    rel = (tc.get("binaries") or {}).get(tool)
    if rel is None:
        raise ToolMissing(tool, f"toolchain {name} has no {tool}")
    path = root / name / rel
    if m is None or not os.access(path, os.X_OK):
        raise ToolMissing(tool, f"toolchain {name} is not installed in {root}: run `make setup` "
                                f"(or set MONCHECK_TOOLCHAIN to one of {', '.join(n for n in names() if n != name)})")
    return str(path)


def _on_path(name: str, tool: str, tc: dict[str, Any]) -> str:
    candidates = (tc.get("path") or {}).get(tool) or [tool]
    for n in candidates:
        found = shutil.which(n)
        if found:
            want = str((tc.get("expect") or {}).get(tool, ""))
            got = version_of(found)
            if want and not got.startswith(want):
                raise ToolMissing(tool, f"toolchain {name} wants {tool} {want}*, but {found} is {got}")
            return found
    raise ToolMissing(tool)


def binary(tool: str, toolchain: str | None = None) -> str:
    """Absolute path of ``tool`` (one of ``TOOLS``) in the selected toolchain."""
    override = _override(tool)
    if override:
        return override
    name = toolchain or selected()
    tc = spec()["toolchains"][name]
    return _fetched(name, tool, tc) if "fetch" in tc else _on_path(name, tool, tc)


def find(tool: str) -> str | None:
    """Like ``binary`` but None when the selected toolchain lacks ``tool``."""
    return find_in(tool, None)


def find_in(tool: str, toolchain: str | None) -> str | None:
    """``tool`` of toolchain ``toolchain`` (None: the selected one), None when it lacks it."""
    try:
        return binary(tool, toolchain)
    except ToolMissing:
        return None


def major(tool: str = "promtool", toolchain: str | None = None) -> int:
    """Major version of ``tool`` in the selected toolchain (0 when unknown)."""
    m = re.match(r"(\d+)", version_of(binary(tool, toolchain)))
    return int(m.group(1)) if m else 0


def on_path(*candidates: str) -> str | None:
    """A helper binary that is not part of a toolchain (node exporter), first found on PATH."""
    for n in candidates:
        found = shutil.which(n)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Record:
    """The versions a run used: toolchain name and ``tool -> version`` (``missing`` when absent)."""

    name: str
    versions: dict[str, str]

    def text(self, tools: tuple[str, ...] = TOOLS) -> str:
        return f"toolchain {self.name}: " + ", ".join(f"{t} {self.versions.get(t, 'missing')}" for t in tools)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "versions": dict(self.versions)}


def record(toolchain: str | None = None, tools: tuple[str, ...] = TOOLS) -> Record:
    """Versions of ``tools`` in the selected toolchain (never raises for a missing binary)."""
    name = toolchain or selected()
    versions = {}
    for t in tools:
        try:
            versions[t] = version_of(binary(t, name))
        except ToolMissing:
            versions[t] = "missing"
    return Record(name, versions)


def tag(tool: str, toolchain: str | None = None) -> str:
    """``promtool 3.5.3+ds1, toolchain 3``: says which binary a finding came from."""
    try:
        name = toolchain or selected()
        return f"{tool} {version_of(binary(tool, name))}, toolchain {name}"
    except ToolMissing:
        return f"{tool}, toolchain {toolchain or os.environ.get('MONCHECK_TOOLCHAIN') or spec()['default']}"
