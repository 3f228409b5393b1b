"""Generated promtool unit tests for an SLO's alerts and recording rules.

The scenarios come from ``moncheck.slo.scenarios``: workloads whose error ratio and traffic
change over time (a sustained medium burn only the slow pair sees, a short spike, recovery, a
traffic step, thresholds just below and just above, ``for`` boundaries, days-long burns), each
asserted at the evaluation times where a modelled mutant of the rules would behave differently.
Four files per SLO keep every file cheap and the cost linear in the number of SLOs:

- ``<slo id>.test.yml``: minute-by-minute evaluation, hours of data (the fast windows, ``for``);
- ``<slo id>.days.test.yml``: evaluation every 30 minutes over days (the 1d and 3d windows);
- ``<slo id>.exact.test.yml``: evaluation every 6 hours, the burn conditions exactly at their
  thresholds (``exact``; a case that needs shorter steps goes to one of the two files above);
- ``<slo id>.period.test.yml``: evaluation every 11 hours over more than the SLO period (the
  period SLI, the metadata rules). 11 hours divides no supported period, so no sample sits on
  a range boundary (Prometheus 2 and 3 treat those differently).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moncheck.slo import exact, promql
from moncheck.slo import scenarios as scen
from moncheck.slo.burnmodel import DEFAULT_SLI, Alert, Alt, Coef, Sli, Term, alert_of
from moncheck.slo.catalog import Catalog
from moncheck.slo.gofmt import go_float, parse_duration, prom_duration
from moncheck.slo.model import SLO
from moncheck.slo.rules import (
    WINDOW_LABEL,
    Info,
    Rule,
    alert_rules,
    meta_rules,
    sli_metric,
    slo_labels,
    windows_of,
)
from moncheck.slo.promql import Matcher, Selector
from moncheck.slo.synth import Series, Workload, selects, synthesise

NO_ALERTS = "the SLO has no alerts"
PERIOD_INTERVAL_MIN = 11 * 60
EXACT_INTERVAL_MIN = exact.INTERVALS[0]
PERIOD_SAMPLE_MIN = 2
_LABEL_TPL = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


@dataclass
class TestFile:
    suffix: str  # "" | ".days" | ".period"
    evaluation_interval: str
    tests: list[dict[str, Any]]
    group_order: list[str]


def _fmt(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(round(x, 9))


def _values(incs: list[tuple[int, float]]) -> str:
    """promtool expanding notation for a counter growing ``inc`` per sample for ``n`` samples,
    segment after segment, from 0."""
    items, value, first = [], 0.0, True
    for n, inc in incs:
        if first:
            items.append(f"0+{_fmt(inc)}x{n}")
            value, first = inc * n, False
            continue
        value += inc
        items.append(f"{_fmt(value)}+{_fmt(inc)}x{n - 1}" if n > 1 else _fmt(value))
        value += inc * (n - 1)
    return " ".join(items)


def _input_series(w: Workload, segments: tuple[scen.Segment, ...], base: int,
                  per_sample: int = 1) -> list[dict[str, str]]:
    out = []
    dg, db = scen.decoy_per_minute(base)
    minutes = sum(seg.minutes for seg in segments)
    # Requests per sample of each segment: (all, first half, second half) x (good, bad); the
    # first half rounds down, the second up.
    counts = []
    for seg in segments:
        total = round(base * seg.traffic)
        bad = round(total * min(1.0, seg.ratio))
        good = total - bad
        counts.append((seg.minutes // per_sample,
                       ((good, bad), (good // 2, bad // 2), (good - good // 2, bad - bad // 2))))
    for s in w.series:
        if s.decoy:  # constant decoy traffic for the whole test
            inc = (s.per_good * dg + s.per_bad * db) * per_sample
            out.append({"series": s.text(), "values": _values([(minutes // per_sample, inc)])})
            continue
        incs = [(n, (s.per_good * parts[s.part][0] + s.per_bad * parts[s.part][1]) * per_sample)
                for n, parts in counts]
        out.append({"series": s.text(), "values": _values(incs)})
    return out


def _expand(text: str, labels: dict[str, str]) -> str | None:
    # A label the alert does not carry expands to "" ($labels is a map[string]string).
    out = _LABEL_TPL.sub(lambda m: labels.get(m.group(1), ""), text)
    return None if "{{" in out else out


def _minutes(m: int) -> str:
    return prom_duration(m * 60_000)


def model_sli(slo: SLO, work: Workload | None) -> Sli:
    """The SLI as the burn model sees it: each side a sum of terms, each term what its
    selector reads of the generated input series (and what it reads with one matcher removed
    or negated); the model's whole-side default when a query is not such a sum."""
    if work is None or slo.error_query is None or slo.total_query is None:
        return DEFAULT_SLI
    sides = []
    for query, name in ((slo.error_query, "errors"), (slo.total_query, "total")):
        q = promql.fill_window(query, "5m")
        terms, sels = promql.linear_terms(q), promql.selectors(q)
        if terms is None or len(terms) != len(sels):
            return DEFAULT_SLI
        side = []
        for j, (lt, sel) in enumerate(zip(terms, sels)):
            coef, n = _reads(sel, work)
            alts = []
            for i, m in enumerate(sel.matchers):
                if m.name == "__name__":
                    continue
                flipped = Matcher(m.name, _NEGATED[m.op], m.value)
                for what, ms in (("removed", sel.matchers[:i] + sel.matchers[i + 1:]),
                                 ("negated", (*sel.matchers[:i], flipped, *sel.matchers[i + 1:]))):
                    got = _reads(Selector(sel.metric, tuple(ms)), work)
                    if got != (coef, n):
                        alts.append(Alt(f"{m.name}{m.op} {what}", *got))
            # Names without metric names or label values: SLOs of one shape share one plan.
            label = name if len(sels) == 1 else f"{name} term {j + 1}"
            side.append(Term(coef, lt.sign, n, lt.fn, agg=lt.summed, alts=tuple(alts),
                             label=label))
        sides.append(tuple(side))
    return Sli(sides[0], sides[1])


