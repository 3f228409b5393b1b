"""Synthesise input series for an events SLI so a promtool test can set its error ratio.

Model: a workload of *good* and *bad* requests. Each metric in the SLI queries is fed by both
kinds (metrics of ``total_query``) or by bad requests only (metrics only in ``error_query``).
Two shapes are understood:

- label split (availability): bad requests carry label values that match the error selector,
  good ones values that match the total selector but not the error one (``status_code="500"``
  vs ``"200"``);
- latency threshold: a ``_bucket{le="X"}`` selector; good requests observe X, bad ones the next
  bucket bound above X, and every bucket, ``_count`` and ``_sum`` grows accordingly.

``None`` with a reason is returned for SLIs outside this model (the caller reports it).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from moncheck.slo import promql
from moncheck.slo.catalog import Catalog
from moncheck.slo.model import SLO
from moncheck.slo.promql import Matcher, Selector

try:  # Python 3.11+: the regex parser moved to re._parser
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre

_FALLBACK = ("200", "500", "success", "failure", "ok", "error", "GET", "x")


@dataclass
class Series:
    """One input series: its labels and how much it grows per good and per bad request.

    ``part``: 0 for all of the requests, 1 and 2 for two halves of them (each label set comes
    twice, so that ``avg`` is not ``sum``). ``decoy``: fed by the decoy requests, which the
    SLI must not read (another job, an excluded route), so that a dropped matcher shows."""

    metric: str
    labels: dict[str, str]
    per_good: float
    per_bad: float
    part: int = 0
    decoy: bool = False

    def coef(self) -> tuple[float, float, float, float]:
        """Growth per (good, bad, decoy good, decoy bad) request (see ``burnmodel.Coef``)."""
        if self.decoy:
            return (0.0, 0.0, self.per_good, self.per_bad)
        share = 0.5 if self.part else 1.0  # the two halves add up to the whole exactly
        return (self.per_good * share, self.per_bad * share, 0.0, 0.0)

    def text(self) -> str:
        return _series_text(self.metric, tuple(sorted(self.labels.items())))


@functools.lru_cache(maxsize=4096)
def _series_text(metric: str, labels: tuple[tuple[str, str], ...]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels)
    return f"{metric}{{{inner}}}" if inner else metric


def _matches(m: Matcher, value: str) -> bool:
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    full = re.fullmatch(m.value, value) is not None
    return full if m.op == "=~" else not full


def regex_example(pattern: str) -> str | None:
    """A short string the (fully anchored) regex matches, or None."""
    try:
        out = _gen(_sre.parse(pattern))
    except Exception:  # noqa: BLE001 - sre internals: any failure means 'no example'
        return None
    return out if out is not None and re.fullmatch(pattern, out) else None


def _gen(items: object) -> str | None:
    out = ""
    for op, av in items:  # type: ignore[attr-defined]
        name = str(op)
        if name == "LITERAL":
            out += chr(av)
        elif name == "ANY":
            out += "0"
        elif name == "IN":
            first = av[0]
            if str(first[0]) == "LITERAL":
                out += chr(first[1])
            elif str(first[0]) == "RANGE":
                out += chr(first[1][0])
            elif str(first[0]) == "CATEGORY":
                out += "0" if "DIGIT" in str(first[1]) else "a"
            else:
                return None
        elif name == "BRANCH":
            sub = _gen(av[1][0])
            if sub is None:
                return None
            out += sub
        elif name == "SUBPATTERN":
            sub = _gen(av[-1])
            if sub is None:
                return None
            out += sub
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, _hi, sub_items = av
            sub = _gen(sub_items)
            if sub is None:
                return None
            out += sub * lo
        elif name == "AT":
            continue
        else:
            return None
    return out


def _candidates(label: str, matchers: list[Matcher], metrics: set[str],
                catalog: Catalog | None) -> list[str]:
    vals: list[str] = []
    for m in matchers:
        if m.op == "=":
            vals.append(m.value)
        elif m.op == "=~":
            ex = regex_example(m.value)
            if ex is not None:
                vals.append(ex)
    if catalog is not None:
        for metric in sorted(metrics):
            cm, _ = catalog.resolve(metric)
            if cm is not None:
                vals.extend(_catalog_values(catalog, cm.name, label))
    if any(w in label for w in ("route", "path", "handler", "endpoint")):
        vals.append("/api/companies")  # a readable route template beats "200"
    vals.extend(_FALLBACK)
    seen: list[str] = []
    for v in vals:
        if v not in seen:
            seen.append(v)
    return seen


def _catalog_values(catalog: Catalog, metric: str, label: str) -> list[str]:
    return list(catalog.label_values.get((metric, label), []))


@dataclass
class Workload:
    series: list[Series]
    copy_label: str | None = None  # the label that tells the two halves apart

    def only(self, decoys: bool, halves: bool) -> Workload:
        """The series a test needs: without the decoys, and with each pair of halves as one
        series (the same requests, so the SLI reads the same), unless asked for."""
        out = []
        for s in self.series:
            if s.decoy and not decoys:
                continue
            if s.part and not halves:
                if s.part == 2:
                    continue
                labels = {k: v for k, v in s.labels.items() if k != self.copy_label}
                s = Series(s.metric, labels, s.per_good, s.per_bad)
            out.append(s)
        return Workload(out, self.copy_label if halves else None)


def selects(sel: Selector, s: Series) -> bool:
    """Whether the vector selector ``sel`` picks the input series ``s`` (a missing label
    matches as the empty string, as in Prometheus)."""
    return sel.metric == s.metric and all(
        _matches(m, s.labels.get(m.name, "")) for m in sel.matchers if m.name != "__name__")


_COPY_LABELS = ("instance", "pod", "replica", "shard")


def _halves_and_decoys(series: list[Series], sels: list[Selector]) -> Workload:
    """Every series the SLI reads as two halves under a label no selector reads, then decoys:
    for each label
    the selectors match on, copies of the series with a value that every selector reading the
    label rejects (``job="other"``, an excluded ``route``), kept only where no selector of the
    SLI picks them."""
    used = {m.name for sel in sels for m in sel.matchers}
    copy = next((c for c in _COPY_LABELS if c not in used), None)
    out: list[Series] = []
    for s in series:
        if copy is None or not any(selects(sel, s) for sel in sels):
            out.append(s)  # a series the SLI does not read (other buckets): once is enough
            continue
        for part, v in ((1, "a"), (2, "b")):
            out.append(Series(s.metric, {**s.labels, copy: v}, s.per_good, s.per_bad, part))
    seen = {(s.metric, tuple(sorted(s.labels.items()))) for s in out}
    for label in sorted(used - {"le", "__name__"}):
        ms = [m for sel in sels for m in sel.matchers if m.name == label]
        cands = ["other"] + [m.value for m in ms if m.op == "!="] + [
            ex for m in ms if m.op == "!~" and (ex := regex_example(m.value)) is not None]
        for v in cands:
            decoys = [Series(s.metric, {**s.labels, label: v}, s.per_good, s.per_bad,
                             decoy=True) for s in series
                      if label in s.labels and any(selects(sel, s) for sel in sels)]
            if decoys and not any(selects(sel, d) for sel in sels for d in decoys):
                for d in decoys:
                    key = (d.metric, tuple(sorted(d.labels.items())))
                    if key not in seen:
                        seen.add(key)
                        out.append(d)
                break
    return Workload(out, copy)


def synthesise(slo: SLO, catalog: Catalog | None) -> tuple[Workload | None, str]:
    if slo.error_query is None or slo.total_query is None:
        return None, "only events SLIs (error_query/total_query) get generated tests"
    e_sel = promql.selectors(promql.fill_window(slo.error_query, "5m"))
    t_sel = promql.selectors(promql.fill_window(slo.total_query, "5m"))
    if not e_sel or not t_sel:
        return None, "the SLI queries select no series"
    buckets = [s for s in e_sel + t_sel if s.metric.endswith("_bucket") and s.le_bound()]
    if buckets:
        return _latency(e_sel, t_sel, buckets, catalog)
    return _split(e_sel, t_sel, catalog)


def _label_names(sels: list[Selector]) -> list[str]:
    return sorted({m.name for s in sels for m in s.matchers if m.name != "le"})


def _pick(label: str, want: list[Matcher], avoid: list[Matcher] | None, metrics: set[str],
          catalog: Catalog | None) -> str | None:
    for v in _candidates(label, want + (avoid or []), metrics, catalog):
        if all(_matches(m, v) for m in want) and (
                avoid is None or not all(_matches(m, v) for m in avoid)):
            return v
    return None


def _matchers(sels: list[Selector], label: str) -> list[Matcher]:
    return [m for s in sels for m in s.matchers if m.name == label]


def _split(e_sel: list[Selector], t_sel: list[Selector],
           catalog: Catalog | None) -> tuple[Workload | None, str]:
    metrics = {s.metric for s in e_sel + t_sel}
    all_sel = e_sel + t_sel
    bad: dict[str, str] = {}
    for label in _label_names(all_sel):
        v = _pick(label, _matchers(all_sel, label), None, metrics, catalog)
        if v is None:
            return None, f"no value of label {label!r} satisfies every matcher"
        bad[label] = v
    good = dict(bad)
    e_metrics, t_metrics = {s.metric for s in e_sel}, {s.metric for s in t_sel}
    if e_metrics <= t_metrics:
        # Good requests reach the error selector's metric too: a label must tell them apart.
        for label in _label_names(e_sel):
            v = _pick(label, _matchers(t_sel, label), _matchers(e_sel, label), metrics, catalog)
            if v is not None:
                good[label] = v
                break
        else:
            return None, "no label separates error events from the other events"
    series: list[Series] = []
    for metric in sorted(metrics):
        names = [n for n in _label_names([s for s in all_sel if s.metric == metric])]
        fed_by_good = metric in t_metrics
        gl = {k: good[k] for k in names}
        bl = {k: bad[k] for k in names}
        if gl == bl:
            series.append(Series(metric, bl, 1.0 if fed_by_good else 0.0, 1.0))
        else:
            if fed_by_good:
                series.append(Series(metric, gl, 1.0, 0.0))
            series.append(Series(metric, bl, 0.0, 1.0))
    return _halves_and_decoys(series, all_sel), ""


def _latency(e_sel: list[Selector], t_sel: list[Selector], bucket_sels: list[Selector],
             catalog: Catalog | None) -> tuple[Workload | None, str]:
    base = bucket_sels[0].metric.removesuffix("_bucket")
    threshold_s = bucket_sels[0].le_bound() or ""
    all_sel = e_sel + t_sel
    if any(not s.metric.startswith(base + "_") for s in all_sel):
        return None, "a latency SLI must only read one histogram's _bucket/_count/_sum"
    try:
        threshold = float(threshold_s)
    except ValueError:
        return None, f"latency threshold le={threshold_s!r} is not a number"
    bounds: list[float] = []
    if catalog is not None:
        cm, _ = catalog.resolve(base + "_bucket")
        if cm is not None:
            bounds = list(cm.buckets or ())
    if threshold not in bounds:
        bounds = sorted([*bounds, threshold])
    above = [b for b in bounds if b > threshold]
    slow = above[0] if above else threshold * 2
    labels: dict[str, str] = {}
    metrics = {s.metric for s in all_sel}
    for label in _label_names(all_sel):
        v = _pick(label, _matchers(all_sel, label), None, metrics, catalog)
        if v is None:
            return None, f"no value of label {label!r} satisfies every matcher"
        labels[label] = v
    series: list[Series] = []
    for b in bounds:
        le = threshold_s if b == threshold else f"{b:g}"
        series.append(Series(base + "_bucket", {**labels, "le": le},
                             1.0 if threshold <= b else 0.0, 1.0 if slow <= b else 0.0))
    series.append(Series(base + "_bucket", {**labels, "le": "+Inf"}, 1.0, 1.0))
    series.append(Series(base + "_count", dict(labels), 1.0, 1.0))
    series.append(Series(base + "_sum", dict(labels), threshold, slow))
    return _halves_and_decoys(series, all_sel), ""
