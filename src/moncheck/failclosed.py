"""Fail closed: the artifacts a repository is configured for must be there, readable and not
empty, and (with ``CI`` set or ``--strict``) every check that reads them must have run.

Everything here is a function of "the artifacts this repository is configured for"
(``configured``). Today that is the default layout of docs/contracts.md; a typed repository
config (``moncheck.yml``) can be passed instead, as any object whose ``artifacts`` are
``Artifact``-shaped (``kind``, ``path``, ``pattern``, ``checks``, ``required``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from moncheck import yamlpos
from moncheck.findings import Finding, error
from moncheck.inventory import Inventory

CHECK = "repo/missing"


@dataclass(frozen=True)
class Artifact:
    """One configured artifact: a file (``pattern`` None) or a folder of files matching
    ``pattern``; ``checks`` are the ids that read it (their skips fail under ``--strict``)."""

    kind: str
    path: str
    pattern: str | None = None
    checks: tuple[str, ...] = ()
    required: bool = True
    read_here: bool = False
    """No loader reads these files (runbooks): each is checked here to be a readable UTF-8 file."""


_RULE_CHECKS = (
    "schema/rules", "promql/parse", "promql/histogram-quantile", "alerts/required-labels", "alerts/required-annotations",
    "alerts/template", "alerts/severity", "alerts/team", "alerts/name", "alerts/for",
    "promtool/check-rules",
)

DEFAULT_LAYOUT: tuple[Artifact, ...] = (
    Artifact("prometheus", "monitoring/prometheus/prometheus.yml", checks=("promtool/check-config",)),
    Artifact("rules", "monitoring/prometheus/rules", "**/*.yml", _RULE_CHECKS),
    Artifact("rule-tests", "tests/rules", "**/*.test.yml", ("promtool/test-rules", "alerts/untested")),
    Artifact("alertmanager", "monitoring/alertmanager/alertmanager.yml",
             checks=("amtool/check-config", "alerts/unrouted")),
    Artifact("routing-tests", "monitoring/alertmanager/routing-tests.yml",
             checks=("schema/routing-tests", "amtool/routing-tests")),
    # The rule checks that need the catalog belong to it: without a configured catalog they
    # cannot run, and that is no failure.
    Artifact("catalog", "monitoring/catalog/metrics.yml",
             checks=("schema/catalog", "catalog/high-cardinality", "promql/unknown-metric", "promql/rate-on-non-counter")),
    Artifact("policy", "policies/policy.yml", checks=("schema/policy",)),
    Artifact("dashboards", "monitoring/grafana/dashboards", "**/*.json",
             ("schema/dashboard", "dashboards/uid", "dashboards/datasource-variable",
              "dashboards/deprecated-panel", "dashboards/query")),
    Artifact("provisioning", "monitoring/grafana/provisioning", "**/*.yml", ("schema/provisioning",)),
    Artifact("uptime", "monitoring/uptime", "*.yml", ("schema/uptime",)),
    Artifact("slos", "monitoring/slos", "*.yml", ("schema/slo", "slo/spec", "slo/stale")),
    Artifact("drills", "monitoring/drills", "*.yml", ("schema/drill", "drills/coverage", "drills/receivers")),
    Artifact("runbooks", "monitoring/runbooks", "**/*.md", ("alerts/runbook",), read_here=True),
    Artifact("expectations", "monitoring/expectations", "*.yml", ("schema/expectations",)),
    Artifact("workflows", ".github/workflows", "*.yml", ("workflows/schema",), required=False),
)


# Which kind of artifact each key of ``moncheck.yml`` names, and the checks that read it.
_CONFIG_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    art_key: (a.kind, a.checks) for art_key, a in (
        ("prometheus", DEFAULT_LAYOUT[0]), ("rules", DEFAULT_LAYOUT[1]), ("rule_tests", DEFAULT_LAYOUT[2]),
        ("alertmanager", DEFAULT_LAYOUT[3]), ("routing_tests", DEFAULT_LAYOUT[4]), ("catalog", DEFAULT_LAYOUT[5]),
        ("policy", DEFAULT_LAYOUT[6]), ("dashboards", DEFAULT_LAYOUT[7]), ("uptime", DEFAULT_LAYOUT[9]),
        ("slos", DEFAULT_LAYOUT[10]), ("drills", DEFAULT_LAYOUT[11]), ("runbooks", DEFAULT_LAYOUT[12]),
    )
}
_GLOB_CHARS = frozenset("*?[")


def _split_glob(pattern: str) -> tuple[str, str | None]:
    """``monitoring/rules/**/*.yml`` -> (``monitoring/rules``, ``**/*.yml``); a plain path -> (path, None)."""
    parts = pattern.split("/")
    for i, part in enumerate(parts):
        if _GLOB_CHARS & set(part):
            return "/".join(parts[:i]) or ".", "/".join(parts[i:])
    return pattern, None


def from_config(config: Any) -> tuple[Artifact, ...]:
    """The artifacts a ``moncheck.config.RepoConfig`` names: required when its file names the key
    (a missing one is then an error), optional otherwise (their checks must still run under
    ``--strict`` when the files are there). Provisioning, expectations and workflows are not
    config keys: they are optional artifacts at their usual places."""
    out: list[Artifact] = []
    for key, (kind, checks) in _CONFIG_KINDS.items():
        value = getattr(config, key, None)
        patterns = [value] if isinstance(value, str) else list(value or ())
        for pat in patterns:
            path, pattern = _split_glob(pat)
            out.append(Artifact(kind, path, pattern, checks, required=bool(config.configured(key)),
                                read_here=kind == "runbooks"))
    out += [replace(a, required=False) for a in DEFAULT_LAYOUT if a.kind in ("provisioning", "expectations", "workflows")]
    return tuple(out)


def configured(inv: Inventory, config: Any = None) -> tuple[Artifact, ...]:
    """The artifacts this repository is configured for: those of ``config`` (by default the
    inventory's ``moncheck.yml``); none for loose paths (no repository is configured there).
    Without a config file nothing is required: the layout is only a default."""
    if inv.mode != "repo":
        return ()
    cfg = config if config is not None else getattr(inv, "config", None)
    if cfg is None:
        return tuple(replace(a, required=False) for a in DEFAULT_LAYOUT)
    return from_config(cfg)


def strict_requested(flag: bool) -> bool:
    """``--strict``, or a CI environment (``CI`` set to anything but empty/0/false)."""
    return flag or os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _present(root: Path, art: Artifact) -> bool:
    p = root / art.path
    if art.pattern is None:
        return os.path.lexists(p)
    return p.is_dir() and any(True for _ in p.glob(art.pattern))


def missing(inv: Inventory, artifacts: Iterable[Artifact]) -> list[Finding]:
    """``repo/missing`` for every required artifact that is absent, not a regular file,
    unreadable or empty (a folder with no matching file counts as absent)."""
    out: list[Finding] = []
    for art in artifacts:
        p = inv.root / art.path
        if art.pattern is not None:
            if not p.is_dir():
                if art.required:
                    what = "is not a directory" if os.path.lexists(p) else "is missing"
                    out.append(error(CHECK, art.path, 1, f"{art.kind}: {art.path}/ {what}",
                                     f"the repository is configured for {art.kind} ({art.path}/{art.pattern})"))
            elif art.required and not _present(inv.root, art):
                out.append(error(CHECK, art.path, 1, f"{art.kind}: no {art.pattern} file in {art.path}/",
                                 f"the repository is configured for {art.kind}"))
            elif art.read_here:
                out += _unreadable(inv.root, art)
            continue
        if not os.path.lexists(p):
            if art.required:
                out.append(error(CHECK, art.path, 1, f"{art.kind}: {art.path} is missing",
                                 f"the repository is configured for {art.kind}: restore the file"))
            continue
        try:
            text = yamlpos.read_source(p, art.path)
        except yamlpos.LoadError as e:
            out.append(error(CHECK, art.path, e.line, f"{art.kind}: {e.message}"))
            continue
        if not text.strip() or all(ln.lstrip().startswith("#") or not ln.strip() for ln in text.splitlines()):
            out.append(error(CHECK, art.path, 1, f"{art.kind}: {art.path} is empty"))
    out += _prometheus_content(inv)
    return out


def _unreadable(root: Path, art: Artifact) -> list[Finding]:
    out = []
    for p in sorted(root.joinpath(art.path).glob(art.pattern or "*")):
        rel = p.relative_to(root).as_posix()
        try:
            yamlpos.read_source(p, rel)
        except yamlpos.LoadError as e:
            out.append(error(CHECK, rel, e.line, f"{art.kind}: {e.message}"))
    return out


def _prometheus_content(inv: Inventory) -> list[Finding]:
    """A prometheus.yml without scrape jobs, or without rule files while the repository has
    rules, loads as valid and checks green with promtool: here it is an error."""
    doc = inv.prometheus
    if doc is None or not isinstance(doc.data, dict):
        return []
    out = []
    if not yamlpos.as_list(doc.data.get("scrape_configs")):
        out.append(error(CHECK, doc.path, yamlpos.line_of(doc.data, "scrape_configs"),
                         "prometheus: no scrape_configs: nothing is scraped"))
    if inv.rule_files and not yamlpos.as_list(doc.data.get("rule_files")):
        out.append(error(CHECK, doc.path, yamlpos.line_of(doc.data, "rule_files"),
                         f"prometheus: no rule_files: the {len(inv.rule_files)} rule files of the repository are never loaded"))
    return out


def superseded(findings: list[Finding], missing_findings: list[Finding]) -> list[Finding]:
    """Load findings about a path that ``repo/missing`` already reports (one line per problem)."""
    paths = {f.path for f in missing_findings if f.line == 1}
    return [f for f in findings if f.check in ("schema/yaml", "schema/json") and f.path in paths
            and f.line == 1]


def repeated_load_errors(findings: list[Finding], load_findings: list[Finding]) -> list[Finding]:
    """Findings of other checks that repeat a load error (same file, line and message: the SLO
    code rereads its specs): a file that cannot be loaded is reported once."""
    seen = {(f.path, f.line, f.message) for f in load_findings}
    load_ids = {f.check for f in load_findings}
    return [f for f in findings if (f.path, f.line, f.message) in seen and f.check not in load_ids]


def strict_skips(skipped: Iterable[tuple[str, str]], artifacts: Iterable[Artifact], root: Path) -> list[Finding]:
    """With ``--strict``/CI: an error for each skipped check that reads a configured artifact
    (a present optional one, or a required one)."""
    owner: dict[str, Artifact] = {}
    for art in artifacts:
        if art.required or _present(root, art):
            for cid in art.checks:
                owner.setdefault(cid, art)
    return [
        error(cid, owner[cid].path, 1, f"check did not run: {reason}",
              "with CI set or --strict, a check the repository is configured for must run")
        for cid, reason in skipped if cid in owner
    ]