_NEGATED = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}


def _reads(sel: Selector, work: Workload) -> tuple[Coef, int]:
    """Growth per request kind of the series ``sel`` picks, and how many it picks."""
    picked = [s.coef() for s in work.series if selects(sel, s)]
    coef = tuple(float(sum(c[k] for c in picked)) for k in range(4))
    return (coef[0], coef[1], coef[2], coef[3]), len(picked)


def model_alerts(slo: SLO, rules: list[Rule], work: Workload | None = None) -> tuple[Alert, ...]:
    ws = windows_of(slo)
    budget = (100 - slo.objective) / 100
    sli = model_sli(slo, work)
    out = []
    for sev, quick, slow, meta in (("page", ws.page_quick, ws.page_slow, slo.page),
                                   ("ticket", ws.ticket_quick, ws.ticket_slow, slo.ticket)):
        if meta is None or meta.disable:
            continue
        for_ms = parse_duration(meta.for_) if meta.for_ else 0
        out.append(alert_of(sev, ws, quick, slow, budget, for_ms, sli))
    return tuple(out)


def _expected(slo: SLO, info: Info, rules: list[Rule]) -> dict[str, list[Any]] | str:
    """Per severity, the exp_alerts entry of that alert when it fires (or why it cannot be)."""
    series = {**slo.id_labels(), **slo_labels(slo, info)}
    out: dict[str, list[Any]] = {}
    for rule in rules:
        annotations = {}
        for k, v in rule.annotations.items():
            e = _expand(v, series)  # Prometheus expands $labels from the expression's result
            if e is None:
                return f"annotation {k!r} uses templates other than $labels"
            annotations[k] = e
        out[rule.labels["sloth_severity"]] = [rule.alert, {
            "exp_labels": dict(sorted({**series, **rule.labels}.items())),
            "exp_annotations": dict(sorted(annotations.items()))}]
    return out


