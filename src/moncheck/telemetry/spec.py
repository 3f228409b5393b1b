"""Typed records of the error-tracking, tracing and logging policies.

The inventory loads the files (``Inventory.errors``/``tracing``/``logging``, located YAML); these
records are what the gate checks, the reference service and the drills read. ``load_*`` is for
processes that need one file without a whole inventory (the service): they load through
``yamlpos``, validate against ``policies/schemas/<kind>.schema.json`` and raise ``SpecError``
naming file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moncheck import yamlpos
from moncheck.yamlpos import LocDict, line_of


class SpecError(Exception):
    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True)
class Filter:
    name: str
    line: int
    exception_types: tuple[str, ...]
    environments: tuple[str, ...]
    env_line: int


@dataclass
class ErrorsPolicy:
    path: str
    data: Any
    service: str
    dsn_env: str
    frontend_dsn_env: str
    release_env: str
    environment_env: str
    environments: dict[str, bool]
    environment_lines: dict[str, int]
    sample_errors: float
    sample_traces: float
    filters: list[Filter] = field(default_factory=list)

    def line_of(self, *keys: str) -> int:
        return _line(self.data, keys)

    @property
    def dropped_types(self) -> frozenset[str]:
        return frozenset(t for f in self.filters for t in f.exception_types)

    @property
    def dropped_environments(self) -> frozenset[str]:
        by_filter = {e for f in self.filters for e in f.environments}
        return frozenset(by_filter | {n for n, send in self.environments.items() if not send})

    def sends(self, environment: str) -> bool:
        return environment in self.environments and environment not in self.dropped_environments


@dataclass
class TracingPolicy:
    path: str
    data: Any
    service_name: str
    protocol: str
    endpoint_env: str
    headers_env: str | None
    sampler: str
    ratio: float
    tolerance: float
    resource_attributes: list[str]
    required_attributes: list[str]
    exemplar_metric: str | None
    exemplar_label: str | None
    exemplar_panels: list[tuple[str, str, int]]  # (dashboard path, panel title, line)

    def line_of(self, *keys: str) -> int:
        return _line(self.data, keys)


@dataclass
class LoggingPolicy:
    path: str
    data: Any
    service: str
    levels: list[str]
    default_level: str
    error_level: str
    line_schema: str
    correlation: list[str]
    forbidden_fields: list[str]

    def line_of(self, *keys: str) -> int:
        return _line(self.data, keys)


def _line(data: Any, keys: tuple[str, ...]) -> int:
    node, line = data, line_of(data)
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            break
        line = line_of(node, k)
        node = node[k]
    return line


def _strs(node: Any) -> list[str]:
    return [str(x) for x in node] if isinstance(node, list) else []


def _num(node: Any, default: float) -> float:
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else default


def _map(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else LocDict()


def parse_errors(path: str, data: Any) -> ErrorsPolicy:
    """Typed view; shape errors are the schema check's (missing parts read as empty)."""
    d = _map(data)
    envs: dict[str, bool] = {}
    env_lines: dict[str, int] = {}
    for e in d.get("environments") or []:
        if isinstance(e, dict) and isinstance(e.get("name"), str):
            envs[e["name"]] = e.get("send") is True
            env_lines[e["name"]] = line_of(e)
    filters = []
    for f in d.get("filters") or []:
        if isinstance(f, dict):
            filters.append(Filter(str(f.get("name", "")), line_of(f), tuple(_strs(f.get("exception_types"))),
                                  tuple(_strs(f.get("environments"))),
                                  line_of(f, "environments") if "environments" in f else line_of(f)))
    rates = _map(d.get("sample_rates"))
    return ErrorsPolicy(path, data, str(d.get("service", "")), str(d.get("dsn_env", "SENTRY_DSN")),
                        str(d.get("frontend_dsn_env", "VITE_SENTRY_DSN")), str(d.get("release_env", "SENTRY_RELEASE")), str(d.get("environment_env", "NODE_ENV")),
                        envs, env_lines, _num(rates.get("errors"), 1.0), _num(rates.get("traces"), 0.0), filters)


def parse_tracing(path: str, data: Any) -> TracingPolicy:
    d = _map(data)
    exp, samp, span, ex = (_map(d.get(k)) for k in ("exporter", "sampling", "request_span", "exemplars"))
    panels = [(str(p.get("dashboard", "")), str(p.get("title", "")), line_of(p))
              for p in ex.get("panels") or [] if isinstance(p, dict)]
    return TracingPolicy(
        path, data, str(d.get("service_name", "")), str(exp.get("protocol", "http/protobuf")),
        str(exp.get("endpoint_env", "OTEL_EXPORTER_OTLP_ENDPOINT")),
        str(exp["headers_env"]) if isinstance(exp.get("headers_env"), str) else None,
        str(samp.get("sampler", "parentbased_traceidratio")), _num(samp.get("ratio"), 1.0),
        _num(samp.get("tolerance"), 0.05), _strs(d.get("resource_attributes")),
        _strs(span.get("required_attributes")),
        str(ex["metric"]) if isinstance(ex.get("metric"), str) else None,
        str(ex["label"]) if isinstance(ex.get("label"), str) else None, panels)


def parse_logging(path: str, data: Any) -> LoggingPolicy:
    d = _map(data)
    return LoggingPolicy(path, data, str(d.get("service", "")), _strs(d.get("levels")),
                         str(d.get("default_level", "info")), str(d.get("error_level", "error")),
                         str(d.get("line_schema", "")), _strs(d.get("correlation")),
                         _strs(d.get("forbidden_fields")))


def _load_valid(path: Path, kind: str, display: str | None = None) -> tuple[str, Any]:
    """Load ``path`` through yamlpos and validate it against its schema; SpecError on the first problem."""
    from moncheck.checks.base import Skip, locate, validator_for_kind

    rel = display or str(path)
    try:
        data = yamlpos.load(path, rel)
    except yamlpos.LoadError as e:
        raise SpecError(e.path, e.line, e.message) from None
    root = path.resolve().parents[2]  # monitoring/<kind>/<file> -> repository
    try:
        validator = validator_for_kind(root, kind)
    except Skip as e:
        raise SpecError(rel, 1, str(e)) from None
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise SpecError(rel, locate(data, list(first.absolute_path)), f"{where}: {first.message}")
    return rel, data


def load_errors(path: Path, display: str | None = None) -> ErrorsPolicy:
    return parse_errors(*_load_valid(path, "errors", display))


def load_tracing(path: Path, display: str | None = None) -> TracingPolicy:
    return parse_tracing(*_load_valid(path, "tracing", display))


def load_logging(path: Path, display: str | None = None) -> LoggingPolicy:
    return parse_logging(*_load_valid(path, "logging", display))
