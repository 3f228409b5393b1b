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

from moncheck import alertmanager as am
from moncheck import config as config_mod
from moncheck import jsonpos, templated, yamlpos
from moncheck.catalog import (
    TARGET_LABELS,
    Catalog,
    CatalogLabel,
    CatalogMetric,
    parse_catalog,
)
from moncheck.config import RepoConfig
from moncheck.findings import Finding, error
from moncheck.yamlpos import LoadError, LocDict, LocList, line_of


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
class RuleGroup:
    name: str | None  # None: the group has no name (the schema reports it)
    line: int
    rules: list[Rule] = field(default_factory=list)


@dataclass
class RuleFile:
    path: str
    data: Any
    rules: list[Rule] = field(default_factory=list)
    crd: bool = False  # the spec of a PrometheusRule custom resource (promtool cannot read the file)
    groups: list[RuleGroup] = field(default_factory=list)


@dataclass
class Target:
    expr: str
    line: int
    ref: str
    datasource: Any = None  # the target's own datasource (None: the panel's)


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


@dataclass(frozen=True)
class AlertTest:
    """One ``alert_rule_test`` entry: the alert it evaluates and whether it expects it to fire."""

    alertname: str
    line: int
    fires: bool


@dataclass
class RuleTestGroup:
    name: str | None
    line: int
    alert_tests: list[AlertTest] = field(default_factory=list)


@dataclass
class RuleTestFile(YamlDoc):
    """A promtool unit-test file: its ``rule_files`` and test groups (``tests:``)."""

    rule_files: list[str] = field(default_factory=list)
    groups: list[RuleTestGroup] = field(default_factory=list)

    @classmethod
    def parse(cls, path: str, data: Any) -> RuleTestFile:
        doc = cls(path, data)
        if not isinstance(data, dict):
            return doc
        # A shape promtool rejects is reported by promtool/test-rules: read leniently here.
        doc.rule_files = [str(f) for f in yamlpos.as_list(data.get("rule_files")) if isinstance(f, str)]
        for g in yamlpos.as_list(data.get("tests")):
            if not isinstance(g, dict):
                continue
            name = g.get("name")
            group = RuleTestGroup(str(name) if name is not None else None, line_of(g))
            for art in yamlpos.as_list(g.get("alert_rule_test") or g.get("alert_rule_tests")):
                if isinstance(art, dict) and art.get("alertname"):
                    group.alert_tests.append(AlertTest(str(art["alertname"]), line_of(art), bool(art.get("exp_alerts"))))
            doc.groups.append(group)
        return doc


@dataclass
class SloSpecDoc(YamlDoc):
    """An SLO spec file: ``data`` is its first YAML document, ``documents`` all of them (an
    OpenSLO file may hold several ``---``-separated documents)."""

    documents: list[Any] = field(default_factory=list)


@dataclass
class AlertmanagerDoc(YamlDoc):
    """``alertmanager.yml`` with its model (``config``), or the ``error`` that kept it from loading."""

    config: am.Config | None = None
    error: LoadError | None = None

    @classmethod
    def parse(cls, path: str, data: Any) -> AlertmanagerDoc:
        try:
            return cls(path, data, am.parse_config(data, path))
        except LoadError as e:
            return cls(path, data, None, e)


@dataclass
class UptimeDoc(YamlDoc):
    """An uptime environment (``monitoring/uptime/<env>.yml``) typed by smoke's parser
    (``target``: ``moncheck.smoke.targets.Target``), or the first ``error`` that parser found."""

    target: Any = None
    error: LoadError | None = None

    @classmethod
    def parse(cls, path: str, data: Any, file: Path) -> UptimeDoc:
        from moncheck.smoke.targets import TargetError, parse_env

        try:
            return cls(path, data, parse_env(data, path, file))
        except TargetError as e:
            return cls(path, data, None, LoadError(path, e.line, e.message))


@dataclass
class RoutingTestsDoc(YamlDoc):
    """``routing-tests.yml`` with its cases, or the ``error`` when it is not a routing-tests file."""

    cases: list[am.Case] = field(default_factory=list)
    error: LoadError | None = None

    @classmethod
    def parse(cls, path: str, data: Any) -> RoutingTestsDoc:
        try:
            return cls(path, data, am.parse_routing_tests(data, path))
        except LoadError as e:
            return cls(path, data, [], e)


