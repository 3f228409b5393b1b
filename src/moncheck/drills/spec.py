"""Drill files (``monitoring/drills/*.yml``): loading and validation against drill.schema.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from moncheck import resources, yamlpos

SCHEMA = resources.schema_path("drill")


class DrillError(Exception):
    """Invalid drill files; ``problems`` are ``path:line: message`` strings."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Traffic:
    users: int
    spawn_rate: float
    rate_per_user: float
    classes: dict[str, int]


@dataclass
class Expect:
    alert: str
    labels: dict[str, str]
    receivers: list[str]
    fire_within: float
    resolves: bool
    line: int


@dataclass
class Observe:
    """A PromQL query asserted when the fault is cleared (``$__fault``: time since the fault)."""

    query: str
    above: float | None
    below: float | None
    line: int


@dataclass
class Drill:
    name: str
    description: str
    path: str
    traffic: Traffic
    baseline: bool = False
    duration: float = 0.0
    fault: dict[str, Any] = field(default_factory=dict)
    expect: list[Expect] = field(default_factory=list)
    untestable: list[dict[str, str]] = field(default_factory=list)
    # Alerts that must neither fire in Prometheus nor reach a receiver while the drill runs.
    expect_silent: list[str] = field(default_factory=list)
    observe: list[Observe] = field(default_factory=list)
    # Run right after the baselines, before any drill that injects errors: a drill whose alert
    # reads long windows (an SLO's 1h burn) must start with windows free of earlier drills' faults.
    runs_first: bool = False


def run_order(drills: list[Drill]) -> list[Drill]:
    """The order drills run in (they share one service): baselines, then ``runs_first``, then by name."""
    return sorted(drills, key=lambda d: (not d.baseline, not d.runs_first, d.name))


def _traffic(d: dict) -> Traffic:
    users = int(d["users"])
    return Traffic(users, float(d.get("spawn_rate", users)), float(d.get("rate_per_user", 1)),
                   dict(d.get("classes") or {"ApiUser": 1}))


def _schema_path(repo: Path) -> Path:
    local = repo / "policies/schemas/drill.schema.json"
    return local if local.exists() else SCHEMA


def load_file(path: Path, display: str, validator: jsonschema.Validator) -> Drill:
    doc = yamlpos.load(path, display)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        probs = []
        for e in errors:
            node: Any = doc
            for part in list(e.absolute_path)[:-1]:
                node = node[part]
            last = list(e.absolute_path)[-1] if e.absolute_path else None
            line = yamlpos.line_of(node, last if isinstance(last, str) else None)
            if isinstance(last, int) and isinstance(node, yamlpos.LocList):
                line = node.item_lines[last]
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            probs.append(f"{display}:{line}: {where}: {e.message}")
        raise DrillError(probs)
    expect = [Expect(x["alert"], dict(x.get("labels") or {}), list(x["receivers"]), float(x["fire_within"]),
                     bool(x.get("resolves", True)), yamlpos.line_of(x))
              for x in doc.get("expect") or []]
    fault = dict(doc.get("fault") or {})
    if "traffic" in fault:
        fault["traffic"] = _traffic(fault["traffic"])
    problems = _semantic_problems(doc, display)
    if problems:
        raise DrillError(problems)
    observe = [Observe(str(o["query"]), _opt_float(o.get("above")), _opt_float(o.get("below")),
                       yamlpos.line_of(o)) for o in doc.get("observe") or []]
    return Drill(doc["name"], doc["description"], display, _traffic(doc["traffic"]),
                 bool(doc.get("baseline")), float(doc.get("duration", 0)), fault, expect,
                 [dict(u) for u in doc.get("untestable") or []],
                 [str(a) for a in doc.get("expect_silent") or []], observe, bool(doc.get("runs_first")))


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _semantic_problems(doc: Any, display: str) -> list[str]:
    """What the schema cannot say: combinations of keys."""
    out = []
    baseline = bool(doc.get("baseline"))
    if baseline and not doc.get("duration"):
        out.append(f"{display}:{yamlpos.line_of(doc, 'baseline')}: baseline: a baseline needs `duration` "
                   "(production seconds of traffic, during which the fault, if any, is held)")
    if baseline and doc.get("expect"):
        out.append(f"{display}:{yamlpos.line_of(doc, 'expect')}: expect: a baseline asserts that no alert "
                   "fires; use `expect_silent` to name the alerts it is about")
    if not baseline and not doc.get("expect"):
        out.append(f"{display}:{yamlpos.line_of(doc, 'name')}: a drill that is not a baseline needs `expect` "
                   "(or `baseline: true` with `duration` to assert silence)")
    if not baseline and doc.get("fault") is None:
        out.append(f"{display}:{yamlpos.line_of(doc, 'name')}: a drill that is not a baseline needs a `fault`")
    silent = doc.get("expect_silent") or []
    expected = {x.get("alert") for x in doc.get("expect") or [] if isinstance(x, dict)}
    for i, name in enumerate(silent):
        if name in expected:
            line = silent.item_lines[i] if isinstance(silent, yamlpos.LocList) else yamlpos.line_of(doc)
            out.append(f"{display}:{line}: expect_silent: {name} is also expected to fire")
    for o in doc.get("observe") or []:
        if o.get("above") is None and o.get("below") is None:
            out.append(f"{display}:{yamlpos.line_of(o)}: observe: give `above` and/or `below`")
    return out


def load_drills(repo: Path) -> list[Drill]:
    """Every drill of ``repo/monitoring/drills``, sorted by file name; all problems collected."""
    schema = json.loads(_schema_path(repo).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    drills, problems = [], []
    for path in sorted((repo / "monitoring/drills").glob("*.yml")):
        display = str(path.relative_to(repo))
        try:
            drills.append(load_file(path, display, validator))
        except yamlpos.LoadError as e:
            problems.append(f"{e.path}:{e.line}: {e.message}")
        except DrillError as e:
            problems += e.problems
    names = [d.name for d in drills]
    for d in drills:
        if names.count(d.name) > 1:
            problems.append(f"{d.path}:1: drill name {d.name!r} is used by several files")
    if problems:
        raise DrillError(sorted(set(problems)))
    return drills
