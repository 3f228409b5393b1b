"""The routing-tests file (``monitoring/alertmanager/routing-tests.yml``): one format, one runner.

The file is a mapping with ``tests:`` and/or ``inhibit_tests:``, each a list of cases (the same
format ``routing-tests.schema.json`` describes; a bare list is not a routing-tests file)::

    tests:
      - name: critical pages
        labels: {alertname: A, severity: critical}
        receivers: [pagerduty-critical, slack-critical]   # in route order, as amtool prints them
    inhibit_tests:
      - name: critical mutes warning
        inhibit:
          source: {alertname: A, severity: critical}
          target: {alertname: A, severity: warning}
          inhibited: true

Route cases are evaluated by a ``route_fn`` (``amtool config routes test``, or the model when amtool
is missing); inhibition cases always by the model (amtool has no command for them). Every failing or
malformed case is one ``amtool/routing-tests`` finding at the case's line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moncheck.alertmanager.config import Config
from moncheck.alertmanager.inhibit import inhibited
from moncheck.findings import Finding, error
from moncheck.tools import ToolError
from moncheck.yamlpos import LoadError, LocList, line_of

CHECK = "amtool/routing-tests"
LISTS = ("tests", "inhibit_tests")


@dataclass(frozen=True)
class RouteCase:
    name: str
    line: int
    labels: dict[str, str]
    receivers: list[str]


@dataclass(frozen=True)
class InhibitCase:
    name: str
    line: int
    source: dict[str, str]
    target: dict[str, str]
    inhibited: bool


@dataclass(frozen=True)
class BadCase:
    name: str
    line: int
    problem: str


Case = RouteCase | InhibitCase | BadCase


def _labels(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict) or not value or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return dict(value)


def _case(raw: Any, name: str, line: int) -> Case:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return BadCase(name, line, "each test needs a `name`")
    name = raw["name"]
    extra = sorted(str(k) for k in raw if k not in ("name", "labels", "receivers", "inhibit"))
    if extra:
        return BadCase(name, line_of(raw, extra[0], line), f"unknown field {extra[0]!r}")
    if "inhibit" in raw:
        spec = raw["inhibit"]
        if "labels" in raw or not isinstance(spec, dict) or set(spec) - {"source", "target", "inhibited"}:
            return BadCase(name, line, "`inhibit` is a mapping of `source`, `target` and `inhibited` (and no `labels`)")
        source, target, want = _labels(spec.get("source")), _labels(spec.get("target")), spec.get("inhibited")
        if source is None or target is None or not isinstance(want, bool):
            return BadCase(name, line, "`inhibit` needs `source` and `target` label maps (strings) and `inhibited: true|false`")
        return InhibitCase(name, line, source, target, want)
    labels, receivers = _labels(raw.get("labels")), raw.get("receivers")
    if labels is None or not isinstance(receivers, list) or not receivers or not all(isinstance(r, str) for r in receivers):
        return BadCase(name, line, "needs `labels` (a map of strings) and `receivers` (a list of names), or `inhibit`")
    return RouteCase(name, line, labels, list(receivers))


def parse_routing_tests(data: Any, display: str) -> list[Case]:
    """Every case, ``tests:`` first; ``LoadError`` when the file is not a routing-tests mapping."""
    if not isinstance(data, dict) or not set(LISTS) & set(data):
        raise LoadError(display, line_of(data), "not a routing-tests file: expected a mapping with a `tests:` and/or `inhibit_tests:` list")
    extra = sorted(str(k) for k in data if k not in LISTS)
    if extra:
        raise LoadError(display, line_of(data, extra[0]), f"unknown key {extra[0]!r} (expected `tests:` and/or `inhibit_tests:`)")
    out: list[Case] = []
    for key in LISTS:
        cases = data.get(key)
        if key not in data:
            continue
        if not isinstance(cases, list):
            raise LoadError(display, line_of(data, key), f"`{key}` must be a list")
        lines = cases.item_lines if isinstance(cases, LocList) else []
        for i, raw in enumerate(cases):
            at = lines[i] if i < len(lines) else line_of(data, key)
            out.append(_case(raw, f"{key}[{i + 1}]", at))
    return out


RouteFn = Callable[[dict[str, str]], list[str]]


def run_case(case: Case, config: Config | LoadError, display: str, route_fn: RouteFn | None = None) -> Finding | None:
    """A finding when ``case`` fails or is malformed, else None. ``route_fn`` routes label sets
    (amtool); without it the model does. ``config`` may be the error that kept it from loading."""

    def bad(msg: str) -> Finding:
        return error(CHECK, display, case.line, f'routing test "{case.name}": {msg}')

    if isinstance(case, BadCase):
        return bad(case.problem)
    if isinstance(case, InhibitCase):
        if isinstance(config, LoadError):
            return bad(f"cannot evaluate inhibition: {config}")
        got = inhibited(config.inhibit_rules, case.source, case.target)
        if got != case.inhibited:
            verb = "is" if got else "is not"
            return bad(f"target {case.target} {verb} inhibited by source {case.source}, expected inhibited={case.inhibited}")
        return None
    if route_fn is None:
        if isinstance(config, LoadError):
            return bad(f"cannot evaluate routing: {config}")
        route_fn = config.receivers_for
    try:
        got_receivers = route_fn(case.labels)
    except ToolError as e:  # amtool failed on this case
        return bad(str(e))
    if got_receivers != case.receivers:
        return bad(f"labels {case.labels} route to {got_receivers}, expected {case.receivers}")
    return None
