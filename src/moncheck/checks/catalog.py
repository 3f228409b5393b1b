"""Checks of the metrics catalog: schema and cardinality."""

from __future__ import annotations

from moncheck.checks.base import Context, Skip, validate
from moncheck.findings import Finding, error, warning
from moncheck.yamlpos import as_dict, as_list


def schema_catalog(ctx: Context) -> list[Finding]:
    cat = ctx.inv.catalog
    if cat is None:
        raise Skip("no metrics catalog (monitoring/catalog/metrics.yml; in loose mode pass one among the paths)")
    out = validate(ctx, "schema/catalog", "catalog", cat.path, cat.data)
    seen: dict[str, int] = {}
    for m in as_list(as_dict(cat.data).get("metrics")):
        name = m.get("name") if isinstance(m, dict) else None
        if isinstance(name, str):
            if name in seen:
                out.append(error("schema/catalog", cat.path, m.line, f"metric {name!r} listed twice (first at line {seen[name]})"))
            seen.setdefault(name, m.line)
            if m.get("type") == "counter" and not name.endswith("_total"):
                out.append(warning("schema/catalog", cat.path, m.line, f"counter {name!r} does not end in _total"))
    return out


def catalog_high_cardinality(ctx: Context) -> list[Finding]:
    cat = ctx.inv.catalog
    if cat is None:
        raise Skip("no metrics catalog (monitoring/catalog/metrics.yml; in loose mode pass one among the paths)")
    pol = ctx.pol
    forbidden = {x.lower() for x in pol.forbidden_labels}
    out = []
    for m in cat.metrics.values():
        series = 1
        for lbl in m.labels.values():
            if lbl.name.lower() in forbidden:
                out.append(error("catalog/high-cardinality", cat.path, lbl.line,
                                 f"metric {m.name!r}: label {lbl.name!r} is forbidden (unbounded: identities, raw paths, URLs)",
                                 "drop the label; count per identity in logs or traces instead"))
            if lbl.values is not None:
                n = len(lbl.values)
            elif lbl.bound is not None:
                n = lbl.bound
                if n > pol.max_label_bound:
                    out.append(error("catalog/high-cardinality", cat.path, lbl.line,
                                     f"metric {m.name!r}: label {lbl.name!r} bound {n} exceeds {pol.max_label_bound}"))
            else:
                out.append(error("catalog/high-cardinality", cat.path, lbl.line,
                                 f"metric {m.name!r}: label {lbl.name!r} is unbounded (neither values nor bound)"))
                continue
            series *= max(n, 1)
        if m.type == "histogram":
            buckets = m.raw.get("buckets") if isinstance(m.raw, dict) else None
            series *= (len(buckets) + 1) if isinstance(buckets, list) else 1
        if pol.max_series_per_metric is not None and series > pol.max_series_per_metric:
            out.append(warning("catalog/high-cardinality", cat.path, m.line,
                               f"metric {m.name!r} may produce up to {series} series per target (limit {pol.max_series_per_metric})"))
    return out