def slo_tests(slo: SLO, catalog: Catalog | None, info: Info, group_order: list[str],
              cache_dir: Path | None = None) -> tuple[list[TestFile], str, list[str]]:
    """The promtool test files for one SLO, or ([], reason) when it cannot be tested, and the
    modelled mutants no scenario kills (none for the built-in windows; see docs/slo.md).

    ``group_order`` (every group of the rule file, in file order) becomes each test's
    ``group_eval_order``: without it promtool 2.x evaluates groups in random order, so an alert
    sometimes reads the SLI recorded one evaluation earlier and fires a minute late.
    """
    if slo.total_query and promql.top_level_grouping(promql.fill_window(slo.total_query, "5m")):
        return [], "the SLI keeps labels (aggregate without `by` to get one series)", []
    work, why = synthesise(slo, catalog)
    if work is None:
        return [], why, []
    rules = alert_rules(slo, windows_of(slo))
    files = []
    survivors: list[str] = []
    if rules:
        exp = _expected(slo, info, rules)
        if isinstance(exp, str):
            return [], exp, []
        alerts = model_alerts(slo, rules, work)
        plan = scen.plan(alerts, cache_dir)
        at_threshold, missing = exact.cases(alerts, exact_reads(slo, work),
                                              scen.base_traffic(alerts))
        survivors = plan.survivors + missing
        for suffix, interval in (("", scen.SHORT_INTERVAL), (".days", scen.LONG_INTERVAL),
                                 (".exact", EXACT_INTERVAL_MIN)):
            tests = [_alert_group(slo, sc, work, plan.base_traffic, exp)
                     for sc in plan.scenarios if sc.interval == interval]
            tests += [_exact_group(slo, case, work, exp)
                      for case in at_threshold if case.interval == interval]
            if tests:
                files.append(TestFile(suffix, _minutes(interval), tests, group_order))
    period = _period_test(slo, info, work)
    if period is not None:
        files.append(TestFile(".period", _minutes(PERIOD_INTERVAL_MIN), [period], group_order))
    return files, "" if rules else NO_ALERTS, survivors


def _alert_group(slo: SLO, sc: scen.Scenario, work: Workload, base: int,
                 exp: dict[str, list[Any]]) -> dict[str, Any]:
    names = sorted({v[0] for v in exp.values()})
    checks = []
    for t in sc.checkpoints:
        for name in names:
            firing = [exp[sev][1] for sev in sorted(sc.firing[t]) if exp[sev][0] == name]
            checks.append({"eval_time": _minutes(t), "alertname": name, "exp_alerts": firing})
    desc = ", then ".join(f"{_pct(s.ratio)} errors for {_minutes(s.minutes)}"
                          + (f" at {s.traffic:g}x traffic" if s.traffic != 1 else "")
                          for s in sc.segments)
    return {"name": f"{slo.id}: {sc.title} ({desc})", "interval": _minutes(scen.SHORT_INTERVAL),
            "input_series": _input_series(work.only(sc.decoys, sc.halves), sc.segments, base),
            "alert_rule_test": checks}


def _exact_group(slo: SLO, case: exact.Case, work: Workload,
                 exp: dict[str, list[Any]]) -> dict[str, Any]:
    """The alerts when one burn condition's ratio is exactly its threshold (``exact``)."""
    picked = _exact_series(slo, work)
    assert picked is not None and work.copy_label is not None
    series = []
    for s, old, new in zip(picked, case.old, case.new):
        for copy, tr in (("old", old), ("new", new)):
            labels = tuple(sorted({**s.labels, work.copy_label: copy}.items()))
            series.append({"series": Series(s.metric, dict(labels), 0, 0).text(),
                           "values": _track_values(tr, case.at)})
    names = sorted({v[0] for v in exp.values()})
    checks = [{"eval_time": _minutes(case.check), "alertname": name,
               "exp_alerts": [exp[sev][1] for sev in sorted(case.firing) if exp[sev][0] == name]}
              for name in names]
    flt = "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(slo.id_labels().items())) + "}"
    premise = (f"count({sli_metric(case.window * 60_000)}{flt} == "
               f"{go_float(case.threshold)})")
    window = _minutes(case.window)
    return {"name": f"{slo.id}: {case.severity} {window} condition exactly at its threshold "
                    f"at {_minutes(case.at)}: `>` does not hold, so the {case.severity} alert "
                    f"does not fire; with `>=` it would",
            "interval": _minutes(scen.SHORT_INTERVAL), "input_series": series,
            "alert_rule_test": checks,
            "promql_expr_test": [{"expr": premise, "eval_time": _minutes(case.at),
                                  "exp_samples": [{"labels": "{}", "value": 1}]}]}


# id(track) -> (the track, kept alive so its id is not reused; exact_from; its text): the cases
# of one rule shape are shared by every SLO of that shape (exact.cases is cached).
_TRACK_TEXT: dict[int, tuple[exact.Track, int, str]] = {}