@dataclass
class Inventory:
    root: Path
    mode: str  # "repo" | "loose"
    load_findings: list[Finding] = field(default_factory=list)
    rule_files: list[RuleFile] = field(default_factory=list)
    catalog: Catalog | None = None
    alertmanager: AlertmanagerDoc | None = None
    routing_tests: RoutingTestsDoc | None = None
    prometheus: YamlDoc | None = None
    dashboards: list[Dashboard] = field(default_factory=list)
    rule_tests: list[RuleTestFile] = field(default_factory=list)
    uptime: list[UptimeDoc] = field(default_factory=list)
    slos: list[SloSpecDoc] = field(default_factory=list)
    drills: list[YamlDoc] = field(default_factory=list)
    provisioning: list[YamlDoc] = field(default_factory=list)
    expectations: list[YamlDoc] = field(default_factory=list)
    runbooks: set[str] = field(default_factory=set)
    workflows: list[str] = field(default_factory=list)
    secret_scan: list[str] = field(default_factory=list)
    policy: YamlDoc | None = None
    config: RepoConfig | None = None  # the repository's layout (None: loose files)
    # Errors, traces, logs and browser budgets (monitoring/{errors,tracing,logging,lighthouse}/);
    # typed by moncheck.telemetry.spec. `log_line_schema` and `lighthouse` are JSON documents.
    errors: YamlDoc | None = None
    tracing: YamlDoc | None = None
    logging: YamlDoc | None = None
    log_line_schema: YamlDoc | None = None
    lighthouse: YamlDoc | None = None
    sources: dict[str, str] = field(default_factory=dict)  # file -> kind (catalog, dashboards, slos, uptime, drills)

    def load_errors(self, kind: str) -> list[Finding]:
        """The load findings of the ``kind`` files that did not load (readers of typed records
        report them: a drill that does not load is not silently left out of a run)."""
        return [f for f in self.load_findings if self.sources.get(f.path) == kind]

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


def _add_slo(inv: Inventory, path: Path) -> None:
    if got := _yaml_docs(inv, path, multi=True):
        rel, docs = got
        docs = [d for d in docs if d is not None]
        inv.slos.append(SloSpecDoc(rel, docs[0] if docs else None, docs))


def _yaml(inv: Inventory, path: Path) -> tuple[str, Any] | None:
    docs = _yaml_docs(inv, path, multi=False)
    return (docs[0], docs[1][0]) if docs else None


def load_yaml_doc(inv: Inventory, path: Path) -> YamlDoc | None:
    """One YAML artifact kept whole; None (with a load finding) if it does not load."""
    got = _yaml(inv, path)
    return YamlDoc(*got) if got else None


def _yaml_docs(inv: Inventory, path: Path, multi: bool) -> tuple[str, list[Any]] | None:
    """The documents of a YAML file (one unless ``multi``); None after recording why not:
    ``schema/yaml`` for broken YAML, ``schema/templated`` for a Helm/Jinja template."""
    rel = _rel(path, inv.root)
    try:
        text = yamlpos.read_source(path, rel)
    except LoadError as e:
        inv.load_findings.append(error("schema/yaml", e.path, e.line, e.message))
        return None
    try:
        docs = yamlpos.loads_all(text, rel) if multi else [yamlpos.loads(text, rel)]
        failed: LoadError | None = None
    except LoadError as e:
        docs, failed = [], e
    tl = templated.marker_line(text, loads=failed is None)
    if tl is not None:
        inv.load_findings.append(error("schema/templated", rel, tl, templated.MESSAGE))
        return None
    if failed is not None:
        inv.load_findings.append(error("schema/yaml", failed.path, failed.line, failed.message))
        return None
    return rel, docs


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
        if not isinstance(g, dict):
            continue
        group = RuleGroup(None if g.get("name") is None else str(g["name"]), line_of(g))
        rf.groups.append(group)
        if not isinstance(g.get("rules"), list):
            continue
        gname = str(g.get("name", ""))
        # Prometheus 3 group labels apply to every rule of the group; a rule's own label wins.
        glabels, glines = _str_map(g.get("labels"))
        for i, r in enumerate(g["rules"]):
            if not isinstance(r, dict):
                continue
            kind = "alert" if "alert" in r else "record" if "record" in r else ""
            if not kind:
                continue
            labels, label_lines = _str_map(r.get("labels"))
            labels, label_lines = {**glabels, **labels}, {**glines, **label_lines}
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
            group.rules.append(rf.rules[-1])
    return rf


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
                targets.append(Target(t["expr"], line_of(t, "expr"), str(t.get("refId", "")), t.get("datasource")))
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


