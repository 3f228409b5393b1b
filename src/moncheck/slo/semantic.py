"""Semantic validation of loaded SLOs: queries, names, the metrics catalog, latency buckets.

Check ids: ``slo/query`` (placeholder, parse, error == total), ``slo/unique`` (ids and alert
names across files), ``slo/catalog`` (metrics and labels), ``slo/bucket`` (a latency threshold
that is not a cataloged bucket bound).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from moncheck.findings import Finding, error, warning
from moncheck.slo import promql
from moncheck.slo.catalog import Catalog
from moncheck.slo.model import SLO, SpecFile

_SAMPLE_WINDOW = "5m"


def _where(slo: SLO) -> str:
    return f'invalid slo "{slo.name}": invalid SLI: '


def check_queries(slo: SLO) -> list[Finding]:
    out: list[Finding] = []
    w = _where(slo)
    queries = {k: getattr(slo, k) for k in ("error_query", "total_query", "error_ratio_query")
               if getattr(slo, k)}
    for key, q in queries.items():
        line = slo.line_of(key)
        if not promql.has_window(q):
            out.append(error("slo/query", slo.path, line, f"{w}{key} lacks the window "
                             "placeholder {{.window}}", hint="e.g. rate(x[{{.window}}])"))
            continue
        msg = promql.parse_error(promql.fill_window(q, _SAMPLE_WINDOW))
        if msg:
            out.append(error("slo/query", slo.path, line, f"{w}{key} is not valid PromQL once "
                             f"the window is filled: {msg}"))
    e, t = queries.get("error_query"), queries.get("total_query")
    if e and t and " ".join(e.split()) == " ".join(t.split()):
        out.append(error("slo/query", slo.path, slo.line_of("total_query"),
                         f"{w}error_query and total_query are the same query"))
    return out


_WINDOW_TPL = re.compile(r"\{\{\s*\$labels\.sloth_window\s*\}\}")


def check_annotations(slo: SLO) -> list[Finding]:
    """Warn about ``{{$labels.sloth_window}}`` (since Sloth v0.11 alerts carry no such label)
    and about an objective of 100%, which leaves no error budget."""
    out: list[Finding] = []
    if slo.objective >= 100:
        out.append(warning(
            "slo/spec", slo.path, slo.line_of("objective"),
            f'slo "{slo.name}": objective 100 leaves no error budget: the burn-rate alerts '
            "fire on any error (every threshold is 0), burn rates are +Inf and the budget "
            "remaining is -Inf or NaN", hint="use an objective below 100, e.g. 99.99"))
    for kind, meta in (("page", slo.page), ("ticket", slo.ticket)):
        if meta is None or meta.disable:
            continue
        for k, v in sorted(meta.annotations.items()):
            if _WINDOW_TPL.search(v):
                out.append(warning(
                    "slo/spec", slo.path, meta.line,
                    f'slo "{slo.name}": {kind} alert: annotation {k!r} uses '
                    "{{$labels.sloth_window}}, which expands to an empty string: the alerts "
                    "carry no sloth_window label (one alert whichever window pair fires, as in "
                    "Sloth since v0.11)", hint="remove it from the annotation"))
    return out


def _valid_selectors(slo: SLO) -> list[tuple[str, promql.Selector]]:
    out: list[tuple[str, promql.Selector]] = []
    for key in ("error_query", "total_query", "error_ratio_query"):
        q = getattr(slo, key)
        if not q:
            continue
        filled = promql.fill_window(q, _SAMPLE_WINDOW)
        if promql.parse_error(filled) is None:
            out.extend((key, s) for s in promql.selectors(filled))
    return out


def check_catalog(slo: SLO, catalog: Catalog, recorded: set[str]) -> list[Finding]:
    """Every metric is cataloged (or a recording rule); labels exist; thresholds are buckets."""
    out: list[Finding] = []
    w = _where(slo)
    for key, sel in _valid_selectors(slo):
        line = slo.line_of(key)
        if not sel.metric:
            out.append(error("slo/catalog", slo.path, line, f"{w}{key}: selector without a "
                             "metric name"))
            continue
        if ":" in sel.metric:
            if sel.metric not in recorded:
                out.append(error("slo/catalog", slo.path, line, f"{w}{key}: recording rule "
                                 f"{sel.metric} is not defined in monitoring/prometheus/rules"))
            continue
        metric, suffix = catalog.resolve(sel.metric)
        labels = catalog.labels_of(sel.metric)
        if metric is None or labels is None:
            out.append(error("slo/catalog", slo.path, line, f"{w}{key}: metric {sel.metric} is "
                             "not in the catalog (monitoring/catalog/metrics.yml)"))
            continue
        for m in sel.matchers:
            if m.name not in labels:
                out.append(error("slo/catalog", slo.path, line, f"{w}{key}: {sel.metric} has no "
                                 f"label {m.name!r} (cataloged: {', '.join(sorted(labels))})"))
        le = sel.le_bound()
        if suffix == "_bucket" and le is not None and metric.buckets:
            out.extend(_check_bucket(slo, key, line, sel.metric, le, metric.buckets))
    return out


def _check_bucket(slo: SLO, key: str, line: int, series: str, le: str,
                  buckets: tuple[float, ...]) -> list[Finding]:
    shown = ", ".join(f"{b:g}" for b in buckets)
    try:
        v = float(le)
    except ValueError:
        v = math.nan
    if le == "+Inf" or any(math.isclose(v, b, rel_tol=1e-12) for b in buckets):
        return []
    return [error("slo/bucket", slo.path, line, f'{_where(slo)}{key}: latency threshold le="{le}" '
                  f"is not a bucket bound of {series.removesuffix('_bucket')} (buckets: {shown})",
                  hint="use one of the histogram's bounds; anything else reads a missing series")]


def check_unique(files: Iterable[SpecFile]) -> list[Finding]:
    out: list[Finding] = []
    seen_ids: dict[str, SLO] = {}
    seen_alerts: dict[str, SLO] = {}
    for f in files:
        for slo in f.slos:
            prev = seen_ids.get(slo.id)
            if prev is not None:
                out.append(error("slo/unique", slo.path, slo.line, f'invalid slo "{slo.name}": '
                                 f'SLO id "{slo.id}" is already defined at {prev.path}:{prev.line}'))
            else:
                seen_ids[slo.id] = slo
            for meta in (slo.page, slo.ticket):
                if meta is None or meta.disable or not meta.name:
                    continue
                other = seen_alerts.get(meta.name)
                if other is not None and other is not slo:
                    # Sloth allows it (examples/multifile.yml): one runbook serves both.
                    out.append(warning("slo/unique", slo.path, meta.line, f'slo "{slo.name}":'
                                       f' alert name {meta.name} is also used by SLO '
                                       f'"{other.name}" ({other.path}:{other.line}); they share '
                                       "its runbook", hint="give each SLO its own alert name "
                                       "to get a runbook of its own"))
                else:
                    seen_alerts[meta.name] = slo
    return out


_RECORD_RE = re.compile(r"^\s*-?\s*record:\s*['\"]?([a-zA-Z_:][a-zA-Z0-9_:]*)", re.M)


def recorded_names(rule_texts: Iterable[str]) -> set[str]:
    """Recording rule names defined in (hand-written) rule files."""
    return {m.group(1) for t in rule_texts for m in _RECORD_RE.finditer(t)}
