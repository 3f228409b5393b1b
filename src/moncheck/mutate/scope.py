"""Which promtool test groups can observe a mutant.

A test group sees only (a) the alerts named in its ``alert_rule_test`` entries and (b) the
series its ``promql_expr_test`` expressions select. A changed rule changes its own output (the
recorded series, or ``ALERTS``/``ALERTS_FOR_STATE`` of an alert) and, transitively, the output of
every rule that reads it. So a group observes a mutant of rule R exactly when one of its alert
names, or one of the metric names its expressions read, is an output of R or of a rule that
(transitively) reads R. A selector without a metric name (``{__name__=~"..."}``) reads anything.
Other groups evaluate the same rules on the same input and cannot fail differently, so running
only the observing groups is sound; a mutant no group observes survives without a run.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from moncheck.promql import analyze

ANY = "*"
ALERT_SERIES = frozenset({"ALERTS", "ALERTS_FOR_STATE"})


@dataclass(frozen=True)
class RuleNode:
    """A rule as the dependency graph sees it: what it writes, what it reads."""

    name: str
    kind: str  # "alert" | "record"
    reads: frozenset[str]

    @property
    def writes(self) -> frozenset[str]:
        return ALERT_SERIES if self.kind == "alert" else frozenset({self.name})


@dataclass(frozen=True)
class GroupScope:
    index: int
    name: str
    line: int
    alertnames: frozenset[str]
    reads: frozenset[str]  # metric names read by promql_expr_test expressions (ANY: unknown)


@dataclass
class TestFile:
    """A promtool test file and the rule files it loads (absolute, globs expanded)."""

    path: Path
    shown: str
    data: dict[str, Any]
    rule_files: list[Path]
    groups: list[GroupScope] = field(default_factory=list)
    nodes: list[RuleNode] = field(default_factory=list)


def reads_of(expr: str) -> frozenset[str]:
    a = analyze(expr)
    if not a.ok:
        return frozenset({ANY})
    names = {s.name or ANY for s in a.selectors}
    return frozenset(names)


def resolve_rule_files(data: dict[str, Any], base: Path) -> list[Path]:
    """``rule_files`` of a test file as absolute paths; globs expanded like promtool does."""
    out: list[Path] = []
    for r in data.get("rule_files") or []:
        if not isinstance(r, str):
            continue
        p = Path(r) if Path(r).is_absolute() else base / r
        if glob.has_magic(str(p)):
            out.extend(Path(x).resolve() for x in sorted(glob.glob(str(p))))
        else:
            out.append(p.resolve())
    return list(dict.fromkeys(out))


def rule_nodes(data: Any) -> list[RuleNode]:
    nodes: list[RuleNode] = []
    for g in (data.get("groups") or []) if isinstance(data, dict) else []:
        for r in (g.get("rules") or []) if isinstance(g, dict) else []:
            if not isinstance(r, dict):
                continue
            kind = "alert" if "alert" in r else "record" if "record" in r else ""
            if kind:
                nodes.append(RuleNode(str(r[kind]), kind, reads_of(str(r.get("expr", "")))))
    return nodes


def group_scopes(data: dict[str, Any], lines: list[int], names: list[str]) -> list[GroupScope]:
    out: list[GroupScope] = []
    for i, g in enumerate(data.get("tests") or []):
        g = g if isinstance(g, dict) else {}
        alerts = frozenset(str(t.get("alertname")) for t in g.get("alert_rule_test") or []
                           if isinstance(t, dict))
        reads: set[str] = set()
        for t in g.get("promql_expr_test") or []:
            if isinstance(t, dict):
                reads |= reads_of(str(t.get("expr", "")))
        out.append(GroupScope(i, names[i], lines[i], alerts, frozenset(reads)))
    return out


def load_test_file(path: Path, shown: str, rule_data: dict[Path, Any]) -> TestFile:
    """``rule_data`` caches loaded rule files by absolute path (filled here when missing)."""
    from moncheck.tools.promtool import test_groups

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        data = {}
    groups = test_groups(path, shown)
    tf = TestFile(path.resolve(), shown, data, resolve_rule_files(data, path.resolve().parent))
    tf.groups = group_scopes(data, [g.line for g in groups], [g.name for g in groups])
    for rf in tf.rule_files:
        if rf not in rule_data:
            try:
                rule_data[rf] = yaml.safe_load(rf.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                rule_data[rf] = None  # promtool reports it in the baseline run
        tf.nodes += rule_nodes(rule_data[rf])
    return tf


def affected(nodes: list[RuleNode], changed: str, kind: str) -> tuple[set[str], set[str]]:
    """(alert names, series names) whose values may differ when rule ``changed`` changes."""
    alerts: set[str] = set()
    series: set[str] = set()
    todo = [RuleNode(changed, kind, frozenset())]
    done: set[tuple[str, str]] = set()
    while todo:
        n = todo.pop()
        if (n.name, n.kind) in done:
            continue
        done.add((n.name, n.kind))
        if n.kind == "alert":
            alerts.add(n.name)
        series |= n.writes
        for m in nodes:
            if (m.name, m.kind) not in done and (ANY in m.reads or m.reads & n.writes):
                todo.append(m)
    return alerts, series


def observers(tf: TestFile, changed: str, kind: str) -> list[GroupScope]:
    """The groups of ``tf`` that can observe a change of rule ``changed`` (of ``kind``)."""
    alerts, series = affected(tf.nodes, changed, kind)
    return [g for g in tf.groups
            if g.alertnames & alerts or ANY in g.reads or g.reads & series]


def needed(tf: TestFile, groups: list[GroupScope]) -> set[tuple[str, str]] | None:
    """(name, kind) of the rules the ``groups`` depend on (the alerts they test, the rules
    writing the series their expressions read, transitively), or None when that is not known
    (a nameless selector) and every rule must stay. The other rules cannot change what these
    groups see, so leaving them out of the rule files is sound and saves their evaluation."""
    series: set[str] = set()
    alertnames: set[str] = set()
    for g in groups:
        series |= g.reads
        alertnames |= g.alertnames
    return cone(tf.nodes, alertnames, series)


def cone(nodes: list[RuleNode], alertnames: set[str], series: set[str]) -> set[tuple[str, str]] | None:
    """(name, kind) of the rules that alerts ``alertnames`` and expressions reading ``series``
    depend on, transitively; None when a nameless selector makes that unknown."""
    series = set(series)
    # Rules are kept by (name, kind), so every rule of a name stays (a page and a ticket alert
    # share their name; one series name may be recorded by several rules).
    taken: set[int] = set()
    while True:
        if ANY in series:
            return None
        grown = False
        for i, n in enumerate(nodes):
            if i in taken:
                continue
            wanted = (n.name in alertnames or bool(ALERT_SERIES & series)) if n.kind == "alert" \
                else n.name in series
            if wanted:
                taken.add(i)
                series |= n.reads
                grown = True
        if not grown:
            return {(nodes[i].name, nodes[i].kind) for i in taken}


def prune(data: Any, keep: set[tuple[str, str]] | None) -> Any:
    """A rule file's data with only the rules in ``keep`` (all when None); empty groups go
    (promtool 2.x and 3.x accept a ``group_eval_order`` naming groups that are not loaded)."""
    if keep is None or not isinstance(data, dict):
        return data
    groups = []
    for g in data.get("groups") or []:
        if not isinstance(g, dict):
            continue
        rules = [r for r in g.get("rules") or [] if isinstance(r, dict) and _key(r) in keep]
        if rules:
            groups.append({**g, "rules": rules})
    return {**data, "groups": groups}


def _key(r: dict[str, Any]) -> tuple[str, str]:
    kind = "alert" if "alert" in r else "record"
    return str(r.get(kind)), kind