def _track_values(tr: exact.Track, exact_from: int) -> str:
    got = _TRACK_TEXT.get(id(tr))
    if got is None or got[1] != exact_from:
        if len(_TRACK_TEXT) > 50_000:
            _TRACK_TEXT.clear()
        got = _TRACK_TEXT[id(tr)] = (tr, exact_from, _track_text(tr, exact_from))
    return got[2]


def _track_text(tr: exact.Track, exact_from: int) -> str:
    """promtool values of a track: blanks before its start, whole numbers in expanding
    notation, and the sample at ``exact_from`` as the shortest text that reads back to the
    same double."""
    items = [f"_x{tr.start}"] if tr.start else []
    upto = min(tr.end, exact_from - 1)
    if upto >= tr.start:
        whole = tr.values[:upto - tr.start + 1]
        runs: list[tuple[int, float]] = []
        for a, b in zip(whole, whole[1:]):
            inc = b - a
            if runs and runs[-1][1] == inc:
                runs[-1] = (runs[-1][0] + 1, inc)
            else:
                runs.append((1, inc))
        items.append(_values(runs) if runs else "0")
    rest = tr.values[max(0, exact_from - tr.start):]
    incs = {b - a for a, b in zip(rest, rest[1:])}
    first = repr(rest[0]) if rest else ""
    if len(incs) == 1 and "e" not in first and (inc := incs.pop()) == int(inc):
        # Exact at the equality; after it only conditions MARGIN clear of their thresholds
        # matter (exact._robust), so the
        # expansion (which promtool may sum in another order) is as good as every value.
        items.append(f"{first}+{_fmt(inc)}x{len(rest) - 1}")
    else:
        items += [repr(v) for v in rest]
    return " ".join(items)


def _exact_series(slo: SLO, work: Workload) -> list[Series] | None:
    """The input series the SLI reads, once each (no halves, no decoys)."""
    if slo.error_query is None or slo.total_query is None:
        return None
    sels = [sel for q in (slo.error_query, slo.total_query)
            for sel in promql.selectors(promql.fill_window(q, "5m"))]
    return [s for s in work.only(False, False).series if any(selects(sel, s) for sel in sels)]


def exact_reads(slo: SLO, work: Workload | None) -> exact.Reads | None:
    """What each term of the SLI picks of the input of an ``exact`` case, or None when a side
    is not a sum of such terms, a growth is not 0 or 1, or no label can tell two copies of a
    series apart."""
    if work is None or work.copy_label is None:
        return None
    picked = _exact_series(slo, work)
    if not picked or slo.error_query is None or slo.total_query is None:
        return None
    if any(v not in (0.0, 1.0) for s in picked for v in (s.per_good, s.per_bad)):
        return None
    sides = []
    for query in (slo.error_query, slo.total_query):
        q = promql.fill_window(query, "5m")
        terms, sels = promql.linear_terms(q), promql.selectors(q)
        if terms is None or len(terms) != len(sels):
            return None
        sides.append(tuple(tuple(i for i, s in enumerate(picked) if selects(sel, s))
                           for sel in sels))
    return exact.Reads(tuple((int(s.per_good), int(s.per_bad)) for s in picked),
                       sides[0], sides[1])


def _pct(r: float) -> str:
    return f"{100 * r:.4g}%"


