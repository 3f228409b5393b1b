"""Drill files (``monitoring/drills/*.yml``): loading and validation against drill.schema.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from moncheck import yamlpos

SCHEMA = Path(__file__).resolve().parents[3] / "policies/schemas/drill.schema.json"


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
    return Drill(doc["name"], doc["description"], display, _traffic(doc["traffic"]),
                 bool(doc.get("baseline")), float(doc.get("duration", 0)), fault, expect,
                 [dict(u) for u in doc.get("untestable") or []])


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
