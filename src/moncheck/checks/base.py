"""What every check shares: the run context (inventory + policy + derived indexes) and schema
validation with located errors."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from moncheck import durations, resources
from moncheck.findings import Finding, error
from moncheck.inventory import TARGET_LABELS, Inventory, Rule
from moncheck.policy import Policy
from moncheck.promql import OPEN, Labels, analyze, labels_of_node
from moncheck.yamlpos import LocDict, LocList, as_list


class Skip(Exception):
    """Raised by a check that cannot run on this inventory; the message is the reason."""


@dataclass
class Check:
    id: str
    fn: Callable[[Context], list[Finding]]


@dataclass
class Context:
    inv: Inventory
    pol: Policy

    def need_catalog(self) -> None:
        if self.inv.catalog is None:
            raise Skip("no metrics catalog (monitoring/catalog/metrics.yml; in loose mode pass one among the paths)")

    @cached_property
    def target_labels(self) -> frozenset[str]:
        """job/instance plus labels every scrape config attaches to its targets."""
        extra: set[str] = set()
        prom = self.inv.prometheus.data if self.inv.prometheus else None
        for sc in (prom or {}).get("scrape_configs") or [] if isinstance(prom, dict) else []:
            if not isinstance(sc, dict):
                continue
            for st in as_list(sc.get("static_configs")):
                if isinstance(st, dict) and isinstance(st.get("labels"), dict):
                    extra.update(str(k) for k in st["labels"])
        return TARGET_LABELS | extra

    @cached_property
    def records(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = {}
        for r in self.inv.rules:
            if r.kind == "record":
                out.setdefault(r.name, []).append(r)
        return out

    def series_labels(self, name: str) -> frozenset[str] | None:
        """Labels a cataloged series carries (with target labels), None if not cataloged."""
        cat = self.inv.catalog
        if cat is None or name not in cat.series:
            return None
        metric, kind = cat.series[name]
        labels = set(metric.labels) | self.target_labels
        if kind == "bucket":
            labels.add("le")
        if kind == "quantile":
            labels.add("quantile")
        return frozenset(labels)

    def labels_of(self, name: str) -> Labels:
        """Labels of a selector's series: catalog, or a recording rule's result; OPEN if unknown."""
        return self._labels_of(name, frozenset())

    def _labels_of(self, name: str, seen: frozenset[str]) -> Labels:
        known = self.series_labels(name)
        if known is not None:
            return Labels(known)
        if name in self._record_labels:
            return self._record_labels[name]
        rules = self.records.get(name)
        if not rules or name in seen:
            return OPEN
        res: Labels | None = None
        for r in rules:
            a = analyze(r.expr)
            if not a.ok:
                return OPEN
            lab = labels_of_node(a.ast, lambda n: self._labels_of(n, seen | {name}))
            lab = lab.add(frozenset(r.labels))
            res = lab if res is None else res.union(lab)
        self._record_labels[name] = res or OPEN
        return self._record_labels[name]

    @cached_property
    def _record_labels(self) -> dict[str, Labels]:
        return {}

    def known_series(self, name: str) -> bool:
        cat = self.inv.catalog
        return (cat is not None and name in cat.series) or name in self.records


# ----------------------------------------------------------------------------- schemas

@lru_cache(maxsize=32)
def _schema_validator(path: str) -> Any:
    import jsonschema

    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    checker = copy.deepcopy(cls.FORMAT_CHECKER)
    # `format: duration` is Prometheus' (moncheck.durations), not ISO 8601's.
    checker.checkers.pop(durations.FORMAT, None)
    checker.checks(durations.FORMAT)(lambda v: not isinstance(v, str) or durations.is_valid(v))
    return cls(schema, format_checker=checker)


def schema_path(root: Path, kind: str) -> Path | None:
    """The repository's own ``policies/schemas/<kind>.schema.json``, else the one shipped with
    moncheck (package data)."""
    for p in (root / "policies" / "schemas" / f"{kind}.schema.json", resources.schema_path(kind)):
        if p.is_file():
            return p
    return None


def validator_for_kind(root: Path, kind: str) -> Any:
    """A jsonschema validator for ``kind`` (``rules``, ``slo``...); ``Skip`` when no schema exists."""
    sp = schema_path(root, kind)
    if sp is None:
        raise Skip(f"schema {kind}.schema.json not found")
    return _schema_validator(str(sp))


def locate(data: Any, path: list[Any]) -> int:
    """Line of the deepest node along a JSON-Schema error path."""
    node, line = data, getattr(data, "line", 1)
    for step in path:
        if isinstance(node, LocDict) and step in node:
            line = node.line_of(step)
            node = node[step]
        elif isinstance(node, LocList) and isinstance(step, int) and step < len(node):
            line = node.item_lines[step] if step < len(node.item_lines) else node.line
            node = node[step]
        else:
            break
    return line


def validate(ctx: Context, check_id: str, kind: str, rel: str, data: Any) -> list[Finding]:
    v = validator_for_kind(ctx.inv.root, kind)
    out = []
    for e in sorted(v.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        unknown = _unknown_keys(e)
        if unknown:  # on the unknown key's own line, not its parent's
            out += [error(check_id, rel, e.instance.line_of(k), f"{where}: unknown key {k!r} (not allowed here)")
                    for k in unknown]
            continue
        out.append(error(check_id, rel, locate(data, list(e.absolute_path)), f"{where}: {_short(_message(e))}"))
    return out


def _unknown_keys(e: Any) -> list[Any]:
    """Keys an ``additionalProperties: false`` (or ``unevaluatedProperties``) error is about."""
    if e.validator not in ("additionalProperties", "unevaluatedProperties") or not isinstance(e.instance, LocDict):
        return []
    schema = e.schema if isinstance(e.schema, dict) else {}
    props = schema.get("properties") or {}
    patterns = list((schema.get("patternProperties") or {}).keys())
    return [k for k in e.instance if k not in props and not any(re.search(p, str(k)) for p in patterns)]


def _is_duration_error(e: Any) -> bool:
    return (e.validator == "pattern" and e.validator_value == durations.SCHEMA_PATTERN) or (
        e.validator == "format" and e.validator_value == durations.FORMAT)


def _message(e: Any) -> str:
    """jsonschema's message, except for durations, where it names the rule that was broken."""
    if _is_duration_error(e) or (e.validator in ("oneOf", "anyOf") and any(_is_duration_error(c) for c in e.context)):
        try:
            durations.parse_ms(e.instance)
        except ValueError as err:
            return str(err)
    return str(e.message)


def _short(msg: str, limit: int = 200) -> str:
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."
