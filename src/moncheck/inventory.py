"""The inventory: every monitoring artifact of a repository (or loose files), loaded once, with
file and line on every record. Checks read it; nothing here judges content beyond "can it load".

Load problems become findings in ``Inventory.load_findings`` (``schema/yaml``, ``schema/json``);
loading never raises for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moncheck import alertmanager as am
from moncheck import jsonpos, yamlpos
from moncheck.catalog import (
    TARGET_LABELS,
    Catalog,
    CatalogLabel,
    CatalogMetric,
    parse_catalog,
)
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
class RuleFile:
    path: str
    data: Any
    rules: list[Rule] = field(default_factory=list)


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
        doc.rule_files = [str(f) for f in data.get("rule_files") or [] if isinstance(f, str)]
        for g in data.get("tests") or [] if isinstance(data.get("tests"), list) else []:
            if not isinstance(g, dict):
                continue
            name = g.get("name")
            group = RuleTestGroup(str(name) if name is not None else None, line_of(g))
            arts = g.get("alert_rule_test") or g.get("alert_rule_tests") or []
            for art in arts if isinstance(arts, list) else []:
                if isinstance(art, dict) and art.get("alertname"):
                    group.alert_tests.append(AlertTest(str(art["alertname"]), line_of(art), bool(art.get("exp_alerts"))))
            doc.groups.append(group)
        return doc


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
    uptime: list[YamlDoc] = field(default_factory=list)
    slos: list[YamlDoc] = field(default_factory=list)
    drills: list[YamlDoc] = field(default_factory=list)
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
        for t in p.get("targets") or []:
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


SECRET_SCAN_EXT = {".yml", ".yaml", ".json", ".md", ".tmpl", ".txt", ".conf", ".env", ".ini", ".toml"}


def load_repo(repo: Path) -> Inventory:
    """Load a repository laid out as in docs/contracts.md."""
    inv = Inventory(root=repo, mode="repo")
    mon = repo / "monitoring"
    for p in _sorted(mon, "prometheus/rules/**/*.yml", "prometheus/rules/**/*.yaml"):
        _add_rules(inv, p)
    cat = mon / "catalog" / "metrics.yml"
    if cat.is_file() and (got := _yaml(inv, cat)):
        inv.catalog = parse_catalog(*got)
    am_dir = mon / "alertmanager"
    if (am_dir / "alertmanager.yml").is_file() and (got := _yaml(inv, am_dir / "alertmanager.yml")):
        inv.alertmanager = AlertmanagerDoc.parse(*got)
    if (am_dir / "routing-tests.yml").is_file() and (got := _yaml(inv, am_dir / "routing-tests.yml")):
        inv.routing_tests = RoutingTestsDoc.parse(*got)
    for attr, p in (
        ("prometheus", mon / "prometheus" / "prometheus.yml"),
        ("policy", repo / "policies" / "policy.yml"),
    ):
        if p.is_file() and (got := _yaml(inv, p)):
            setattr(inv, attr, YamlDoc(*got))
    for p in _sorted(mon, "grafana/dashboards/**/*.json"):
        _add_dashboard(inv, p)
    for p in _sorted(repo, "tests/rules/**/*.test.yml", "tests/rules/**/*.test.yaml"):
        if got := _yaml(inv, p):
            inv.rule_tests.append(RuleTestFile.parse(*got))
    for attr, pats in (
        ("uptime", ("monitoring/uptime/*.yml",)),
        ("slos", ("monitoring/slos/*.yml",)),
        ("drills", ("monitoring/drills/*.yml",)),
    ):
        for p in _sorted(repo, *pats):
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
    if isinstance(data.get("tests"), list) or "inhibit_tests" in data:
        return "routing_tests"
    return "unknown"


def load_paths(paths: list[Path], cwd: Path) -> Inventory:
    """Load loose files (or folders of them); each file's kind is detected by content."""
    inv = Inventory(root=cwd, mode="loose")
    files: list[Path] = []
    for p in paths:
        p = p if p.is_absolute() else cwd / p
        if p.is_dir():
            files.extend(_sorted(p, "**/*.yml", "**/*.yaml", "**/*.json"))
        elif p.exists():
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
            inv.rule_tests.append(RuleTestFile.parse(rel, data))
        elif kind == "alertmanager":
            inv.alertmanager = AlertmanagerDoc.parse(rel, data)
        elif kind == "prometheus":
            inv.prometheus = YamlDoc(rel, data)
        elif kind == "catalog":
            inv.catalog = parse_catalog(rel, data)
        elif kind == "slo":
            inv.slos.append(YamlDoc(rel, data))
        elif kind == "routing_tests":
            inv.routing_tests = RoutingTestsDoc.parse(rel, data)
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
    "RuleTestFile",
    "RuleTestGroup",
    "Target",
    "YamlDoc",
    "load_paths",
    "load_repo",
    "parse_catalog",
]