def is_rule_crd(data: Any) -> bool:
    """A PrometheusRule custom resource (prometheus-operator, ``monitoring.coreos.com/v1``)."""
    return (
        isinstance(data, dict)
        and data.get("kind") == "PrometheusRule"
        and str(data.get("apiVersion", "")).startswith("monitoring.coreos.com/")
    )


def _rule_docs(rel: str, docs: list[Any]) -> list[RuleFile]:
    """Rule files of a file's documents: plain rule files, or the ``spec`` of each PrometheusRule
    CRD (lines stay those of the file, so findings point into the CRD)."""
    out = []
    for d in docs:
        if is_rule_crd(d):
            rf = parse_rules(rel, d.get("spec") if isinstance(d.get("spec"), dict) else {})
            rf.crd = True
            out.append(rf)
        elif d is not None and d != {}:  # an empty rule file is valid (promtool: 0 rules found)
            out.append(parse_rules(rel, d))
    return out


def _add_rules(inv: Inventory, path: Path) -> None:
    got = _yaml_docs(inv, path, multi=True)
    if got:
        inv.rule_files += _rule_docs(*got)


def _json(inv: Inventory, path: Path) -> tuple[str, Any] | None:
    rel = _rel(path, inv.root)
    try:
        return rel, jsonpos.load(path, rel)
    except LoadError as e:
        inv.load_findings.append(error("schema/json", e.path, e.line, e.message))
        return None


def _add_dashboard(inv: Inventory, path: Path) -> None:
    if got := _json(inv, path):
        inv.dashboards.append(parse_dashboard(*got))


def _sorted(root: Path, *patterns: str) -> list[Path]:
    found: set[Path] = set()
    for p in patterns:
        found.update(x for x in root.glob(p) if x.is_file())
    return sorted(found)


def _present(p: Path) -> bool:
    """Something is at ``p`` (even a dangling symlink): the loader, not a test, judges it."""
    return os.path.lexists(p)


def _artifacts(root: Path, *patterns: str) -> list[Path]:
    """Every entry an artifact pattern names, regular file or not: a FIFO, a device, a
    directory, a dangling symlink or a symlink loop named ``*.yml`` is loaded, so that the
    loader reports it (without opening it) instead of the gate silently passing over it."""
    found: set[Path] = set()
    for p in patterns:
        found.update(root.glob(p))
    return sorted(found)


SECRET_SCAN_EXT = {".yml", ".yaml", ".json", ".md", ".tmpl", ".txt", ".conf", ".env", ".ini", ".toml"}


