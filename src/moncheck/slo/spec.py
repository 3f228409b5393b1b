"""Load SLO spec files (Sloth ``prometheus/v1``, OpenSLO v1 ``SLO``) into the internal model.

Structural errors are collected (never only the first) as ``slo/spec`` findings located at the
offending line, with Sloth-style chained messages:
``invalid slo "x": invalid alert: page alert: name is required``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from moncheck import yamlpos
from moncheck.findings import Finding, Severity, error, warning
from moncheck.slo import plugins
from moncheck.slo.gofmt import parse_duration
from moncheck.slo.model import SLO, AlertMeta, SpecFile
from moncheck.slo.settings import Settings
from moncheck.slo.windows import Window, Windows, window_problem

# Sloth's conventions.NameRegexp is ^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$; this accepts every
# name Sloth accepts (and, as moncheck always did, one-character names and a leading _ or -).
NAME_RE = re.compile(r"^[a-zA-Z0-9_.-]+$")
# Sloth only requires a non-empty alert name; promtool accepts any name without line breaks.
ALERT_NAME_RE = re.compile(r"^[^\n\r]+$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SLOTH_VERSION = "prometheus/v1"
K8S_API, K8S_KIND = "sloth.slok.dev/v1", "PrometheusServiceLevel"
_K8S_KEYS = {"errorQuery": "error_query", "totalQuery": "total_query",
             "errorRatioQuery": "error_ratio_query", "pageAlert": "page_alert",
             "ticketAlert": "ticket_alert", "sloPlugins": "slo_plugins",
             "sloPeriod": "slo_period"}
OPENSLO_VERSIONS = ("openslo/v1", "openslo/v1alpha")
CHECK = "slo/spec"

# `slo_period` is moncheck's: Sloth only has the CLI's --default-slo-period (and ignores it).
_SPEC_KEYS = {"version", "service", "labels", "slos", "slo_period"}
_SLO_KEYS = {"name", "objective", "description", "labels", "sli", "alerting", "plugins"}
_ALERTING_KEYS = {"name", "labels", "annotations", "page_alert", "ticket_alert"}
_ALERT_KEYS = {"disable", "labels", "annotations", "for"}


class _Errors:
    def __init__(self, path: str, settings: Settings | None = None) -> None:
        self.path = path
        self.items: list[Finding] = []
        self.settings = settings or Settings()

    def add(self, line: int, message: str, check: str = CHECK, hint: str = "") -> None:
        self.items.append(error(check, self.path, line, message, hint))

    def warn(self, line: int, message: str, hint: str = "") -> None:
        self.items.append(warning(CHECK, self.path, line, message, hint))

    def count(self) -> int:
        """Errors so far (warnings do not make an SLO invalid)."""
        return sum(1 for f in self.items if f.severity == Severity.ERROR)


def load_file(path: Path, display: str,
              settings: Settings | None = None) -> tuple[SpecFile, list[Finding]]:
    """Load one spec file. Findings are structural errors; SLOs with errors are left out."""
    try:
        docs = yamlpos.load_all(path, display)
    except yamlpos.LoadError as e:
        return SpecFile(display, path.stem), [error(CHECK, display, e.line, e.message)]
    return parse_docs(docs, display, path.stem, settings)


def parse_docs(docs: list[Any], display: str, stem: str,
               settings: Settings | None = None) -> tuple[SpecFile, list[Finding]]:
    """The SLOs of a spec file's loaded documents (the inventory's record of it); periods and
    alert windows come from ``settings`` (the policy's ``slo`` section; default: built-in)."""
    spec = SpecFile(display, stem)
    errs = _Errors(display, settings)
    docs = [d for d in docs if d is not None]
    if not docs:
        errs.add(1, "empty spec file")
        return spec, errs.items
    first = docs[0]
    if isinstance(first, dict) and first.get("kind") == K8S_KIND:
        # Sloth's Kubernetes CRD: the same spec in camelCase under `spec`.
        spec.slos = [slo for doc in docs for slo in _load_sloth(_from_k8s(doc, errs), errs)]
        for slo in spec.slos:
            slo.mode, slo.spec_version = "cli-gen-k8s", K8S_API
    elif isinstance(first, dict) and "version" in first:
        # Several `---` documents are several specs (Sloth's examples/multifile.yml).
        spec.slos = [slo for doc in docs for slo in _load_sloth(doc, errs)]
    elif isinstance(first, dict) and "apiVersion" in first:
        spec.slos = _load_openslo(docs, errs)
    else:
        errs.add(yamlpos.line_of(first), "not an SLO spec: expected `version: prometheus/v1` "
                 "(Sloth) or `apiVersion: openslo/v1` with `kind: SLO` (OpenSLO)")
    return spec, errs.items


# ---------------------------------------------------------------- helpers


def _str_map(node: Any, where: str, errs: _Errors, what: str, keys_re: re.Pattern[str] = LABEL_RE,
             line: int = 1) -> dict[str, str]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        errs.add(yamlpos.line_of(node, default=line), f"{where}{what} must be a mapping")
        return {}
    out: dict[str, str] = {}
    for k, v in node.items():
        ln = yamlpos.line_of(node, str(k))
        if not isinstance(k, str) or not keys_re.match(k) or k == "__name__":
            errs.add(ln, f"{where}{what}: invalid name {k!r} (must match {keys_re.pattern})")
            continue
        if v is None or isinstance(v, (dict, list)):
            errs.add(ln, f"{where}{what}: {k}: value must be a string")
            continue
        # Booleans and numbers are label values too (Sloth reads them as strings).
        out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


def _unknown(node: dict, allowed: set[str], where: str, errs: _Errors) -> None:
    """Unknown fields are warnings: Sloth ignores them, and a typo must still be visible."""
    for k in node:
        if k not in allowed:
            errs.warn(yamlpos.line_of(node, str(k)), f"{where}unknown field {k!r} is ignored "
                      f"(expected one of: {', '.join(sorted(allowed))})")


def _merge(*ms: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in ms:
        out.update(m)
    return out


# ---------------------------------------------------------------- Sloth prometheus/v1


def _from_k8s(doc: Any, errs: _Errors) -> Any:
    """A ``PrometheusServiceLevel`` as the ``prometheus/v1`` spec it holds (lines kept)."""
    if not isinstance(doc, dict) or doc.get("kind") != K8S_KIND:
        errs.add(yamlpos.line_of(doc), f"expected kind {K8S_KIND} in every document")
        return None
    if doc.get("apiVersion") != K8S_API:
        errs.add(yamlpos.line_of(doc, "apiVersion"), f"unsupported apiVersion {doc.get('apiVersion')!r} "
                 f"(expected {K8S_API!r})")
        return None
    spec = doc.get("spec")
    if not isinstance(spec, yamlpos.LocDict):
        errs.add(yamlpos.line_of(doc, "spec"), "spec is required")
        return None
    out = _renamed(spec)
    out["version"] = SLOTH_VERSION
    out.key_lines["version"] = yamlpos.line_of(doc, "apiVersion")
    return out


def _renamed(node: Any) -> Any:
    if isinstance(node, yamlpos.LocDict):
        d = yamlpos.LocDict()
        d.line, d.key_lines = yamlpos.line_of(node), {}
        for k, v in node.items():
            nk = _K8S_KEYS.get(k, k)
            d[nk] = _renamed(v) if nk not in ("labels", "annotations") else v
            d.key_lines[nk] = yamlpos.line_of(node, k)
        return d
    if isinstance(node, yamlpos.LocList):
        out = yamlpos.LocList(_renamed(v) for v in node)
        out.line, out.item_lines = yamlpos.line_of(node), list(node.item_lines)
        return out
    return node



def _load_sloth(doc: Any, errs: _Errors) -> list[SLO]:
    if doc is None:  # already reported
        return []
    if not isinstance(doc, dict):
        errs.add(yamlpos.line_of(doc), "spec must be a mapping")
        return []
    if doc.get("version") != SLOTH_VERSION:
        errs.add(yamlpos.line_of(doc, "version"), f"unsupported version {doc.get('version')!r} "
                 f"(expected {SLOTH_VERSION!r})")
        return []
    _unknown(doc, _SPEC_KEYS | {"slo_plugins"}, "", errs)
    group = plugins.parse(doc.get("slo_plugins"), yamlpos.line_of(doc, "slo_plugins"),
                          "slo_plugins: ", errs.add)
    service = doc.get("service")
    if not isinstance(service, str) or not service:
        errs.add(yamlpos.line_of(doc, "service"), "service is required")
        service = ""
    elif not NAME_RE.match(service):
        errs.add(yamlpos.line_of(doc, "service"), f'invalid service "{service}" (must match'
                 f" {NAME_RE.pattern})")
    labels = _str_map(doc.get("labels"), "", errs, "labels", line=yamlpos.line_of(doc, "labels"))
    period = _sloth_period(doc, errs)
    slos = doc.get("slos")
    if not isinstance(slos, list) or not slos:
        errs.add(yamlpos.line_of(doc, "slos"), "at least one SLO is required in `slos`")
        return []
    out = []
    for i, node in enumerate(slos):
        line = (yamlpos.item_lines(slos)[i] if isinstance(slos, yamlpos.LocList)
                else yamlpos.line_of(doc, "slos"))
        slo = _load_sloth_slo(node, service, labels, line, errs, group)
        if slo is not None and period is not None:
            slo.period_ms, slo.windows = period, errs.settings.windows[period]
            out.append(slo)
    return out


def _sloth_period(doc: dict, errs: _Errors) -> int | None:
    """The spec's ``slo_period`` or the policy's ``default_period`` (Sloth's
    ``--default-slo-period``); None (an error at its line) when no windows exist for it."""
    st = errs.settings
    v = doc.get("slo_period")
    if v is None:
        # An unusable default is reported once, at the policy's line (settings.load).
        return st.default_period_ms if st.period_error(st.default_period_ms) is None else None
    line = yamlpos.line_of(doc, "slo_period")
    try:
        ms = parse_duration(str(v))
    except ValueError as e:
        errs.add(line, f"invalid slo_period {v!r}: {e}")
        return None
    why = st.period_error(ms)
    if why is not None:
        errs.add(line, f"slo_period: {why}", hint="add an AlertWindows file for it to the "
                 "policy's slo.alert_windows")
        return None
    return ms


def _load_sloth_slo(node: Any, service: str, spec_labels: dict[str, str], line: int,
                    errs: _Errors, group: plugins.Chain | None = None) -> SLO | None:
    if not isinstance(node, dict):
        errs.add(line, "each SLO must be a mapping")
        return None
    before = errs.count()
    name = node.get("name")
    where = f"invalid slo {name!r}: ".replace("'", '"') if isinstance(name, str) else "invalid slo: "
    _unknown(node, _SLO_KEYS, where, errs)
    if not isinstance(name, str) or not name:
        errs.add(yamlpos.line_of(node, "name") if "name" in node else yamlpos.line_of(node),
                 f"{where}name is required")
        name = ""
    elif not NAME_RE.match(name):
        errs.add(yamlpos.line_of(node, "name"), f"{where}invalid name (must match {NAME_RE.pattern})")
    objective = _objective(node.get("objective"), yamlpos.line_of(node, "objective"), where, errs)
    desc = node.get("description", "")
    if not isinstance(desc, str):
        errs.add(yamlpos.line_of(node, "description"), f"{where}description must be a string")
        desc = ""
    labels = _merge(spec_labels, _str_map(node.get("labels"), where, errs, "labels",
                                          line=yamlpos.line_of(node, "labels")))
    slo = SLO(service=service, name=name, objective=objective or 0.0,
              period_ms=errs.settings.default_period_ms,
              description=desc, labels=labels, path=errs.path, line=line)
    slo.lines["objective"] = yamlpos.line_of(node, "objective")
    _load_sloth_sli(node.get("sli"), yamlpos.line_of(node, "sli"), where, slo, errs)
    _load_sloth_alerting(node.get("alerting"), yamlpos.line_of(node, "alerting"), where, slo, errs)
    chain = plugins.parse(node.get("plugins"), yamlpos.line_of(node, "plugins"),
                          f"{where}plugins: ", errs.add)
    if chain is not None and group is not None:
        meta = plugins.metadata_labels(group, chain, where, errs.add, errs.warn)
        slo.meta_labels = meta or {}
    return slo if errs.count() == before else None


def _objective(v: Any, line: int, where: str, errs: _Errors) -> float | None:
    if v is None:
        errs.add(line, f"{where}objective is required")
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        errs.add(line, f"{where}objective must be a number (a percentage, e.g. 99.9)")
        return None
    if not 0 < float(v) <= 100:
        errs.add(line, f"{where}objective {v} must be in (0, 100] (a percentage, e.g. 99.9)")
        return None
    return float(v)


def _load_sloth_sli(sli: Any, line: int, where: str, slo: SLO, errs: _Errors) -> None:
    w = f"{where}invalid SLI: "
    if not isinstance(sli, dict):
        errs.add(line, f"{w}sli is required (events, raw or plugin)")
        return
    kinds = [k for k in ("events", "raw", "plugin") if k in sli]
    _unknown(sli, {"events", "raw", "plugin"}, w, errs)
    if len(kinds) != 1:
        errs.add(yamlpos.line_of(sli), f"{w}exactly one of events, raw or plugin is required")
        return
    kind = kinds[0]
    body = sli[kind]
    if kind == "plugin":
        errs.add(yamlpos.line_of(sli, "plugin"), f"{w}SLI plugins are not supported by moncheck",
                 hint="inline the plugin's queries as sli.events error_query/total_query")
        return
    if not isinstance(body, dict):
        errs.add(yamlpos.line_of(sli, kind), f"{w}{kind} must be a mapping")
        return
    keys = ("error_query", "total_query") if kind == "events" else ("error_ratio_query",)
    _unknown(body, set(keys), w, errs)
    for k in keys:
        q = body.get(k)
        if not isinstance(q, str) or not q.strip():
            errs.add(yamlpos.line_of(body, k) if k in body else yamlpos.line_of(body),
                     f"{w}{kind}: {k} is required")
            continue
        setattr(slo, k, q)
        slo.lines[k] = yamlpos.line_of(body, k)


def _load_sloth_alerting(node: Any, line: int, where: str, slo: SLO, errs: _Errors) -> None:
    w = f"{where}invalid alerting: "
    if node is None:
        node = yamlpos.LocDict()
        node.line, node.key_lines = line, {}
    if not isinstance(node, dict):
        errs.add(line, f"{w}alerting must be a mapping")
        return
    _unknown(node, _ALERTING_KEYS, w, errs)
    name = node.get("name")
    labels = _str_map(node.get("labels"), w, errs, "labels", line=yamlpos.line_of(node, "labels"))
    annots = _str_map(node.get("annotations"), w, errs, "annotations",
                      line=yamlpos.line_of(node, "annotations"))
    metas: list[AlertMeta | None] = []
    for key, label in (("page_alert", "page alert"), ("ticket_alert", "ticket alert")):
        sub = node.get(key) or {}
        aw = f"{where}invalid alert: {label}: "
        if not isinstance(sub, dict):
            errs.add(yamlpos.line_of(node, key), f"{aw}must be a mapping")
            metas.append(None)
            continue
        if isinstance(sub, yamlpos.LocDict):
            _unknown(sub, _ALERT_KEYS, aw, errs)
        disable = sub.get("disable", False)
        if not isinstance(disable, bool):
            errs.add(yamlpos.line_of(sub, "disable"), f"{aw}disable must be true or false")
            disable = False
        for_ = sub.get("for")
        if for_ is not None:
            try:
                parse_duration(str(for_))
            except ValueError as e:
                errs.add(yamlpos.line_of(sub, "for"), f"{aw}invalid for: {e}")
                for_ = None
        meta = AlertMeta(
            name=name if isinstance(name, str) else "", disable=disable,
            for_=str(for_) if for_ is not None else None,
            labels=_merge(labels, _str_map(sub.get("labels"), aw, errs, "labels",
                                           line=yamlpos.line_of(sub, "labels", yamlpos.line_of(node)))),
            annotations=_merge(annots, _str_map(sub.get("annotations"), aw, errs, "annotations",
                                                line=yamlpos.line_of(sub, "annotations",
                                                                     yamlpos.line_of(node)))),
            line=yamlpos.line_of(node, key) if key in node else yamlpos.line_of(node, "name"))
        if not disable:
            if not isinstance(name, str) or not name:
                errs.add(yamlpos.line_of(node, "name") if "name" in node else yamlpos.line_of(node),
                         f"{aw}name is required")
            elif not ALERT_NAME_RE.match(name):
                errs.add(yamlpos.line_of(node, "name"), f"{aw}invalid name {name!r} "
                         "(must not contain line breaks)")
        metas.append(meta)
    slo.page, slo.ticket = metas[0], metas[1]


# ---------------------------------------------------------------- OpenSLO v1


def _q(node: Any) -> tuple[str | None, int]:
    """The PromQL query of an OpenSLO metric (v1 ``metricSource.spec.query``, v1alpha ``query``)."""
    if not isinstance(node, dict):
        return None, yamlpos.line_of(node)
    src = node.get("metricSource")
    if isinstance(src, dict):
        spec = src.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("query"), str):
            return spec["query"], yamlpos.line_of(spec, "query")
        return None, yamlpos.line_of(src)
    if isinstance(node.get("query"), str):
        return node["query"], yamlpos.line_of(node, "query")
    return None, yamlpos.line_of(node)


def _named(docs: list[Any], kind: str) -> dict[str, Any]:
    return {d["metadata"]["name"]: d for d in docs
            if isinstance(d, dict) and d.get("kind") == kind
            and isinstance(d.get("metadata"), dict) and "name" in d["metadata"]}


_OPENSLO_OTHER = ("SLI", "Service", "DataSource", "AlertPolicy", "AlertCondition",
                  "AlertNotificationTarget")


def _load_openslo(docs: list[Any], errs: _Errors) -> list[SLO]:
    slis = _named(docs, "SLI")
    refs = {"AlertPolicy": _named(docs, "AlertPolicy"),
            "AlertCondition": _named(docs, "AlertCondition")}
    out: list[SLO] = []
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") in _OPENSLO_OTHER:
            continue
        if doc.get("apiVersion") not in OPENSLO_VERSIONS or doc.get("kind") != "SLO":
            errs.add(yamlpos.line_of(doc) if isinstance(doc, dict) else 1, "unsupported OpenSLO document "
                     f"{doc.get('apiVersion')!r}/{doc.get('kind')!r} (expected openslo/v1 SLO)")
            continue
        out.extend(_load_openslo_slo(doc, slis, refs, errs))
    return out


def _load_openslo_slo(doc: Any, slis: dict[str, Any], refs: dict[str, dict[str, Any]],
                      errs: _Errors) -> list[SLO]:
    meta, spec = doc.get("metadata"), doc.get("spec")
    name = meta.get("name") if isinstance(meta, dict) else None
    where = f'invalid slo "{name}": ' if isinstance(name, str) else "invalid slo: "
    if not isinstance(name, str) or not NAME_RE.match(name):
        errs.add(yamlpos.line_of(meta, "name", yamlpos.line_of(doc)), f"{where}metadata.name is required "
                 f"and must match {NAME_RE.pattern}")
        return []
    if not isinstance(spec, dict):
        errs.add(yamlpos.line_of(doc, "spec"), f"{where}spec is required")
        return []
    service = spec.get("service")
    if not isinstance(service, str) or not NAME_RE.match(service):
        errs.add(yamlpos.line_of(spec, "service"), f"{where}spec.service is required and must match "
                 f"{NAME_RE.pattern}")
        return []
    indicator = spec.get("indicator")
    if indicator is None and isinstance(spec.get("indicatorRef"), str):
        indicator = slis.get(spec["indicatorRef"])
        if indicator is None:
            errs.add(yamlpos.line_of(spec, "indicatorRef"), f"{where}indicatorRef "
                     f"{spec['indicatorRef']!r}: no SLI document of that name in this file")
            return []
    ispec = indicator.get("spec") if isinstance(indicator, dict) else None
    ratio = None
    if isinstance(ispec, dict):
        ratio = ispec.get("ratioMetric") or ispec.get("ratioMetrics")
    before = errs.count()
    _openslo_unsupported(spec, where, errs)
    period_ms = _openslo_period(spec, where, errs)
    policies = (_openslo_policies(spec, period_ms, refs, where, errs)
                if period_ms is not None else None)
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        errs.add(yamlpos.line_of(spec, "objectives"), f"{where}at least one objective is required")
        return []
    out = []
    for i, obj in enumerate(objectives):
        ow = f'invalid slo "{name}-{i}": '
        if not isinstance(obj, dict):
            errs.add(yamlpos.item_lines(objectives)[i], f"{ow}objective must be a mapping")
            continue
        target = obj.get("targetPercent")
        if target is None and isinstance(obj.get("target"), (int, float)) \
                and not isinstance(obj.get("target"), bool):
            target = obj["target"] * 100
        objective = _objective(target, yamlpos.line_of(obj, "target") if "target" in obj
                               else yamlpos.line_of(obj), ow, errs)
        r = ratio if ratio is not None else obj.get("ratioMetrics") or obj.get("ratioMetric")
        if not isinstance(r, dict):
            errs.add(yamlpos.line_of(obj), f"{ow}invalid SLI: only ratio indicators (ratioMetric with "
                     "good or bad, and total) are supported")
            continue
        total, total_line = _q(r.get("total"))
        good, good_line = _q(r.get("good"))
        bad, bad_line = _q(r.get("bad"))
        if total is None or (good is None) == (bad is None):
            errs.add(yamlpos.line_of(r), f"{ow}invalid SLI: ratioMetric needs total and exactly one of "
                     "good or bad, each with metricSource.spec.query")
            continue
        if objective is None or period_ms is None:
            continue
        slo = SLO(service=service, name=f"{name}-{i}", objective=objective, period_ms=period_ms,
                  description=spec.get("description") or "", spec_version=doc["apiVersion"],
                  mode="cli-gen-openslo", path=errs.path, line=yamlpos.line_of(doc), labels={})
        if policies is not None:
            slo.page, slo.ticket, slo.windows = policies
        else:
            _default_openslo_alerts(slo, errs.settings, yamlpos.line_of(doc))
        slo.lines["objective"] = yamlpos.line_of(obj, "target") if "target" in obj else yamlpos.line_of(obj)
        if bad is not None:
            slo.error_query, slo.total_query = bad, total
            slo.lines.update(error_query=bad_line, total_query=total_line)
        else:
            # Same raw expression Sloth builds from good/total (internal/openslo).
            slo.error_ratio_query = (f"\n  1 - (\n    (\n      {good}\n    )\n    /\n    (\n"
                                     f"      {total}\n    )\n  )\n")
            slo.lines.update(error_ratio_query=good_line, total_query=total_line)
        out.append(slo)
    return out if errs.count() == before else []


def _openslo_unsupported(spec: Any, where: str, errs: _Errors) -> None:
    """What moncheck (like Sloth) cannot generate: rejected, never read as something else."""
    method = spec.get("budgetingMethod")
    if method is not None and method != "Occurrences":
        errs.add(yamlpos.line_of(spec, "budgetingMethod"), f"{where}budgetingMethod {method!r} is not "
                 "supported: only Occurrences (good/total events over the window) has a "
                 "Prometheus burn-rate form here; Timeslices counts bad minutes instead",
                 hint="use budgetingMethod: Occurrences")
    tw = spec.get("timeWindow") or spec.get("timeWindows")
    for w in tw if isinstance(tw, list) else []:
        if isinstance(w, dict) and w.get("isRolling") is False:
            errs.add(yamlpos.line_of(w, "isRolling", yamlpos.line_of(w)), f"{where}calendar-aligned "
                     "time windows (isRolling: false) are not supported: the rules compute "
                     "rolling windows", hint="use isRolling: true with a duration such as 30d")


def _openslo_period(spec: Any, where: str, errs: _Errors) -> int | None:
    tw = spec.get("timeWindow") or spec.get("timeWindows")
    if tw is None:
        st = errs.settings
        return st.default_period_ms if st.period_error(st.default_period_ms) is None else None
    if not isinstance(tw, list) or len(tw) != 1 or not isinstance(tw[0], dict):
        errs.add(yamlpos.line_of(spec, "timeWindow"), f"{where}timeWindow must hold exactly one window")
        return None
    w = tw[0]
    try:
        if "duration" in w:
            ms = parse_duration(str(w["duration"]))
        else:  # v1alpha: count + unit
            unit = {"Day": "d", "Week": "w", "Hour": "h"}.get(str(w.get("unit")), "?")
            ms = parse_duration(f"{w.get('count')}{unit}")
    except ValueError as e:
        errs.add(yamlpos.line_of(w), f"{where}invalid timeWindow: {e}")
        return None
    why = errs.settings.period_error(ms)
    if why is not None:
        errs.add(yamlpos.line_of(w), f"{where}{why}")
        return None
    return ms


# ---------------------------------------------------------------- OpenSLO alerts


def _camel(text: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", text) if p)


def _default_openslo_alerts(slo: SLO, st: Settings, line: int) -> None:
    """No alertPolicies: the policy's default page and ticket alerts, on the period's windows
    (Sloth itself generates no alerts for OpenSLO specs)."""
    slo.windows = st.windows[slo.period_ms]
    name = _camel(f"{slo.service}-{slo.name}") + st.name_suffix
    slo.page, slo.ticket = (
        AlertMeta(name=name, disable=d.disable, for_=d.for_, labels=dict(d.labels),
                  annotations=dict(d.annotations), line=line) for d in (st.page, st.ticket))


def _ref(node: Any, key: str, kind: str, refs: dict[str, dict[str, Any]], where: str,
         errs: _Errors) -> Any:
    """An inline OpenSLO object of ``kind``, or the document ``node[key]`` names."""
    if not isinstance(node, dict):
        errs.add(yamlpos.line_of(node), f"{where}expected a {kind} or a {key}")
        return None
    if key in node:
        got = refs[kind].get(node[key]) if isinstance(node[key], str) else None
        if got is None:
            errs.add(yamlpos.line_of(node, key), f"{where}{key} {node[key]!r}: no {kind} "
                     "document of that name in this file")
        return got
    if node.get("kind") != kind:
        errs.add(yamlpos.line_of(node, "kind" if "kind" in node else None),
                 f"{where}expected kind {kind} (or {key}), got {node.get('kind')!r}")
        return None
    return node


def _openslo_policies(spec: Any, period_ms: int, refs: dict[str, dict[str, Any]], where: str,
                      errs: _Errors) -> tuple[AlertMeta | None, AlertMeta | None, Windows] | None:
    """``alertPolicies``: the first is the page, the second the ticket. Each holds two burn-rate
    conditions, the quick and the slow window pair of a multi-window multi-burn-rate alert."""
    node = spec.get("alertPolicies")
    if node is None:
        return None
    base = errs.settings.windows[period_ms]
    if node == []:  # explicitly none: no alerts (not the policy's defaults)
        return None, None, base
    if not isinstance(node, list) or not 1 <= len(node) <= 2:
        errs.add(yamlpos.line_of(spec, "alertPolicies"), f"{where}alertPolicies must list one or "
                 "two alert policies (the page, then the ticket)")
        return None, None, base
    metas: list[AlertMeta | None] = [None, None]
    pairs: list[tuple[Window, Window] | None] = [None, None]
    for i, item in enumerate(node):
        sev = ("page", "ticket")[i]
        pw = f"{where}alertPolicies[{i}] ({sev}): "
        pol = _ref(item, "alertPolicyRef", "AlertPolicy", refs, pw, errs)
        if pol is None:
            continue
        got = _openslo_policy(pol, period_ms, refs, pw, errs)
        if got is not None:
            metas[i], pairs[i] = got
    page, ticket = pairs
    windows = Windows(period_ms, *(page or (base.page_quick, base.page_slow)),
                      *(ticket or (base.ticket_quick, base.ticket_slow)))
    return metas[0], metas[1], windows


def _openslo_policy(pol: dict, period_ms: int, refs: dict[str, dict[str, Any]], where: str,
                    errs: _Errors) -> tuple[AlertMeta, tuple[Window, Window]] | None:
    meta, pspec = pol.get("metadata"), pol.get("spec")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not ALERT_NAME_RE.match(name):
        errs.add(yamlpos.line_of(meta if isinstance(meta, dict) else pol, "name"),
                 f"{where}metadata.name is required (the alert name)")
        return None
    if not isinstance(pspec, dict) or not isinstance(pspec.get("conditions"), list):
        errs.add(yamlpos.line_of(pol, "spec"), f"{where}spec.conditions is required")
        return None
    if pspec.get("alertWhenNoData") is True:
        errs.warn(yamlpos.line_of(pspec, "alertWhenNoData"), f"{where}alertWhenNoData is not "
                  "supported: a burn-rate alert has no value without data (add an absent() "
                  "alert by hand)")
    conds = pspec["conditions"]
    got = []
    for j, c in enumerate(conds):
        cw = f"{where}conditions[{j}]: "
        cond = _ref(c, "conditionRef", "AlertCondition", refs, cw, errs)
        if cond is not None:
            got.append(_burn_condition(cond, period_ms, cw, errs))
    if any(g is None for g in got):
        return None
    if len(got) != 2:
        errs.add(yamlpos.line_of(pspec, "conditions"), f"{where}exactly two burn-rate conditions "
                 f"are required (the quick and the slow window pair), got {len(got)}")
        return None
    (qw, qsev, qfor, qline), (sw, ssev, sfor, _) = sorted(
        (g for g in got if g is not None), key=lambda g: g[0].long_ms)
    if qw.long_ms == sw.long_ms:
        errs.add(qline, f"{where}the two conditions need different lookbackWindows")
        return None
    if (qw.burn_rate or 0) <= (sw.burn_rate or 0):
        errs.add(qline, f"{where}the shorter lookbackWindow needs the higher threshold (a quick "
                 "pair catches a fast burn, the slow pair a slower one)")
        return None
    if qsev != ssev or qfor != sfor:
        errs.add(qline, f"{where}both conditions must have the same severity and alertAfter "
                 "(one alert has one set of labels and one `for`)")
        return None
    labels = {"severity": qsev} if qsev else {}
    desc = pspec.get("description")
    annotations = {"description": desc} if isinstance(desc, str) and desc else {}
    return (AlertMeta(name=name, for_=qfor, labels=labels, annotations=annotations,
                      line=yamlpos.line_of(pol)), (qw, sw))


def _burn_condition(cond: dict, period_ms: int, where: str,
                    errs: _Errors) -> tuple[Window, str | None, str | None, int] | None:
    cspec = cond.get("spec")
    c = cspec.get("condition") if isinstance(cspec, dict) else None
    line = yamlpos.line_of(cond)
    if not isinstance(c, dict):
        errs.add(line, f"{where}spec.condition is required")
        return None
    if str(c.get("kind", "")).lower() != "burnrate":
        errs.add(yamlpos.line_of(c, "kind" if "kind" in c else None), f"{where}condition kind "
                 f"{c.get('kind')!r} is not supported (only burnrate)")
        return None
    op = c.get("op", "gt")
    if op not in ("gt", "gte"):
        errs.add(yamlpos.line_of(c, "op"), f"{where}op {op!r} is not supported: a burn-rate alert "
                 "fires above its threshold (gt; gte is read as gt)")
        return None
    thr = c.get("threshold")
    if isinstance(thr, bool) or not isinstance(thr, (int, float)) or not thr > 0:
        errs.add(yamlpos.line_of(c, "threshold" if "threshold" in c else None),
                 f"{where}threshold must be a positive number (the burn rate)")
        return None
    try:
        long = parse_duration(str(c.get("lookbackWindow")))
        after = c.get("alertAfter")
        if after is not None:
            parse_duration(str(after))
    except ValueError as e:
        errs.add(yamlpos.line_of(c, "lookbackWindow"), f"{where}invalid duration: {e}")
        return None
    # The short window is 1/12 of the long one, as in the Google SRE workbook (and Sloth's
    # 5m/1h, 30m/6h, 2h/1d, 6h/3d).
    short = long // 12
    why = window_problem(short) if long % 12 == 0 else "its twelfth is not a whole duration"
    if why is None and long >= period_ms:
        why = "it is not shorter than the SLO period"
    if why is not None:
        errs.add(yamlpos.line_of(c, "lookbackWindow"), f"{where}lookbackWindow "
                 f"{c.get('lookbackWindow')}: {why} (the short window is 1/12 of it; use a "
                 "multiple of 24m)")
        return None
    sev = cspec.get("severity") if isinstance(cspec, dict) else None
    window = Window(float(thr) * (long / 3_600_000) * 100 / (period_ms / 3_600_000), short, long,
                    burn_rate=float(thr))
    return (window, str(sev) if sev is not None else None,
            str(after) if after is not None else None, yamlpos.line_of(c, "lookbackWindow"))
