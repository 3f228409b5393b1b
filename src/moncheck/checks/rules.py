"""Checks of Prometheus rule files: schema, PromQL and alert policy."""

from __future__ import annotations

import fnmatch
import re
from pathlib import PurePosixPath
from urllib.parse import urlparse

from moncheck.checks.base import Context, Skip, validate
from moncheck.findings import Finding, error, warning
from moncheck.inventory import Rule
from moncheck.policy import parse_duration
from moncheck.promql import (
    COUNTER_FUNCS,
    EVENT_FUNCS,
    matrix_ranges,
    _selectors_under,
    analyze,
    labels_of_node,
    quantile_call,
    quantile_thresholds,
    result_labels,
)


def schema_rules(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for rf in ctx.inv.rule_files:
        out += validate(ctx, "schema/rules", "rules", rf.path, rf.data)
    return out


def promql_parse(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.rules:
        a = analyze(r.expr)
        if not a.ok:
            out.append(error("promql/parse", r.file, r.expr_line, f"{r.kind} {r.name!r}: invalid PromQL: {a.error}"))
    return out


def unknown_metric_findings(ctx: Context, expr: str, path: str, line: int, what: str, check: str) -> list[Finding]:
    """Metrics and labels of ``expr`` that neither the catalog nor a recording rule provides."""
    a = analyze(expr)
    if not a.ok:
        return []
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for s in a.selectors:
        if not s.name:
            continue
        if not ctx.known_series(s.name):
            if ("", s.name) not in seen:
                seen.add(("", s.name))
                out.append(error(check, path, line, f"{what}: metric {s.name!r} is not in the catalog nor recorded by a rule",
                                 "add it to monitoring/catalog/metrics.yml or fix the name"))
            continue
        labels = ctx.labels_of(s.name)
        cat_labels = ctx.series_labels(s.name)
        for m in s.matchers:
            if labels.has(m.name) is False and (s.name, m.name) not in seen:
                seen.add((s.name, m.name))
                out.append(error(check, path, line, f"{what}: label {m.name!r} is not a label of {s.name!r}"))
            elif cat_labels is not None and m.op == "=" and ctx.inv.catalog:
                cl = ctx.inv.catalog.series[s.name][0].labels.get(m.name)
                if cl and cl.values is not None and m.value not in cl.values:
                    out.append(warning(check, path, line, f"{what}: {s.name}{{{m.name}={m.value!r}}} never matches: cataloged values are {cl.values}"))
                elif cl and cl.pattern and not re.fullmatch(cl.pattern, m.value):
                    out.append(warning(check, path, line, f"{what}: {s.name}{{{m.name}={m.value!r}}} does not match the cataloged pattern {cl.pattern!r}"))
    for by, sub in a.agg_labels:
        labels = labels_of_node(sub, ctx.labels_of)
        for lbl in by:
            if labels.has(lbl) is False and ("by", lbl) not in seen:
                seen.add(("by", lbl))
                out.append(error(check, path, line, f"{what}: aggregation by {lbl!r}, which its input does not carry"))
    return out


def promql_unknown_metric(ctx: Context) -> list[Finding]:
    ctx.need_catalog()
    out = []
    for r in ctx.inv.rules:
        out += unknown_metric_findings(ctx, r.expr, r.file, r.expr_line, f"{r.kind} {r.name!r}", "promql/unknown-metric")
    return out


def rate_findings(ctx: Context, expr: str, path: str, line: int, what: str, check: str) -> list[Finding]:
    a = analyze(expr)
    cat = ctx.inv.catalog
    if not a.ok or cat is None:
        return []
    out = []
    for s in a.selectors:
        if s.range_func in COUNTER_FUNCS and s.name in cat.series:
            metric, kind = cat.series[s.name]
            if kind not in ("counter", "bucket", "sum", "count"):
                out.append(error(check, path, line, f"{what}: {s.range_func}() over {s.name!r}, a {kind}, not a counter",
                                 "use deriv()/delta() or *_over_time() for gauges, or the counter it derives from"))
    return out


def promql_rate_on_non_counter(ctx: Context) -> list[Finding]:
    ctx.need_catalog()
    out = []
    for r in ctx.inv.rules:
        out += rate_findings(ctx, r.expr, r.file, r.expr_line, f"{r.kind} {r.name!r}", "promql/rate-on-non-counter")
    return out


def quantile_findings(ctx: Context, expr: str, path: str, line: int, what: str, check: str) -> list[Finding]:
    a = analyze(expr)
    if not a.ok:
        return []
    out = []
    cat = ctx.inv.catalog
    for q in a.quantiles:
        if q.le_kept is False:
            out.append(error(check, path, line, f"{what}: histogram_quantile() input loses the 'le' label in an aggregation",
                             "keep le: sum by (le, ...) (rate(x_bucket[5m]))"))
        for s in q.selectors:
            if not s.name:
                continue
            if cat is not None and s.name in cat.series:
                kind = cat.series[s.name][1]
                if kind != "bucket":
                    out.append(error(check, path, line, f"{what}: histogram_quantile() over {s.name!r}, a {kind} series, not a histogram _bucket"))
                elif s.range_func is None:
                    out.append(warning(check, path, line, f"{what}: histogram_quantile() over raw {s.name!r}: buckets are cumulative since start",
                                       "apply rate() to the buckets"))
            elif s.name in ctx.records:
                if ctx.labels_of(s.name).has("le") is False:
                    out.append(error(check, path, line, f"{what}: histogram_quantile() over {s.name!r}, whose result has no 'le' label"))
            elif cat is None and "_bucket" not in s.name and ":" not in s.name and not any("_bucket" in (x.name or "") for x in q.selectors):
                # Recording rules (level:metric:op) defined elsewhere may hold buckets: not judged.
                out.append(warning(check, path, line, f"{what}: histogram_quantile() over {s.name!r}, which is not a _bucket series",
                                   "classic histograms are read through their _bucket series (native histograms need Prometheus 2.40+)"))
    return out


def _buckets_of(ctx: Context, side: object, depth: int = 0) -> list[float] | None:
    """Bucket bounds behind a quantile: a histogram_quantile call over a cataloged histogram,
    or a recording rule whose expression is one."""
    cat = ctx.inv.catalog
    call = quantile_call(side)
    if call is not None and len(call.args) == 2 and cat is not None:
        for sel in _selectors_under(call.args[1]):
            if sel.name in cat.series and cat.series[sel.name][1] == "bucket":
                b = cat.series[sel.name][0].raw.get("buckets") if isinstance(cat.series[sel.name][0].raw, dict) else None
                if isinstance(b, list):
                    return [float(x) for x in b if isinstance(x, (int, float))]
            if sel.name in ctx.records and depth < 3:
                return _buckets_of(ctx, analyze(ctx.records[sel.name][0].expr).ast, depth + 1)
        return None
    name = getattr(side, "name", None)
    if name and name in ctx.records and depth < 3:
        a = analyze(ctx.records[name][0].expr)
        return _buckets_of(ctx, a.ast, depth + 1) if a.ok else None
    return None


def threshold_findings(ctx: Context, r: Rule) -> list[Finding]:
    out = []
    for side, value in quantile_thresholds(r.expr):
        buckets = _buckets_of(ctx, side)
        if buckets and not any(abs(value - b) < 1e-9 for b in buckets):
            out.append(warning("promql/histogram-quantile", r.file, r.expr_line,
                               f"{r.kind} {r.name!r}: quantile compared with {value:g}, which is not a bucket bound "
                               f"({', '.join(f'{b:g}' for b in buckets)}): the estimate there is a linear interpolation",
                               "use a bucket bound as threshold, or add one to the histogram"))
    return out


def promql_histogram_quantile(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.rules:
        out += quantile_findings(ctx, r.expr, r.file, r.expr_line, f"{r.kind} {r.name!r}", "promql/histogram-quantile")
        if r.kind == "alert":
            out += threshold_findings(ctx, r)
    return out


# ----------------------------------------------------------------------------- alert policy


def alerts_required_labels(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.alerts:
        for lbl in ctx.pol.required_labels:
            if not r.labels.get(lbl, "").strip():
                out.append(error("alerts/required-labels", r.file, r.line_of("labels") if "labels" in r.key_lines else r.line,
                                 f"alert {r.name!r} has no {lbl!r} label"))
    return out


def alerts_required_annotations(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.alerts:
        for ann in ctx.pol.required_annotations:
            if not r.annotations.get(ann, "").strip():
                out.append(error("alerts/required-annotations", r.file, r.line_of("annotations") if "annotations" in r.key_lines else r.line,
                                 f"alert {r.name!r} has no {ann!r} annotation"))
    return out


def alerts_severity(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.alerts:
        sev = r.labels.get("severity")
        if sev is not None and sev not in ctx.pol.severities:
            out.append(error("alerts/severity", r.file, r.label_lines.get("severity", r.line),
                             f"alert {r.name!r}: severity {sev!r} is not one of {', '.join(ctx.pol.severities)}"))
    return out


def alerts_team(ctx: Context) -> list[Finding]:
    if ctx.pol.teams is None:
        raise Skip("policy sets no allowed_teams")
    out = []
    for r in ctx.inv.alerts:
        team = r.labels.get("team")
        if team and team not in ctx.pol.teams:
            out.append(error("alerts/team", r.file, r.label_lines.get("team", r.line),
                             f"alert {r.name!r}: team {team!r} is not one of {', '.join(ctx.pol.teams)}"))
    return out


def _loaded_together(ctx: Context) -> dict[str, str]:
    """Rule file -> the Prometheus that loads it. Files matched by the ``rule_files`` of the
    repository's prometheus.yml share one server; any other file is a server of its own (per-
    environment copies of a file are never loaded together, so they are no duplicates)."""
    out = {rf.path: rf.path for rf in ctx.inv.rule_files}
    prom = ctx.inv.prometheus
    patterns = prom.data.get("rule_files") if prom is not None and isinstance(prom.data, dict) else None
    if not isinstance(patterns, list):
        return out
    base = PurePosixPath(prom.path).parent  # type: ignore[union-attr]
    for path in out:
        rel = PurePosixPath(path)
        for pat in patterns:
            full = pat if str(pat).startswith("/") else str(base / str(pat))
            if fnmatch.fnmatchcase(str(rel), full) or fnmatch.fnmatchcase(rel.name, str(pat)):
                out[path] = "prometheus"
                break
    return out


def _expr_key(expr: str) -> str:
    a = analyze(expr)
    return str(a.ast) if a.ok else " ".join(expr.split())


def alerts_name(ctx: Context) -> list[Finding]:
    """Duplicate rules, and (when the policy sets ``alert_name_pattern``) names that break it.

    A duplicate is the same alert (name, labels and expression) twice in what one Prometheus
    loads: it evaluates twice and writes the same ALERTS series. The same name with other labels
    or another expression is legitimate: severity tiers, multi-window burn-rate alerts."""
    out = []
    pattern = re.compile(ctx.pol.alert_name_pattern) if ctx.pol.alert_name_pattern else None
    server = _loaded_together(ctx)
    first: dict[tuple[str, str, tuple[tuple[str, str], ...], str], Rule] = {}
    for r in ctx.inv.alerts:
        line = r.line_of("alert")
        if pattern is not None and not pattern.search(r.name):
            out.append(error("alerts/name", r.file, line, f"alert name {r.name!r} does not match the policy's {pattern.pattern!r}",
                             "e.g. HighErrorRate"))
        key = (server.get(r.file, r.file), r.name, tuple(sorted(r.labels.items())), _expr_key(r.expr))
        if key in first:
            f = first[key]
            out.append(error("alerts/name", r.file, line,
                             f"duplicate alert {r.name!r}: same labels and expression as at {f.file}:{f.line_of('alert')}",
                             "the copy evaluates twice and writes the same ALERTS series: remove one"))
        else:
            first[key] = r
    return out


def event_window(expr: str) -> float | None:
    """Seconds a single event keeps ``expr`` true, when every selector counts events over a
    range (``increase(x[5m]) > 0`` holds for 5m after one increment); None otherwise."""
    a = analyze(expr)
    if not a.ok or not a.selectors:
        return None
    if any(s.range_func not in EVENT_FUNCS or not s.is_range for s in a.selectors):
        return None
    ranges = [r.total_seconds() for r in matrix_ranges(a.ast)]
    return max(ranges) if ranges else None


def alerts_for(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.alerts:
        secs = parse_duration(r.for_) if r.for_ is not None else 0.0
        need = ctx.pol.min_for.get(r.labels.get("severity", ""))
        if secs is None:
            # Prometheus refuses the file; an unknown `for` must not pass a severity's minimum.
            out.append(error("alerts/for", r.file, r.line_of("for"),
                             f"alert {r.name!r}: for {r.for_!r} is not a Prometheus duration",
                             "use e.g. 5m or 1h30m: units y w d h m s ms, largest first, each once; or 0"))
            continue
        if need is None or secs >= need:
            continue
        window = event_window(r.expr)
        if window is not None and need >= window:
            # Raising `for` alone would make one event never fire: the expression holds only `window`.
            hint = (f"one event keeps this expression true for only {_fmt(window)} (its range): a 'for' of "
                    f"{_fmt(need)} would never fire on it; widen the range to more than {_fmt(need)} as well")
        else:
            hint = f"raise 'for' to at least {_fmt(need)}: a page must outlast a blip"
        out.append(error("alerts/for", r.file, r.line_of("for") if "for" in r.key_lines else r.line,
                         f"alert {r.name!r}: for {r.for_ or '0s'} is shorter than the {_fmt(need)} required for severity {r.labels.get('severity')!r}",
                         hint))
    return out


def _fmt(secs: float) -> str:
    for unit, n in (("h", 3600), ("m", 60)):
        if secs >= n and secs % n == 0:
            return f"{secs / n:g}{unit}"
    return f"{secs:g}s"


# ----------------------------------------------------------------------------- templates

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_VAR = re.compile(r"\$(\w*)((?:\.\w+)*)")
_LABELS_FIELD = re.compile(r"(?<![\w$])\.Labels\.(\w+)")
_BLOCK_OPEN = re.compile(r"^(if|range|with|define|block)\b")
_KNOWN_VARS = {"labels", "value", "externalLabels", "externalURL", ""}


def template_problems(text: str) -> tuple[list[str], set[str]]:
    """Problems of a Go template (minimal checker) and the label names it reads."""
    problems: list[str] = []
    labels: set[str] = set()
    if text.count("{{") != text.count("}}"):
        problems.append("unbalanced '{{' / '}}'")
        return problems, labels
    # Open blocks; inside range/with the dot is rebound (``{{ range query "up" }}{{ .Labels.x }}``
    # reads the query's series), so ``.Labels`` there is not the alert's.
    blocks: list[str] = []
    declared: set[str] = set()
    for m in _ACTION.finditer(text):
        body = m.group(1)
        if body.startswith("/*"):
            continue
        if "{{" in body:
            problems.append(f"unbalanced '{{{{' / '}}}}' near {m.group(0)[:40]!r}")
            continue
        opened = _BLOCK_OPEN.match(body)
        if opened:
            blocks.append(opened.group(1))
        elif body == "end":
            if not blocks:
                problems.append("{{ end }} without an opening if/range/with")
            else:
                blocks.pop()
        assign = re.search(r":?=(?!=)", body)
        if assign:  # `$x := ...`, `range $i, $x := ...`: every variable left of the assignment
            declared.update(re.findall(r"\$(\w+)", body[: assign.start()]))
        for vm in _VAR.finditer(body):
            name, path = vm.group(1), vm.group(2)
            if name not in _KNOWN_VARS and name not in declared:
                problems.append(f"undefined variable ${name}")
            if name == "labels" and path:
                labels.add(path.split(".")[1])
        if not any(b in ("range", "with", "define", "block") for b in blocks[: len(blocks) - bool(opened)]) and not (
            opened and opened.group(1) in ("range", "with")
        ):
            labels.update(_LABELS_FIELD.findall(body))
    if blocks:
        problems.append("if/range/with without {{ end }}")
    return problems, labels


def alerts_template(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.alerts:
        kept = None
        for key, text in list(r.annotations.items()) + list(r.labels.items()):
            if "{{" not in text and "}}" not in text:
                continue
            line = r.annotation_lines.get(key) if key in r.annotations else r.label_lines.get(key)
            problems, used = template_problems(text)
            for p in problems:
                out.append(error("alerts/template", r.file, line or r.line, f"alert {r.name!r}, {key}: {p}"))
            if used and kept is None:
                kept = result_labels(r.expr, ctx.labels_of)
            for lbl in sorted(used):
                if kept is not None and kept.has(lbl) is False:
                    out.append(error("alerts/template", r.file, line or r.line,
                                     f"alert {r.name!r}, {key}: $labels.{lbl} is not a label of the expression's result",
                                     "keep it in the aggregation (by ...) or drop it from the template"))
    return out


# ----------------------------------------------------------------------------- runbooks


def runbook_file(url: str, prefix: str | None, runbooks_dir: str) -> str | None:
    """The repository file a runbook_url points to, or None if it cannot be mapped."""
    if prefix:
        if not url.startswith(prefix):
            return None
        rest = url[len(prefix):]
    else:
        path = urlparse(url).path if "://" in url else url
        marker = "/" + runbooks_dir.strip("/") + "/"
        rest = path.split(marker, 1)[1] if marker in path else path.rsplit("/", 1)[-1]
    rest = rest.split("#", 1)[0].split("?", 1)[0]
    return f"{runbooks_dir.rstrip('/')}/{rest}" if rest else None


def alerts_runbook(ctx: Context) -> list[Finding]:
    if ctx.inv.mode == "loose" and not ctx.inv.runbooks:
        raise Skip("no runbooks folder in loose-paths mode")
    out = []
    pol = ctx.pol
    for r in ctx.inv.alerts:
        url = r.annotations.get("runbook_url", "").strip()
        if not url:
            continue  # alerts/required-annotations reports a missing runbook_url
        line = r.annotation_lines.get("runbook_url", r.line)
        if "{{" in url:
            continue
        target = runbook_file(url, pol.runbook_url_prefix, pol.runbooks_dir)
        if target is None:
            out.append(error("alerts/runbook", r.file, line, f"alert {r.name!r}: runbook_url {url!r} does not start with {pol.runbook_url_prefix!r}",
                             f"use {pol.runbook_url_prefix}{r.name}.md"))
        elif target not in ctx.inv.runbooks:
            out.append(error("alerts/runbook", r.file, line, f"alert {r.name!r}: runbook {target} does not exist",
                             f"write {target} (runbook_url {url})"))
    return out