def load_repo(repo: Path, config: RepoConfig | None = None) -> Inventory:
    """Load a repository: the artifacts its ``moncheck.yml`` names (``config``; by default
    read from ``repo``, whose absence means the layout of docs/contracts.md). Every entry a key
    names is loaded, regular file or not, so that the loader reports what it cannot read."""
    cfg = config if config is not None else config_mod.load(repo)
    inv = Inventory(root=repo, mode="repo", config=cfg)
    for p in cfg.entries("rules"):
        _add_rules(inv, p)
    for p in cfg.entries("catalog"):
        inv.sources[_rel(p, repo)] = "catalog"
        if got := _yaml(inv, p):
            inv.catalog = parse_catalog(*got)
    for p in cfg.entries("alertmanager"):
        if got := _yaml(inv, p):
            inv.alertmanager = AlertmanagerDoc.parse(*got)
    for p in cfg.entries("routing_tests"):
        if got := _yaml(inv, p):
            inv.routing_tests = RoutingTestsDoc.parse(*got)
    for attr in ("prometheus", "policy"):
        for p in cfg.entries(attr):
            if got := _yaml(inv, p):
                setattr(inv, attr, YamlDoc(*got))
    for p in cfg.entries("dashboards"):
        inv.sources[_rel(p, repo)] = "dashboards"
        _add_dashboard(inv, p)
    for p in cfg.entries("rule_tests"):
        if got := _yaml(inv, p):
            inv.rule_tests.append(RuleTestFile.parse(*got))
    for p in cfg.entries("slos"):
        inv.sources[_rel(p, repo)] = "slos"
        _add_slo(inv, p)
    for p in cfg.entries("uptime"):
        inv.sources[_rel(p, repo)] = "uptime"
        if got := _yaml(inv, p):
            inv.uptime.append(UptimeDoc.parse(*got, p))
    for p in cfg.entries("drills"):
        inv.sources[_rel(p, repo)] = "drills"
        if got := _yaml(inv, p):
            inv.drills.append(YamlDoc(*got))
    # Not configurable (yet): Grafana provisioning and the daily report's expectation suites.
    for attr, pats in (
        ("provisioning", ("monitoring/grafana/provisioning/**/*.yml", "monitoring/grafana/provisioning/**/*.yaml")),
        ("expectations", ("monitoring/expectations/*.yml",)),
    ):
        for p in _artifacts(repo, *pats):
            if got := _yaml(inv, p):
                getattr(inv, attr).append(YamlDoc(*got))
    # Errors, traces, logs and browser budgets (moncheck.telemetry.spec types them); not configurable yet.
    for attr, rel, load in (("errors", "monitoring/errors/errors.yml", _yaml),
                            ("tracing", "monitoring/tracing/tracing.yml", _yaml),
                            ("logging", "monitoring/logging/logging.yml", _yaml),
                            ("log_line_schema", "monitoring/logging/log-line.schema.json", _json),
                            ("lighthouse", "monitoring/lighthouse/lighthouserc.json", _json)):
        if _present(repo / rel) and (got := load(inv, repo / rel)):
            setattr(inv, attr, YamlDoc(*got))
    inv.runbooks = {_rel(p, repo) for p in cfg.files("runbooks")}
    inv.workflows = [_rel(p, repo) for p in _sorted(repo, ".github/workflows/*.yml", ".github/workflows/*.yaml")]
    if cfg.secret_scan:
        scan = [p for p in cfg.files("secret_scan") if p.suffix in SECRET_SCAN_EXT]
    else:  # a config without secret_scan: every configured artifact
        scan = [p for key in (*config_mod.GLOB_KEYS, *config_mod.PATH_KEYS) if key != "secret_scan" for p in cfg.files(key)]
    inv.secret_scan = sorted({_rel(p, repo) for p in scan if not any(part.startswith(".") for part in p.relative_to(repo).parts)})
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
    if isinstance(data.get("tests"), list) or "inhibit_tests" in data:
        return "routing_tests"
    if "filters" in data and "environments" in data:
        return "errors"
    if "request_span" in data or "sampling" in data:
        return "tracing"
    if "correlation" in data and "levels" in data:
        return "logging"
    return "unknown"


def load_paths(paths: list[Path], cwd: Path, into: Inventory | None = None) -> Inventory:
    """Load loose files (or folders of them); each file's kind is detected by content.
    ``into``: add them to that (repository) inventory instead of a new one."""
    inv = into if into is not None else Inventory(root=cwd, mode="loose")
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
        docs = _yaml_docs(inv, p, multi=True)
        if not docs:
            continue
        rel, all_docs = docs
        if len(all_docs) != 1 or is_rule_crd(all_docs[0]):
            if all(is_rule_crd(d) or (isinstance(d, dict) and "groups" in d) or d is None for d in all_docs):
                inv.rule_files += _rule_docs(rel, all_docs)
            else:
                inv.load_findings.append(error("schema/unknown-file", rel, 1,
                                               "several YAML documents, not all PrometheusRule resources or rule files"))
            continue
        data = all_docs[0]
        if data is None or data == {} or data == []:
            continue  # an empty file (`{}`, `null`): nothing in it to check, nothing wrong with it
        kind = _kind_of(data, p)
        if kind == "rules":
            inv.rule_files.append(parse_rules(rel, data))
        elif kind == "rule_test":
            inv.rule_tests.append(RuleTestFile.parse(rel, data))
        elif kind == "alertmanager":
            inv.alertmanager = AlertmanagerDoc.parse(rel, data)
        elif kind == "prometheus":
            inv.prometheus = YamlDoc(rel, data)
        elif kind == "catalog":
            inv.catalog = parse_catalog(rel, data)
        elif kind == "slo":
            inv.slos.append(SloSpecDoc(rel, data, [data]))
        elif kind == "routing_tests":
            inv.routing_tests = RoutingTestsDoc.parse(rel, data)
        elif kind in ("errors", "tracing", "logging"):
            setattr(inv, kind, YamlDoc(rel, data))
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
    "TARGET_LABELS",
    "AlertTest",
    "AlertmanagerDoc",
    "Catalog",
    "CatalogLabel",
    "CatalogMetric",
    "Dashboard",
    "Inventory",
    "LocDict",
    "LocList",
    "Panel",
    "RoutingTestsDoc",
    "Rule",
    "RuleFile",
    "RuleGroup",
    "RuleTestFile",
    "RuleTestGroup",
    "SloSpecDoc",
    "Target",
    "YamlDoc",
    "load_paths",
    "load_repo",
    "parse_catalog",
]