def _period_test(slo: SLO, info: Info, work: Workload) -> dict[str, Any] | None:
    """The period SLI and the metadata rules, over more than the period: an early burn of 3x
    the budget, then half the budget, then a quarter, so the period, half of it and twice it
    all give different averages."""
    budget = (100 - slo.objective) / 100
    if budget <= 0:
        return None
    p = slo.period_ms // 60_000
    # Two samples at least in the shortest window, also left-open (Prometheus 3): a 2m window
    # (Sloth's examples/windows/custom-30d.yaml) needs one-minute samples.
    step = min(PERIOD_SAMPLE_MIN, windows_of(slo).all_windows_ms()[0] // 120_000)
    cuts = [_even(p // 4), _even(3 * p // 4)]
    horizon = _even(9 * p // 8 + PERIOD_INTERVAL_MIN)
    t = (horizon // PERIOD_INTERVAL_MIN) * PERIOD_INTERVAL_MIN
    levels = (min(1.0, 3 * budget), budget / 2, budget / 4)
    segs = (scen.Segment(cuts[0], levels[0]), scen.Segment(cuts[1] - cuts[0], levels[1]),
            scen.Segment(horizon - cuts[1], levels[2]))
    base = max(1000, math.ceil(4000 / budget))

    def level_at(m: int) -> float:  # error ratio of the 5 minutes before m (within a segment)
        return levels[0] if m <= cuts[0] else levels[1] if m <= cuts[1] else levels[2]

    evals = [e for e in range(PERIOD_INTERVAL_MIN, t + 1, PERIOD_INTERVAL_MIN) if t - e < p]
    if any(abs(e - c) < 10 for e in evals for c in cuts):
        return None  # a 5m window across a change: not exact enough to assert
    period_ratio = sum(level_at(e) for e in evals) / len(evals)
    ids = slo.id_labels()
    labels = {**ids, **slo_labels(slo, info)}
    # A recorded series has its expression's labels, then the rule's (info_labels included).
    meta = {r.record: r.labels for r in meta_rules(slo, windows_of(slo), info)}
    flt = "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(ids.items())) + "}"
    burn = period_ratio / budget
    current = level_at(t) / budget
    period_labels = {**labels, WINDOW_LABEL: prom_duration(slo.period_ms)}
    short_labels = {**labels, WINDOW_LABEL: prom_duration(windows_of(slo).page_quick.short_ms)}
    checks: list[tuple[str, float, dict[str, str]]] = [
        (f"round(1000 * {sli_metric(slo.period_ms)}{flt} / {go_float(budget)})", burn,
         period_labels),
        # The burn rates keep the window label of the SLI they divide (group_left).
        (f"round(1000 * slo:period_burn_rate:ratio{flt})", burn,
         {**period_labels, **meta["slo:period_burn_rate:ratio"]}),
        (f"round(1000 * slo:period_error_budget_remaining:ratio{flt})", 1 - burn,
         {**period_labels, **meta["slo:period_burn_rate:ratio"],
          **meta["slo:period_error_budget_remaining:ratio"]}),
        (f"round(1000 * slo:current_burn_rate:ratio{flt})", current,
         {**short_labels, **meta["slo:current_burn_rate:ratio"]}),
    ]
    for v in (burn, 1 - burn, current):
        if abs(1000 * v - math.floor(1000 * v) - 0.5) < 0.05:
            return None  # too close to a rounding boundary to assert
    ratio = slo.objective / 100
    exact: list[tuple[str, str, dict[str, str]]] = [
        (f"slo:objective:ratio{flt}", go_float(ratio), meta["slo:objective:ratio"]),
        (f"slo:error_budget:ratio{flt}", go_float(1 - ratio), meta["slo:error_budget:ratio"]),
        (f"slo:time_period:days{flt}", go_float(slo.period_ms / 86_400_000),
         meta["slo:time_period:days"]),
        (f"sloth_slo_info{flt}", "1", meta["sloth_slo_info"]),
    ]
    expr_tests = [{"expr": e, "eval_time": _minutes(t),
                   "exp_samples": [{"labels": _labels_text(lb), "value": round(1000 * v)}]}
                  for e, v, lb in checks]
    expr_tests += [{"expr": e, "eval_time": _minutes(t),
                    "exp_samples": [{"labels": _labels_text(lb, e.split("{")[0]),
                                     "value": float(v)}]} for e, v, lb in exact]
    return {"name": f"{slo.id}: period SLI and metadata over {_minutes(horizon)} "
                    f"({_pct(levels[0])}, then {_pct(levels[1])}, then {_pct(levels[2])} errors)",
            "interval": _minutes(step),
            "input_series": _input_series(work.only(False, False), segs, base,
                                          per_sample=step),
            "promql_expr_test": expr_tests}


def _even(m: int) -> int:
    return m - m % PERIOD_SAMPLE_MIN


def _labels_text(labels: dict[str, str], metric: str = "") -> str:
    inner = ", ".join(f'{k}="{_esc(v)}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def test_file(rule_file_rel: str, tf: TestFile) -> dict[str, Any]:
    return {"rule_files": [rule_file_rel], "evaluation_interval": tf.evaluation_interval,
            "group_eval_order": tf.group_order, "tests": tf.tests}
