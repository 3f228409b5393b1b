"""The pull-request gate: load once, run every static check and the promtool/amtool wrappers,
apply suppressions (policy, inline, baseline), return sorted findings and the checks that were
skipped (with why).

Context: a repository is loaded as its ``moncheck.yml`` describes it (defaults: this project's
layout). Paths given inside a configured repository are checked with the whole repository as
context (its policy, catalog, routing, tests) and only their findings are reported; elsewhere they
are loose files checked on their own. ``base`` (a git ref) reports only findings on rules and
lines changed since that ref, again with the whole repository as context.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

from moncheck import config as config_mod
from moncheck import failclosed
from moncheck import policy as policy_mod
from moncheck import resources, suppress
from moncheck.checks.alertmanager import routing_tests_model
from moncheck.checks.base import Context, Skip
from moncheck.checks.registry import CHECKS, OPT_IN, known_ids
from moncheck.findings import Finding, error, warning
from moncheck.inventory import Inventory, load_paths, load_repo, load_yaml_doc

OPT_IN_REASON = "opt-in organisation check: list it under `enable:` in the policy file"


@dataclass
class GateResult:
    findings: list[Finding]
    skipped: list[tuple[str, str]]
    timings: dict[str, float] = field(default_factory=dict)
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    missing_tools: list[str] = field(default_factory=list)  # tool checks that could not run
    checked: dict[str, int] = field(default_factory=dict)  # artifact kind -> files checked
    inventory: Inventory | None = None


def _tool(name: str) -> tuple[Any, type[BaseException]] | tuple[None, str]:
    try:
        mod = importlib.import_module(f"moncheck.tools.{name}")
        missing = getattr(importlib.import_module("moncheck.tools"), "ToolMissing", None)
    except ImportError as e:
        return None, f"moncheck.tools.{name} not available ({e})"
    return mod, missing if isinstance(missing, type) else type("_NoToolMissing", (Exception,), {})


def _tool_runs(inv: Inventory) -> list[tuple[str, str, Callable[[Any], list[Finding]]]]:
    """(check id, tool module, call) for every tool check that applies to this inventory."""
    root = inv.root
    runs: list[tuple[str, str, Callable[[Any], list[Finding]]]] = []
    plain = sorted({f.path for f in inv.rule_files if not f.crd})
    if plain:
        files = [inv.abspath(f) for f in plain]
        runs.append(("promtool/check-rules", "promtool", lambda m: m.check_rules(files, root)))
    if inv.prometheus is not None:
        p = inv.abspath(inv.prometheus.path)
        runs.append(("promtool/check-config", "promtool", lambda m: m.check_config(p, root)))
    if inv.rule_tests:
        tests = [inv.abspath(t.path) for t in inv.rule_tests]
        runs.append(("promtool/test-rules", "promtool", lambda m: m.test_rules(tests, root)))
    if inv.alertmanager is not None:
        am = inv.abspath(inv.alertmanager.path)
        runs.append(("amtool/check-config", "amtool", lambda m: m.check_config(am, root)))
        if inv.routing_tests is not None:
            rt = inv.abspath(inv.routing_tests.path)
            docs = (inv.alertmanager, inv.routing_tests)  # already loaded: amtool's wrapper reuses them
            loaded = (docs[0].config or docs[0].error, docs[1].error or docs[1].cases)
            runs.append(("amtool/routing-tests", "amtool", lambda m: m.run_routing_tests(am, rt, root, loaded)))
    elif inv.routing_tests is not None:  # routing tests with nothing to test them against
        shown = inv.routing_tests.path
        runs.append(("amtool/routing-tests", "amtool", lambda m: [error(
            "amtool/routing-tests", shown, 1, "routing tests not run: no Alertmanager config to test them against",
            "pass alertmanager.yml with them (or keep both under monitoring/alertmanager/)")]))
    return runs


def inventory_files(inv: Inventory) -> set[str]:
    """Every file the inventory loaded or scans (repository-relative)."""
    docs = [inv.alertmanager, inv.routing_tests, inv.prometheus, inv.policy, *inv.rule_tests, *inv.uptime, *inv.slos, *inv.drills]
    files = {d.path for d in docs if d is not None} | {f.path for f in inv.rule_files} | {d.path for d in inv.dashboards}
    if inv.catalog is not None:
        files.add(inv.catalog.path)
    return files | set(inv.workflows) | inv.runbooks | set(inv.secret_scan)


def checked_kinds(inv: Inventory) -> dict[str, int]:
    """Artifact kind -> number of files loaded (what ``moncheck init`` and ``check`` report)."""
    counts = {
        "rule files": len({f.path for f in inv.rule_files}),
        "promtool tests": len(inv.rule_tests),
        "alertmanager config": int(inv.alertmanager is not None),
        "routing tests": int(inv.routing_tests is not None),
        "prometheus config": int(inv.prometheus is not None),
        "dashboards": len(inv.dashboards),
        "SLO specs": len(inv.slos),
        "catalog": int(inv.catalog is not None),
        "drills": len(inv.drills),
        "uptime files": len(inv.uptime),
    }
    return {k: v for k, v in counts.items() if v}


def _rel_to(p: Path, root: Path) -> str | None:
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def load(repo: Path | None, paths: list[Path]) -> tuple[Inventory, set[str] | None]:
    """The inventory, and the files whose findings are reported (None: all).

    ``config.ConfigError`` propagates (a usage error)."""
    root = repo or Path.cwd()
    cfg = config_mod.load(root)
    if not paths:
        return load_repo(root, cfg), None
    if not cfg.configured_repo:
        return load_paths(paths, root), None
    inv = load_repo(root, cfg)
    have = inventory_files(inv)
    focus: set[str] = set()
    extra: list[Path] = []
    for p in paths:
        p = p if p.is_absolute() else root / p
        rel = _rel_to(p, root)
        if rel is None:  # outside the repository: a loose file next to the repository's context
            extra.append(p)
            focus.add(str(p))
            continue
        if p.is_dir():
            under = {f for f in have if f == rel or f.startswith(rel.rstrip("/") + "/") or rel == "."}
            focus |= under
            for f in sorted(p.rglob("*")):
                r = _rel_to(f, root)
                if f.is_file() and f.suffix in (".yml", ".yaml", ".json") and r not in have and r is not None:
                    extra.append(f)
                    focus.add(r)
        else:
            focus.add(rel)
            if rel not in have:
                extra.append(p)
    if extra:
        load_paths(extra, root, into=inv)
    return inv, focus


def _check_suppression_ids(pol: policy_mod.Policy, inline: list[tuple[str, str, int]] | None = None) -> list[Finding]:
    known = known_ids()
    out = []
    named = [(s.check, s.path, s.line) for s in pol.suppressions] + list(inline or [])
    named += [(c, pol.path or "policies/policy.yml", 1) for c in sorted(pol.enabled | pol.disabled)]
    for check, path, line in named:
        if "*" not in check and check not in known:
            out.append(warning("policy/suppression", path, line, f"names unknown check {check!r}"))
    return out


def run_gate(repo: Path | None, paths: list[Path] | None = None, *, tools: bool = True, base: str | None = None,
             baseline: Counter[tuple[str, str, str, str]] | None = None, today: dt.date | None = None,
             policy: Path | None = None, strict: bool = False) -> GateResult:
    """Run the static gate on a repository (``paths`` empty) or on some of its files/loose files.

    ``base``: report only findings on what changed since this git ref (``diffmode.DiffError`` if
    git cannot tell). ``baseline``: findings recorded by ``--write-baseline`` are dropped.
    ``policy``: this policy file instead of the repository's (also for loose files).
    ``strict``: a skipped check that reads a configured artifact is an error (``moncheck.failclosed``)."""
    t0 = time.perf_counter()
    inv, focus = load(repo, list(paths or []))
    if policy is not None:
        inv.policy = load_yaml_doc(inv, policy)
    # No policy file: the default policy shipped with moncheck (package data), whose organisation
    # checks stay off until a policy lists them under `enable:`.
    pol = policy_mod.from_data(inv.policy.data if inv.policy else resources.default_policy_data(),
                               inv.policy.path if inv.policy else None)
    ctx = Context(inv, pol)
    findings: list[Finding] = list(inv.load_findings) + list(pol.findings)
    skipped: list[tuple[str, str]] = []
    timings: dict[str, float] = {"load": time.perf_counter() - t0}
    for check in CHECKS:
        if not pol.runs(check.id, check.id in OPT_IN):
            skipped.append((check.id, "disabled by the policy" if check.id not in OPT_IN or check.id in pol.enabled else OPT_IN_REASON))
            continue
        t = time.perf_counter()
        try:
            findings += check.fn(ctx)
        except Skip as s:
            skipped.append((check.id, str(s)))
        except Exception as e:  # noqa: BLE001 - a crashing check must not hide the others' findings
            findings.append(error(check.id, "moncheck", 1, f"internal error in check: {type(e).__name__}: {e}"))
        timings[check.id] = time.perf_counter() - t
    missing: list[str] = []
    if tools:
        findings += _run_tools(ctx, skipped, timings, missing)
    artifacts = failclosed.configured(inv)
    gone = failclosed.missing(inv, artifacts)
    dup = set(failclosed.superseded(findings, gone)) | set(failclosed.repeated_load_errors(findings, inv.load_findings))
    findings = [f for f in findings if f not in dup] + gone
    if strict:
        # An organisation check the policy leaves off did not fail to run: it was not asked for.
        findings += failclosed.strict_skips([s for s in skipped if s[1] != OPT_IN_REASON], artifacts, inv.root)
    findings = sorted(set(findings))
    applied = suppress.apply(findings, inv, pol, today=today, baseline=baseline)
    inline = suppress.inline_ids(inv, sorted({f.path for f in findings}))
    kept = sorted(set(applied.kept + applied.problems + _check_suppression_ids(pol, inline)))
    if focus is not None:
        kept = [f for f in kept if f.path in focus or f.path == "moncheck"]
    if base is not None:
        from moncheck.diffmode import changed_since, on_changes

        kept = on_changes(kept, changed_since(inv.root, base), suppress.rule_spans(inv), inv.root)
    timings["total"] = time.perf_counter() - t0
    return GateResult(kept, skipped, timings, applied.suppressed, applied.baselined, missing, checked_kinds(inv), inv)


def _tagged(findings: list[Finding], tool: str) -> list[Finding]:
    """Each tool finding says which binary and toolchain it came from (unless it already does:
    promtool checks Prometheus-3-only files with toolchain 3 on a 2.x toolchain)."""
    from dataclasses import replace

    from moncheck import toolchain

    tag = f" [{toolchain.tag(tool)}]"
    return [f if ", toolchain " in f.message else replace(f, message=f.message + tag) for f in findings]


def _run_tools(ctx: Context, skipped: list[tuple[str, str]], timings: dict[str, float], missing_tools: list[str]) -> list[Finding]:
    out: list[Finding] = []
    amtool_missing = False
    if any(f.crd for f in ctx.inv.rule_files):
        n = len({f.path for f in ctx.inv.rule_files if f.crd})
        skipped.append(("promtool/check-rules", f"promtool cannot read PrometheusRule resources: {n} CRD file(s) checked by moncheck only"))
    # promtool opens every file its rule_files globs match: a FIFO there would block it forever
    # (the loader already reported the entry), so the checks that glob rule files do not run.
    cfg = getattr(ctx.inv, "config", None)
    irregular = sorted(str(p.relative_to(ctx.inv.root)) for p in (cfg.entries("rules") if cfg else []) if not p.is_file())
    for cid, modname, call in _tool_runs(ctx.inv):
        if irregular and cid in ("promtool/check-config", "promtool/test-rules"):
            skipped.append((cid, f"not run: {irregular[0]} is not a regular file (promtool would block on it)"))
            continue
        mod, missing = _tool(modname)
        t = time.perf_counter()
        if mod is None:
            skipped.append((cid, str(missing)))
            missing_tools.append(cid)
            amtool_missing |= modname == "amtool"
            continue
        try:
            out += _tagged(call(mod), modname)
        except missing as e:  # type: ignore[misc]
            skipped.append((cid, f"{modname} binary not found: {e}"))
            missing_tools.append(cid)
            amtool_missing |= modname == "amtool"
        except Exception as e:  # noqa: BLE001 - a wrapper bug is reported, not raised
            out.append(error(cid, "moncheck", 1, f"internal error running {modname}: {type(e).__name__}: {e}"))
        timings[cid] = time.perf_counter() - t
    if amtool_missing and ctx.inv.routing_tests is not None:
        # Without amtool, routing tests still run (route and inhibition cases) on the model.
        try:
            out += routing_tests_model(ctx)
        except Skip as s:
            skipped.append(("amtool/routing-tests", str(s)))
    return out
