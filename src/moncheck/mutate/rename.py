"""Judge many mutants in one promtool test group run, by renaming.

promtool's per-group set-up (loading the input series, evaluating every rule over the test's
whole time range) costs far more than one more rule. So instead of one run per mutant, one copy
of a test group judges a whole batch of mutants: for mutant ``i`` the rule files get, beside the
unchanged originals, copies of every rule whose output the mutant can change (``scope.affected``:
the mutated rule, the recording rules downstream of it and the alerts reading them) under
renamed outputs (``<name>__mut<i>``), their references to renamed series renamed through the
project's printer; the group's alert tests of the affected alerts are duplicated with the
renamed alert names, its other tests dropped (they pass: the baseline ran them). promtool
reports each failed assertion with its alert name (and a rule that fails to evaluate with its
rule name), so every failure maps to its mutant.

This is the one-mutant-per-run result exactly when the copies behave as the mutated originals
would and nothing else sees them. ``plan`` refuses (the caller then runs the mutant alone) when:

- a copied rule reads ``ALERTS``/``ALERTS_FOR_STATE`` or a selector without a metric name (the
  copies' own alerts would show up in it), or mentions ``__name__`` (the renamed series carry
  another name);
- a copied alert's label or annotation templates run queries or look at the labels as a whole,
  at ``__name__`` or at ``alertname``;
- an expression does not print back to the same tree (the printer would change its meaning);
- an existing name already looks like a renamed one.

``observable`` refuses a group whose expression tests read an affected series: those see the
originals, not the copies. A rule copy is placed right after its original, in the same group, so
every copy reads its inputs at the same point of the evaluation order as the original does.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser as pp

from moncheck.drills.promql_print import _OPS, Printer, _string
from moncheck.mutate import scope
from moncheck.mutate.mutants import Mutant
from moncheck.promql import parse
from moncheck.tools import testfail

SUFFIX = "__mut"
_RENAMED = re.compile(re.escape(SUFFIX) + r"(\d+)$")
_IN_EXPR = re.compile(re.escape(SUFFIX) + r"(\d+)(?![\w:])")
_RULE_ERROR = re.compile(r"^\s*rule: (?P<name>.*?), time: ")
# Template text a renamed copy could render differently: queries (they read the originals),
# the label set as a whole, ``__name__`` (renamed series) and ``alertname``.
_UNSAFE_TEMPLATE = re.compile(r"query|__name__|alertname|\$labels(?![.\w])|\.Labels(?![.\w])")


def renamed(name: str, i: int) -> str:
    return f"{name}{SUFFIX}{i}"


def mutant_of(name: str) -> int | None:
    m = _RENAMED.search(name)
    return int(m.group(1)) if m else None


class Renamer(Printer):
    """The printer, with selectors of the metric names in ``names`` renamed to
    ``names[name]``; with ``alerts``, also ``alertname`` matchers of ``ALERTS`` selectors."""

    def __init__(self, names: Mapping[str, str], alerts: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.names, self.alerts = names, alerts or {}

    def selector(self, vs: pp.VectorSelector) -> str:  # type: ignore[override]
        text = Printer.selector(vs)
        name = vs.name or ""
        if name in scope.ALERT_SERIES and self.alerts and not vs.matchers.or_matchers:
            ms = [f"{m.name}{_OPS[str(m.op)]}{_string(self._alert(m))}"
                  for m in vs.matchers.matchers]
            return f"{name}{{{', '.join(ms)}}}"
        if name in self.names:
            return self.names[name] + text[len(name):]
        return text

    def _alert(self, m: Any) -> str:
        if m.name == "alertname" and str(m.op) == "MatchOp.Equal":
            return self.alerts.get(m.value, m.value)
        return str(m.value)


def rename_expr(expr: str, names: frozenset[str], i: int) -> str | None:
    """``expr`` with its selectors of ``names`` renamed for mutant ``i``; None when the printer
    does not print ``expr`` back to the same tree."""
    return rename_with(expr, Renamer({n: renamed(n, i) for n in names}))


def rename_with(expr: str, printer: Printer) -> str | None:
    """``expr`` printed by ``printer``; None when the plain printer does not print ``expr``
    back to the same tree (the renamed text could then mean something else)."""
    try:
        tree = parse(expr)
        if str(parse(Printer()(tree))) != str(tree):
            return None
        return printer(tree)
    except ValueError:
        return None


@dataclass(frozen=True)
class Plan:
    """How mutant ``index`` is judged by renaming in the groups of one test file: the alert
    names and series (``scope.affected``) it may change, or ``why`` it cannot be."""

    index: int
    alerts: frozenset[str]
    series: frozenset[str]
    why: str = ""
    # (alert name, label, values): of the alerts of that name only those with one of these
    # values of the label are affected and copied (``_split``)
    split: tuple[tuple[str, str, frozenset[str]], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.why

    @property
    def records(self) -> frozenset[str]:
        return self.series - scope.ALERT_SERIES


def _kind(r: dict[str, Any]) -> str:
    return "alert" if "alert" in r else "record" if "record" in r else ""


def _copied(r: dict[str, Any], p: Plan) -> bool:
    """Whether mutant ``p`` gets a renamed copy of rule ``r``."""
    kind = _kind(r)
    if kind == "alert":
        name = str(r["alert"])
        for alert, label, values in p.split:
            if alert == name:
                return str(_labels(r).get(label)) in values
        return name in p.alerts
    return kind == "record" and str(r["record"]) in p.records


def _labels(r: dict[str, Any]) -> dict[str, Any]:
    got = r.get("labels")
    return got if isinstance(got, dict) else {}


def _is_mutated(m: Mutant, path: Path, rf: Path, group: Any, ri: int) -> bool:
    return rf == path and isinstance(group, dict) and str(group.get("name", "")) == m.rule.group \
        and ri == m.rule.index


def _mutated_rule(m: Mutant, r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    if m.value is None:
        out.pop(m.key, None)
    else:
        out[m.key] = m.value
    return out


def rules_of(tf: scope.TestFile, rule_data: dict[Path, Any]) -> list[tuple[Path, Any, int, dict[str, Any]]]:
    """(rule file, group, index, rule) of every rule the test file loads."""
    out = []
    for rf in tf.rule_files:
        data = rule_data.get(rf)
        for g in (data.get("groups") or []) if isinstance(data, dict) else []:
            for ri, r in enumerate((g.get("rules") or []) if isinstance(g, dict) else []):
                if isinstance(r, dict) and _kind(r):
                    out.append((rf, g, ri, r))
    return out


def plan(tf: scope.TestFile, rule_data: dict[Path, Any], i: int, m: Mutant, path: Path) -> Plan:
    alerts, series = scope.affected(tf.nodes, m.rule.name, m.rule.kind)
    p = Plan(i, frozenset(alerts), frozenset(series))
    if any(_RENAMED.search(n.name) for n in tf.nodes) or any(
            _RENAMED.search(a) for g in tf.groups for a in g.alertnames):
        return Plan(i, p.alerts, p.series, f"a rule or alert name ends like {SUFFIX}<n>")
    for rf, g, ri, r in rules_of(tf, rule_data):
        if not _copied(r, p):
            continue
        kind = _kind(r)
        if _is_mutated(m, path, rf, g, ri):
            r = _mutated_rule(m, r)
        expr = str(r.get("expr", ""))
        reads = scope.reads_of(expr)
        if scope.ANY in reads or reads & scope.ALERT_SERIES or "__name__" in expr:
            return Plan(i, p.alerts, p.series, f"{r[kind]} reads ALERTS, __name__ or any metric")
        if reads & p.records and rename_expr(expr, p.records, i) is None:
            return Plan(i, p.alerts, p.series, f"{r[kind]}: expression does not print back")
        if kind == "alert":
            for key in ("labels", "annotations"):
                values = r.get(key) or {}
                if not isinstance(values, dict):
                    return Plan(i, p.alerts, p.series, f"{r[kind]}: {key} is not a mapping")
                if any(_UNSAFE_TEMPLATE.search(str(v)) for v in values.values()):
                    return Plan(i, p.alerts, p.series, f"{r[kind]}: its templates query or "
                                "read labels a renamed copy changes")
    return Plan(i, p.alerts, p.series, split=_split(tf, rule_data, m, path, p))


def _split(tf: scope.TestFile, rule_data: dict[Path, Any], m: Mutant, path: Path,
           p: Plan) -> tuple[tuple[str, str, frozenset[str]], ...]:
    """Alert names of which the mutant changes only some rules (a page and a ticket alert of one
    name, one reading the changed series), told apart by a label with a fixed value in each
    rule (``severity``): the others behave as in the baseline, which passed, so the alerts they
    raise matched the expected alerts with their values of that label. Only the changed rules are
    then copied and only the expected alerts with their values asserted: the same verdict."""
    rules: dict[str, list[tuple[dict[str, Any], bool]]] = {}
    for rf, g, ri, r in rules_of(tf, rule_data):
        if _kind(r) != "alert" or str(r["alert"]) not in p.alerts:
            continue
        mutated = _is_mutated(m, path, rf, g, ri)
        reads = scope.reads_of(str((_mutated_rule(m, r) if mutated else r).get("expr", "")))
        rules.setdefault(str(r["alert"]), []).append((r, mutated or bool(reads & p.series)))
    out = []
    for name, rs in sorted(rules.items()):
        if all(hit for _, hit in rs) or not any(hit for _, hit in rs):
            continue
        labels: list[dict[str, Any]] = [_labels(r) for r, _ in rs]
        common = set.intersection(*(set(ls) for ls in labels))
        for label in sorted(common):
            values = [str(ls[label]) for ls in labels]
            if any("{{" in v for v in values):
                continue
            hit = {v for v, (_, h) in zip(values, rs, strict=True) if h}
            miss = {v for v, (_, h) in zip(values, rs, strict=True) if not h}
            if not hit & miss:
                out.append((name, label, frozenset(hit)))
                break
    return tuple(out)


def observable(p: Plan, g: scope.GroupScope, test: Any) -> bool:
    """Whether group ``g`` (``test``: its data) judges mutant ``p`` through renamed copies
    alone: every expression test reading an affected series can read the renamed ones instead
    (no ``ALERTS``, no ``__name__``, prints back), and it tests something affected."""
    if not p.ok or scope.ANY in g.reads or not isinstance(test, dict):
        return False
    if g.reads & p.series:
        for t in test.get("promql_expr_test") or []:
            if not isinstance(t, dict):
                return False
            expr = str(t.get("expr", ""))
            reads = scope.reads_of(expr)
            if not reads & p.series:
                continue
            labels = " ".join(str(s.get("labels", "")) for s in t.get("exp_samples") or [] if isinstance(s, dict))
            if scope.ANY in reads or reads & scope.ALERT_SERIES or "__name__" in expr + labels \
                    or rename_expr(expr, p.records, p.index) is None:
                return False
    return bool(g.alertnames & p.alerts or g.reads & p.series)


def _renamed_samples(samples: Any, p: Plan) -> list[Any]:
    """Expected samples with the metric names of renamed series renamed (``name{...}``)."""
    out = []
    for s in samples or []:
        labels = str(s.get("labels", "")) if isinstance(s, dict) else ""
        name = labels.split("{", 1)[0].strip()
        out.append({**s, "labels": renamed(name, p.index) + labels[len(name):]} if name in p.records else s)
    return out


def _copy(r: dict[str, Any], p: Plan) -> dict[str, Any]:
    out = copy.deepcopy(r)
    kind = _kind(out)
    out[kind] = renamed(str(out[kind]), p.index)
    expr = str(out.get("expr", ""))
    if scope.reads_of(expr) & p.records:
        new = rename_expr(expr, p.records, p.index)
        assert new is not None  # plan() checked it
        out["expr"] = new
    return out


def rule_data_for(tf: scope.TestFile, rule_data: dict[Path, Any],
                  batch: list[tuple[Plan, Mutant, Path]]) -> dict[Path, Any]:
    """Each rule file of ``tf`` with, right after every rule, its renamed copies for the
    mutants of ``batch`` (mutated for the mutant's own rule)."""
    out: dict[Path, Any] = {}
    for rf in tf.rule_files:
        data = rule_data.get(rf)
        if not isinstance(data, dict):
            continue
        groups = []
        for g in data.get("groups") or []:
            if not isinstance(g, dict):
                continue
            rules: list[Any] = []
            for ri, r in enumerate(g.get("rules") or []):
                rules.append(r)
                if not isinstance(r, dict):
                    continue
                for p, m, path in batch:
                    if _copied(r, p):
                        src = _mutated_rule(m, r) if _is_mutated(m, path, rf, g, ri) else r
                        rules.append(_copy(src, p))
            groups.append({**g, "rules": rules})
        out[rf] = {**data, "groups": groups}
    return out


def group_for(test: dict[str, Any], plans: list[Plan]) -> dict[str, Any]:
    """A copy of test group ``test`` asserting, for each plan, its affected alerts and the
    expressions reading affected series, renamed."""
    cases: list[Any] = []
    exprs: list[Any] = []
    for p in plans:
        split = {name: (label, values) for name, label, values in p.split}
        for t in test.get("alert_rule_test") or []:
            if isinstance(t, dict) and str(t.get("alertname")) in p.alerts:
                case = {**t, "alertname": renamed(str(t["alertname"]), p.index)}
                if str(t["alertname"]) in split:
                    label, values = split[str(t["alertname"])]
                    case["exp_alerts"] = [a for a in t.get("exp_alerts") or [] if isinstance(a, dict)
                                          and str((a.get("exp_labels") or {}).get(label)) in values]
                cases.append(case)
        for t in test.get("promql_expr_test") or []:
            if isinstance(t, dict) and scope.reads_of(str(t.get("expr", ""))) & p.series:
                expr = rename_expr(str(t["expr"]), p.records, p.index)
                assert expr is not None  # observable() checked it
                exprs.append({**t, "expr": expr, "exp_samples": _renamed_samples(t.get("exp_samples"), p)})
    out = {k: v for k, v in test.items() if k not in ("alert_rule_test", "promql_expr_test")}
    out["alert_rule_test"] = cases
    out["promql_expr_test"] = exprs
    return out


def verdicts(failure: str, batch: set[int]) -> tuple[set[int], bool] | None:
    """From the failure text of one batch group run: (the mutants killed, whether promtool
    stopped early at a rule that failed to evaluate, so the others are not judged yet); None
    when a failure belongs to no mutant of ``batch`` (nothing can be concluded)."""
    killed: set[int] = set()
    stopped = False
    for e in testfail.entries(failure):
        if e.kind == "alert":
            i = mutant_of(e.what)
        elif e.kind == "expr":
            found = {int(x) for x in _IN_EXPR.findall(e.what)}
            i = found.pop() if len(found) == 1 else None
        elif (m := _RULE_ERROR.match(e.text.splitlines()[0] if e.text else "")) is not None:
            i = mutant_of(m.group("name"))
            stopped = True
        else:
            return None
        if i is None or i not in batch:
            return None
        killed.add(i)
    return killed, stopped
