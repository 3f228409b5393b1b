"""Where a repository keeps its monitoring artifacts: ``moncheck.yml`` (or ``[tool.moncheck]``
in ``pyproject.toml``), read into one typed :class:`RepoConfig`.

Without either file the defaults reproduce this project's own layout (docs/contracts.md). With
one, only what it names is checked: a key left out means "this repository has none", so a
repository of another layout is never checked against paths it does not use. ``explicit`` lists
the keys the file set; a configured artifact that is missing is the fail-closed code's business
(it reads :meth:`RepoConfig.configured`).

Values are paths (``catalog``, ``alertmanager``, ...) or lists of globs relative to the
repository root (``rules``, ``rule_tests``, ...); a single string is accepted for a list.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from moncheck import yamlpos

CONFIG_FILE = "moncheck.yml"
PYPROJECT = "pyproject.toml"

# Keys whose value is a list of globs, and keys whose value is one path.
GLOB_KEYS = ("rules", "rule_tests", "dashboards", "slos", "drills", "uptime", "runbooks", "secret_scan")
PATH_KEYS = ("prometheus", "alertmanager", "routing_tests", "catalog", "policy")


class ConfigError(Exception):
    """A config file that cannot be used; ``path:line: message`` (a usage error, exit 2)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True)
class RepoConfig:
    """The artifacts of one repository. Globs and paths are relative to ``root``."""

    root: Path
    source: str | None = None  # "moncheck.yml", "pyproject.toml", or None (defaults)
    rules: tuple[str, ...] = ("monitoring/prometheus/rules/**/*.yml", "monitoring/prometheus/rules/**/*.yaml")
    rule_tests: tuple[str, ...] = ("tests/rules/**/*.test.yml", "tests/rules/**/*.test.yaml")
    prometheus: str | None = "monitoring/prometheus/prometheus.yml"
    alertmanager: str | None = "monitoring/alertmanager/alertmanager.yml"
    routing_tests: str | None = "monitoring/alertmanager/routing-tests.yml"
    dashboards: tuple[str, ...] = ("monitoring/grafana/dashboards/**/*.json",)
    slos: tuple[str, ...] = ("monitoring/slos/*.yml",)
    catalog: str | None = "monitoring/catalog/metrics.yml"
    drills: tuple[str, ...] = ("monitoring/drills/*.yml",)
    uptime: tuple[str, ...] = ("monitoring/uptime/*.yml",)
    runbooks: tuple[str, ...] = ("monitoring/runbooks/**/*.md",)
    policy: str | None = "policies/policy.yml"
    secret_scan: tuple[str, ...] = ("monitoring/**/*",)
    explicit: frozenset[str] = field(default_factory=frozenset)

    @property
    def configured_repo(self) -> bool:
        """True when a config file exists: loose paths then use the repository as context."""
        return self.source is not None

    def configured(self, key: str) -> bool:
        """The config file names ``key`` (so a missing artifact there is an error)."""
        return key in self.explicit

    def files(self, key: str) -> list[Path]:
        """Existing files of a glob key (sorted), or the one file of a path key if it exists."""
        if key in PATH_KEYS:
            rel = getattr(self, key)
            p = self.root / rel if rel else None
            return [p] if p is not None and p.is_file() else []
        found: set[Path] = set()
        for pat in getattr(self, key):
            found.update(x for x in self.root.glob(pat) if x.is_file())
        # The configuration is not an artifact, even when a glob (`*.yml`) matches it.
        return sorted(found - {self.root / CONFIG_FILE, self.root / PYPROJECT})

    def entries(self, key: str) -> list[Path]:
        """Every entry a key names, regular file or not: a FIFO, a device, a directory, a dangling
        symlink or a symlink loop is returned, so that the loader reports it (without opening it)
        instead of the gate silently passing over it."""
        if key in PATH_KEYS:
            rel = getattr(self, key)
            p = self.root / rel if rel else None
            return [p] if p is not None and os.path.lexists(p) else []
        found: set[Path] = set()
        for pat in getattr(self, key):
            found.update(self.root.glob(pat))
        return sorted(found - {self.root / CONFIG_FILE, self.root / PYPROJECT})

    def to_data(self) -> dict[str, Any]:
        """The config as it is written to ``moncheck.yml`` (only non-empty keys)."""
        out: dict[str, Any] = {"version": 1}
        for f in fields(self):
            if f.name in ("root", "source", "explicit"):
                continue
            v = getattr(self, f.name)
            if v:
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out


EMPTY_FIELDS: dict[str, Any] = {**{k: () for k in GLOB_KEYS}, **{k: None for k in PATH_KEYS}}


def from_mapping(root: Path, source: str, data: Any, lines: dict[str, int]) -> RepoConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, 1, "the configuration must be a mapping of artifact kinds to paths")
    _validate(root, source, data)
    values: dict[str, Any] = dict(EMPTY_FIELDS)
    for key, v in data.items():
        if key == "version":
            continue
        if key in GLOB_KEYS:
            values[key] = (v,) if isinstance(v, str) else tuple(str(x) for x in v or ())
        else:
            values[key] = v
        for pat in values[key] if key in GLOB_KEYS else [v] if v else []:
            if Path(pat).is_absolute() or ".." in Path(pat).parts:
                raise ConfigError(source, lines.get(key, 1), f"{key}: {pat!r} must be relative to the repository, inside it")
    return RepoConfig(root=root, source=source, explicit=frozenset(k for k in data if k != "version"), **values)


def _validate(root: Path, source: str, data: dict[str, Any]) -> None:
    from moncheck.checks.base import _schema_validator, locate, schema_path

    sp = schema_path(root, "config")
    if sp is None:  # packaging bug, not the user's: say so rather than check nothing
        raise ConfigError(source, 1, "config.schema.json not found in the moncheck installation")
    errors = sorted(_schema_validator(str(sp)).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        line = locate(data, list(e.absolute_path))
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            unknown = [k for k in e.instance if k not in e.schema.get("properties", {})]
            key_lines = getattr(e.instance, "key_lines", {})
            line = key_lines.get(unknown[0], line) if unknown else line
            known = ", ".join(e.schema.get("properties", {}))
            raise ConfigError(source, line, f"unknown key {unknown[0]!r} (known: {known})" if unknown else e.message)
        raise ConfigError(source, line, f"{where}: {e.message}")


def load(root: Path) -> RepoConfig:
    """The configuration of the repository at ``root``: ``moncheck.yml``, else
    ``[tool.moncheck]`` of ``pyproject.toml``, else the defaults. ``ConfigError`` if unusable."""
    yml = root / CONFIG_FILE
    if yml.is_file():
        try:
            data = yamlpos.load(yml, CONFIG_FILE)
        except yamlpos.LoadError as e:
            raise ConfigError(e.path, e.line, e.message) from None
        return from_mapping(root, CONFIG_FILE, data, getattr(data, "key_lines", {}))
    pp = root / PYPROJECT
    if pp.is_file():
        try:
            doc = tomllib.loads(pp.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            at = re.search(r"\(at line (\d+)", str(e))
            raise ConfigError(PYPROJECT, int(at.group(1)) if at else 1, f"cannot read: {e}") from None
        section = doc.get("tool", {}).get("moncheck")
        if section is not None:
            return from_mapping(root, f"{PYPROJECT} [tool.moncheck]", section, {})
    return RepoConfig(root=root)
