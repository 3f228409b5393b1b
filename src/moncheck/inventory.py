"""The inventory: every monitoring artifact of a repository (or loose files), loaded once, with
file and line on every record. Checks read it; nothing here judges content beyond "can it load".

Load problems become findings in ``Inventory.load_findings`` (``schema/yaml``, ``schema/json``);
loading never raises for bad input.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moncheck import jsonpos, yamlpos
from moncheck.findings import Finding, error
from moncheck.yamlpos import LoadError, LocDict, LocList, line_of

TARGET_LABELS = frozenset({"job", "instance"})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
SUMMARY_SUFFIXES = ("_sum", "_count")


@dataclass
class Rule:
    file: str
    line: int
    group: str
    index: int
    kind: str  # "alert" | "record"
    name: str
    expr: str
    expr_line: int
    for_: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    key_lines: dict[str, int]
    label_lines: dict[str, int]
    annotation_lines: dict[str, int]
    raw: Any = None

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


@dataclass
class RuleFile:
    path: str
    data: Any
    rules: list[Rule] = field(default_factory=list)


@dataclass
class CatalogLabel:
    name: str
    line: int
    values: list[str] | None
    bound: int | None
    pattern: str | None


@dataclass
class CatalogMetric:
    name: str
    type: str
    line: int
    labels: dict[str, CatalogLabel]
    raw: Any = None


@dataclass
class Catalog:
    path: str
    data: Any
    metrics: dict[str, CatalogMetric] = field(default_factory=dict)
    series: dict[str, tuple[CatalogMetric, str]] = field(default_factory=dict)
    """Exposed series name -> (metric, series kind: counter/gauge/bucket/sum/count/...)."""


@dataclass
class Target:
    expr: str
    line: int
    ref: str


@dataclass
class Panel:
    title: str
    type: str
    line: int
    datasource: Any
    targets: list[Target]


@dataclass
class Dashboard:
    path: str
    line: int
    uid: str | None
    title: str
    data: Any
    panels: list[Panel]
    variables: list[Any]


@dataclass
class YamlDoc:
    """A YAML artifact kept whole (alertmanager config, routing tests, uptime env, policy...)."""

    path: str
    data: Any


@dataclass
class Inventory:
    root: Path
    mode: str  # "repo" | "loose"
    load_findings: list[Finding] = field(default_factory=list)
    rule_files: list[RuleFile] = field(default_factory=list)
    catalog: Catalog | None = None
    alertmanager: YamlDoc | None = None
    routing_tests: YamlDoc | None = None
    prometheus: YamlDoc | None = None
    dashboards: list[Dashboard] = field(default_factory=list)
    rule_tests: list[YamlDoc] = field(default_factory=list)
    uptime: list[YamlDoc] = field(default_factory=list)
    slos: list[YamlDoc] = field(default_factory=list)
    drills: list[YamlDoc] = field(default_factory=list)
    provisioning: list[YamlDoc] = field(default_factory=list)
    expectations: list[YamlDoc] = field(default_factory=list)
    runbooks: set[str] = field(default_factory=set)
    workflows: list[str] = field(default_factory=list)
    secret_scan: list[str] = field(default_factory=list)
    policy: YamlDoc | None = None

    @property
    def rules(self) -> list[Rule]:
        return [r for f in self.rule_files for r in f.rules]

    @property
    def alerts(self) -> list[Rule]:
        return [r for f in self.rule_files for r in f.rules if r.kind == "alert"]

    def abspath(self, rel: str) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else self.root / p


# ------------------------------------------------------------------------------- helpers


def _rel(path: Path, root: Path) -> str:
    # Globbed paths already start with root: no filesystem call (10,000 runbooks, 10,000 lookups).
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _yaml(inv: Inventory, path: Path) -> tuple[str, Any] | None:
    rel = _rel(path, inv.root)
    try:
        return rel, yamlpos.load(path, rel)
    except LoadError as e:
        inv.load_findings.append(error("schema/yaml", e.path, e.line, e.message))
        return None


def _str_map(node: Any) -> tuple[dict[str, str], dict[str, int]]:
    if not isinstance(node, dict):
        return {}, {}
    vals = {str(k): "" if v is None else str(v) for k, v in node.items()}
    lines = {str(k): line_of(node, k) for k in node}
    return vals, lines


def parse_rules(rel: str, data: Any) -> RuleFile:
    """Typed rules of a loaded rule file; shape errors are left to the schema check."""
    rf = RuleFile(rel, data)
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        return rf
    for g in groups:
        if not isinstance(g, dict) or not isinstance(g.get("rules"), list):
            continue
        gname = str(g.get("name", ""))
        for i, r in enumerate(g["rules"]):
            if not isinstance(r, dict):
                continue
            kind = "alert" if "alert" in r else "record" if "record" in r else ""
            if not kind:
                continue
            labels, label_lines = _str_map(r.get("labels"))
            ann, ann_lines = _str_map(r.get("annotations"))
            expr = r.get("expr")
            rf.rules.append(
                Rule(
                    file=rel,
                    line=line_of(r),
                    group=gname,
                    index=i,
                    kind=kind,
                    name=str(r.get(kind, "")),
                    expr="" if expr is None else str(expr),
                    expr_line=line_of(r, "expr"),
                    for_=None if r.get("for") is None else str(r.get("for")),
                    labels=labels,
                    annotations=ann,
                    key_lines=dict(getattr(r, "key_lines", {})),
                    label_lines=label_lines,
                    annotation_lines=ann_lines,
                    raw=r,
                )
            )
    return rf


def parse_catalog(rel: str, data: Any) -> Catalog:
    cat = Catalog(rel, data)
    metrics = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(metrics, list):
        return cat
    for m in metrics:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            continue
        labels: dict[str, CatalogLabel] = {}
        lab = m.get("labels")
        if isinstance(lab, dict):
            for k, v in lab.items():
                v = v if isinstance(v, dict) else {}
                vals = v.get("values")
                labels[str(k)] = CatalogLabel(
                    str(k),
                    line_of(lab, k),
                    [str(x) for x in vals] if isinstance(vals, list) else None,
                    v.get("bound") if isinstance(v.get("bound"), int) else None,
                    v.get("pattern") if isinstance(v.get("pattern"), str) else None,
                )
        cm = CatalogMetric(m["name"], str(m.get("type", "")), line_of(m), labels, m)
        cat.metrics[cm.name] = cm
        if cm.type == "histogram":
            for s in HISTOGRAM_SUFFIXES:
                cat.series[cm.name + s] = (cm, s[1:])
        elif cm.type == "summary":
            cat.series[cm.name] = (cm, "quantile")
            for s in SUMMARY_SUFFIXES:
                cat.series[cm.name + s] = (cm, s[1:])
        else:
            cat.series[cm.name] = (cm, cm.type)
    return cat


def _walk_panels(node: Any) -> list[Any]:
    out: list[Any] = []
    for key in ("panels", "rows"):
        items = node.get(key) if isinstance(node, dict) else None
        if isinstance(items, list):
            for p in items:
                if isinstance(p, dict):
                    if "type" in p or "targets" in p:
                        out.append(p)
                    out.extend(_walk_panels(p))
    return out


def parse_dashboard(rel: str, data: Any) -> Dashboard:
    d = data.get("dashboard", data) if isinstance(data, dict) else {}
    d = d if isinstance(d, dict) else {}
    panels = []
    for p in _walk_panels(d):
        targets = []
        raw_targets = p.get("targets")
        for t in raw_targets if isinstance(raw_targets, list) else []:
            if isinstance(t, dict) and isinstance(t.get("expr"), str):
                targets.append(Target(t["expr"], line_of(t, "expr"), str(t.get("refId", ""))))
        panels.append(
            Panel(str(p.get("title", "")), str(p.get("type", "")), line_of(p), p.get("datasource"), targets)
        )
    templ = d.get("templating")
    variables = templ.get("list") if isinstance(templ, dict) else None
    uid = d.get("uid")
    return Dashboard(
        rel,
        line_of(d, "uid") if "uid" in d else line_of(d),
        uid if isinstance(uid, str) else None,
        str(d.get("title", "")),
        d,
        panels,
        [v for v in variables if isinstance(v, dict)] if isinstance(variables, list) else [],
    )


# ------------------------------------------------------------------------------- loaders


def _add_rules(inv: Inventory, path: Path) -> None:
    got = _yaml(inv, path)
    if got:
        inv.rule_files.append(parse_rules(*got))


def _add_dashboard(inv: Inventory, path: Path) -> None:
    rel = _rel(path, inv.root)
    try:
        data = jsonpos.load(path, rel)
    except LoadError as e:
        inv.load_findings.append(error("schema/json", e.path, e.line, e.message))
        return
    inv.dashboards.append(parse_dashboard(rel, data))


def _sorted(root: Path, *patterns: str) -> list[Path]:
    found: set[Path] = set()
    for p in patterns:
        found.update(x for x in root.glob(p) if x.is_file())
    return sorted(found)


def _artifacts(root: Path, *patterns: str) -> list[Path]:
    """Every entry an artifact pattern names, regular file or not: a FIFO, a device, a
    directory, a dangling symlink or a symlink loop named ``*.yml`` is loaded, so that the
    loader reports it (without opening it) instead of the gate silently passing over it."""
    found: set[Path] = set()
    for p in patterns:
        found.update(root.glob(p))
    return sorted(found)


SECRET_SCAN_EXT = {".yml", ".yaml", ".json", ".md", ".tmpl", ".txt", ".conf", ".env", ".ini", ".toml"}


def _present(p: Path) -> bool:
    """Something is at ``p`` (even a dangling symlink): the loader, not a test, judges it."""
    return os.path.lexists(p)


def load_repo(repo: Path) -> Inventory:
    """Load a repository laid out as in docs/contracts.md."""
    inv = Inventory(root=repo, mode="repo")
    mon = repo / "monitoring"
    for p in _artifacts(mon, "prometheus/rules/**/*.yml", "prometheus/rules/**/*.yaml"):
        _add_rules(inv, p)
    cat = mon / "catalog" / "metrics.yml"
    if _present(cat) and (got := _yaml(inv, cat)):
        inv.catalog = parse_catalog(*got)
    for attr, p in (
        ("alertmanager", mon / "alertmanager" / "alertmanager.yml"),
        ("routing_tests", mon / "alertmanager" / "routing-tests.yml"),
        ("prometheus", mon / "prometheus" / "prometheus.yml"),
        ("policy", repo / "policies" / "policy.yml"),
    ):
        if _present(p) and (got := _yaml(inv, p)):
            setattr(inv, attr, YamlDoc(*got))
    for p in _artifacts(mon, "grafana/dashboards/**/*.json"):
        _add_dashboard(inv, p)
    for attr, pats in (
        ("rule_tests", ("tests/rules/**/*.test.yml", "tests/rules/**/*.test.yaml")),
        ("uptime", ("monitoring/uptime/*.yml",)),
        ("slos", ("monitoring/slos/*.yml",)),
        ("drills", ("monitoring/drills/*.yml",)),
        ("provisioning", ("monitoring/grafana/provisioning/**/*.yml", "monitoring/grafana/provisioning/**/*.yaml")),
        ("expectations", ("monitoring/expectations/*.yml",)),
    ):
        for p in _artifacts(repo, *pats):
            if got := _yaml(inv, p):
                getattr(inv, attr).append(YamlDoc(*got))
    inv.runbooks = {_rel(p, repo) for p in _sorted(mon, "runbooks/**/*.md")}
    inv.workflows = [_rel(p, repo) for p in _sorted(repo, ".github/workflows/*.yml", ".github/workflows/*.yaml")]
    inv.secret_scan = [
        _rel(p, repo)
        for p in _sorted(mon, "**/*")
        if p.suffix in SECRET_SCAN_EXT and not any(part.startswith(".") for part in p.relative_to(mon).parts)
    ]
    return inv


def _kind_of(data: Any, path: Path) -> str:
    """Detect what a loose YAML file is by its content."""
    if isinstance(data, list) and data and all(isinstance(c, dict) and ("receivers" in c or "inhibit" in c) for c in data):
        return "routing_tests"
    if not isinstance(data, dict):
        return "unknown"
    if "groups" in data:
        return "rules"
    if "rule_files" in data and "tests" in data:
        return "rule_test"
    if "route" in data or "receivers" in data:
        return "alertmanager"
    if "scrape_configs" in data or ("global" in data and "rule_files" in data):
        return "prometheus"
    if isinstance(data.get("metrics"), list):
        return "catalog"
    if "slos" in data and "service" in data:
        return "slo"
    if "tests" in data and isinstance(data.get("tests"), list):
        return "routing_tests"
    return "unknown"


def load_paths(paths: list[Path], cwd: Path) -> Inventory:
    """Load loose files (or folders of them); each file's kind is detected by content."""
    inv = Inventory(root=cwd, mode="loose")
    files: list[Path] = []
    for p in paths:
        p = p if p.is_absolute() else cwd / p
        if p.is_dir():
            files.extend(_artifacts(p, "**/*.yml", "**/*.yaml", "**/*.json"))
        elif _present(p):
            files.append(p)
        else:
            inv.load_findings.append(error("schema/yaml", _rel(p, cwd), 1, "file not found"))
    for p in files:
        inv.secret_scan.append(_rel(p, cwd))
        if p.suffix == ".json":
            _add_dashboard(inv, p)
            continue
        got = _yaml(inv, p)
        if not got:
            continue
        rel, data = got
        kind = _kind_of(data, p)
        if kind == "rules":
            inv.rule_files.append(parse_rules(rel, data))
        elif kind == "rule_test":
            inv.rule_tests.append(YamlDoc(rel, data))
        elif kind == "alertmanager":
            inv.alertmanager = YamlDoc(rel, data)
        elif kind == "prometheus":
            inv.prometheus = YamlDoc(rel, data)
        elif kind == "catalog":
            inv.catalog = parse_catalog(rel, data)
        elif kind == "slo":
            inv.slos.append(YamlDoc(rel, data))
        elif kind == "routing_tests":
            inv.routing_tests = YamlDoc(rel, data)
        else:
            inv.load_findings.append(
                error(
                    "schema/unknown-file",
                    rel,
                    line_of(data),
                    "cannot tell what this file is (rule file, promtool test, alertmanager or prometheus config, catalog)",
                    "pass rule files, promtool tests, alertmanager.yml, prometheus.yml, metrics.yml or dashboards",
                )
            )
    return inv


__all__ = [
    "Catalog",
    "CatalogLabel",
    "CatalogMetric",
    "Dashboard",
    "Inventory",
    "LocDict",
    "LocList",
    "Panel",
    "Rule",
    "RuleFile",
    "Target",
    "YamlDoc",
    "load_paths",
    "load_repo",
]
