"""The pull-request gate: load once, run every static check and the promtool/amtool wrappers,
apply suppressions, return sorted findings and the checks that were skipped (with why)."""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from moncheck import policy as policy_mod
from moncheck.checks.alertmanager import routing_tests_python
from moncheck.checks.base import Context, Skip
from moncheck.checks.registry import CHECKS, OTHER_IDS
from moncheck.findings import Finding, error, warning
from moncheck.inventory import Inventory, load_paths, load_repo


@dataclass
class GateResult:
    findings: list[Finding]
    skipped: list[tuple[str, str]]
    timings: dict[str, float] = field(default_factory=dict)
    suppressed: list[Finding] = field(default_factory=list)


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
    if inv.rule_files:
        files = [inv.abspath(f.path) for f in inv.rule_files]
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
            runs.append(("amtool/routing-tests", "amtool", lambda m: m.run_routing_tests(am, rt, root)))
    return runs


def load(repo: Path | None, paths: list[Path]) -> Inventory:
    if paths:
        return load_paths(paths, repo or Path.cwd())
    return load_repo(repo or Path.cwd())


def _alert_lines(inv: Inventory) -> dict[tuple[str, int], str]:
    """(file, line) -> alert name, for every line a finding about an alert may point at."""
    out: dict[tuple[str, int], str] = {}
    for r in inv.alerts:
        for ln in (r.line, r.expr_line, *r.key_lines.values(), *r.label_lines.values(), *r.annotation_lines.values()):
            out[(r.file, ln)] = r.name
    return out


def apply_suppressions(findings: list[Finding], inv: Inventory, pol: policy_mod.Policy) -> tuple[list[Finding], list[Finding]]:
    if not pol.suppressions:
        return findings, []
    alert_at = _alert_lines(inv)
    kept, dropped = [], []
    for f in findings:
        (dropped if any(s.covers(f, alert_at) for s in pol.suppressions) else kept).append(f)
    return kept, dropped


def _check_suppression_ids(pol: policy_mod.Policy) -> list[Finding]:
    known = {c.id for c in CHECKS} | set(OTHER_IDS)
    out = []
    for s in pol.suppressions:
        if "*" not in s.check and "/" in s.check and s.check not in known and not s.check.startswith(("promtool/", "amtool/")):
            out.append(warning("policy/suppression", s.path, s.line, f"suppression names unknown check {s.check!r}"))
    return out


def run_gate(repo: Path | None, paths: list[Path] | None = None, *, tools: bool = True) -> GateResult:
    """Run the static gate on a repository (``paths`` empty) or on loose files."""
    t0 = time.perf_counter()
    inv = load(repo, list(paths or []))
    pol = policy_mod.from_data(inv.policy.data if inv.policy else None, inv.policy.path if inv.policy else None)
    ctx = Context(inv, pol)
    findings: list[Finding] = list(inv.load_findings) + list(pol.findings) + _check_suppression_ids(pol)
    skipped: list[tuple[str, str]] = []
    timings: dict[str, float] = {"load": time.perf_counter() - t0}
    for check in CHECKS:
        t = time.perf_counter()
        try:
            findings += check.fn(ctx)
        except Skip as s:
            skipped.append((check.id, str(s)))
        except Exception as e:  # a crashing check must not hide the others' findings
            findings.append(error(check.id, "moncheck", 1, f"internal error in check: {type(e).__name__}: {e}"))
        timings[check.id] = time.perf_counter() - t
    if tools:
        findings += _run_tools(ctx, skipped, timings)
    findings = sorted(set(findings))
    kept, dropped = apply_suppressions(findings, inv, pol)
    timings["total"] = time.perf_counter() - t0
    return GateResult(kept, skipped, timings, dropped)


def _tagged(findings: list[Finding], tool: str) -> list[Finding]:
    """Each tool finding says which binary and toolchain it came from (unless it already does:
    promtool checks Prometheus-3-only files with toolchain 3 on a 2.x toolchain)."""
    from dataclasses import replace

    from moncheck import toolchain

    tag = f" [{toolchain.tag(tool)}]"
    return [f if ", toolchain " in f.message else replace(f, message=f.message + tag) for f in findings]


def _run_tools(ctx: Context, skipped: list[tuple[str, str]], timings: dict[str, float]) -> list[Finding]:
    out: list[Finding] = []
    amtool_missing = False
    for cid, modname, call in _tool_runs(ctx.inv):
        mod, missing = _tool(modname)
        t = time.perf_counter()
        if mod is None:
            skipped.append((cid, str(missing)))
            amtool_missing |= modname == "amtool"
            continue
        try:
            out += _tagged(call(mod), modname)
        except missing as e:  # type: ignore[misc]
            skipped.append((cid, f"{modname} binary not found: {e}"))
            amtool_missing |= modname == "amtool"
        except Exception as e:  # noqa: BLE001 - a wrapper bug is reported, not raised
            out.append(error(cid, "moncheck", 1, f"internal error running {modname}: {type(e).__name__}: {e}"))
        timings[cid] = time.perf_counter() - t
    if amtool_missing and ctx.inv.routing_tests is not None:
        # Without amtool, routing tests still run on the Python tree walk.
        try:
            out += routing_tests_python(ctx)
        except Skip as s:
            skipped.append(("alertmanager/routing", str(s)))
    return out
