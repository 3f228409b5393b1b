"""Precision of the default gate on public rule sets nobody here wrote.

    .venv/bin/python bench/precision.py CHECKOUT [CHECKOUT...] [--findings FILE] [--unclassified FILE]
    .venv/bin/python bench/precision.py CHECKOUT --time      # + moncheck check vs promtool check rules

CHECKOUT is a git checkout of one of the rule sets in ``SETS`` (fetched by you: nothing is fetched
here and fetched files are never committed). The script says which set it ran on (name, commit,
files, alerts), runs the default gate (no policy file: correctness checks only; without the
promtool/amtool wrappers, which are not ours to measure) on the set's rule files, and classifies
every finding with the committed file ``bench/precision/<set>.json``: ``findings`` maps a finding
key (``check|path|message``, ``#N`` for repeats) to ``{verdict: real|false, reason}``, ``by_check``
gives a verdict for a whole check id (organisation rules, for the "before" run). It prints, per
check id, findings / real / false / unclassified and the precision (real / classified).

``--findings FILE`` classifies a JSON report written earlier by ``moncheck check --format json``
(for instance by an older moncheck: the "before" figure) instead of running the gate.
``--unclassified FILE`` writes the keys without a verdict, for review. Exit 0 always (figures).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CLASSIFICATIONS = REPO / "bench" / "precision"
sys.path.insert(0, str(REPO / "src"))

# name -> (rule file globs inside the checkout, classification file)
SETS: dict[str, tuple[tuple[str, ...], str]] = {
    "samber/awesome-prometheus-alerts": (("dist/rules/**/*.yml",), "samber-awesome-prometheus-alerts.json"),
    "prometheus-operator/kube-prometheus": (("manifests/*prometheusRule.yaml",), "kube-prometheus.json"),
    # Compiled alerts, recording rules and dashboards of ~100 monitoring mixins (kubernetes, etcd, thanos, ...).
    "monitoring-mixins/website": (("assets/*/alerts.yaml", "assets/*/rules.yaml", "assets/*/dashboards/*.json"), "monitoring-mixins.json"),
}


def identify(checkout: Path) -> str:
    """The set a checkout holds: its git remote names it, else the first set whose files exist."""
    try:
        url = subprocess.run(["git", "-C", str(checkout), "remote", "get-url", "origin"],
                             capture_output=True, text=True, check=False).stdout.strip()
    except FileNotFoundError:
        url = ""
    for name in SETS:
        owner, repo = name.split("/")
        if f"{owner}/{repo}" in url or f"{owner}+{repo}" in url:
            return name
    for name, (globs, _) in SETS.items():
        if any(any(checkout.glob(g)) for g in globs):
            return name
    raise SystemExit(f"precision: {checkout}: none of the known rule sets ({', '.join(SETS)})")


def commit_of(checkout: Path) -> str:
    out = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown commit"


def rule_files(checkout: Path, name: str) -> list[Path]:
    return sorted({p for g in SETS[name][0] for p in checkout.glob(g) if p.is_file()})


def keys(findings: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    seen: Counter[str] = Counter()
    out = []
    for f in findings:
        k = f"{f['check']}|{f['path']}|{f['message']}"
        seen[k] += 1
        out.append((k if seen[k] == 1 else f"{k}#{seen[k]}", f))
    return out


def run_default(checkout: Path, files: list[Path]) -> list[dict[str, Any]]:
    from moncheck.gate import run_gate

    res = run_gate(checkout, files, tools=False)
    return [{"check": f.check, "path": f.path, "line": f.line, "severity": f.severity.value, "message": f.message}
            for f in sorted(res.findings)]


def load_findings(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["findings"] if isinstance(data, dict) else data  # envelope, or the old list


def report(name: str, findings: list[dict[str, Any]], unclassified_out: list[str]) -> tuple[int, int]:
    cls = json.loads((CLASSIFICATIONS / SETS[name][1]).read_text(encoding="utf-8"))
    by_key, by_check = cls.get("findings", {}), cls.get("by_check", {})
    rows: dict[str, Counter[str]] = {}
    for key, f in keys(findings):
        verdict = (by_key.get(key) or by_check.get(f["check"]) or {}).get("verdict", "?")
        rows.setdefault(f["check"], Counter())[verdict] += 1
        if verdict == "?":
            unclassified_out.append(key)
    print(f"{'check id':34} {'findings':>8} {'real':>6} {'false':>6} {'unclass.':>8} {'precision':>9}")
    total: Counter[str] = Counter()
    for check, c in sorted(rows.items(), key=lambda kv: -sum(kv[1].values())):
        total += c
        classified = c["real"] + c["false"]
        prec = f"{100 * c['real'] / classified:.1f}%" if classified else "-"
        print(f"{check:34} {sum(c.values()):>8} {c['real']:>6} {c['false']:>6} {c['?']:>8} {prec:>9}")
    classified = total["real"] + total["false"]
    prec = f"{100 * total['real'] / classified:.1f}%" if classified else "-"
    print(f"{'all':34} {sum(total.values()):>8} {total['real']:>6} {total['false']:>6} {total['?']:>8} {prec:>9}")
    return total["real"], classified


def _median(argv: list[str], cwd: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def timing(checkout: Path, files: list[Path]) -> None:
    """Wall time (median of 3) of `moncheck check FILES` (whole process, promtool included) and
    of `promtool check rules FILES` on the same files."""
    from moncheck.tools import ToolMissing, find_binary

    try:
        promtool: str | None = find_binary("promtool")  # the toolchain's, as moncheck uses it
    except ToolMissing:
        promtool = None
    files = [p for p in files if p.suffix in (".yml", ".yaml")]  # rule files: what promtool reads
    rel = [str(p.relative_to(checkout)) for p in files]
    moncheck = [sys.executable, "-m", "moncheck.cli", "check", *rel]
    mc = _median(moncheck, checkout)
    print(f"time: moncheck check ({len(files)} rule files, promtool included): {mc:.2f} s (median of 3)")
    if promtool is None:
        print("time: promtool not on PATH, no comparison")
        return
    pt = _median([promtool, "check", "rules", *rel], checkout)
    print(f"time: promtool check rules (same files): {pt:.2f} s (median of 3); ratio moncheck/promtool {mc / pt:.1f}")
    from moncheck.gate import run_gate
    from moncheck.promql import analyze

    static = []
    for _ in range(3):
        analyze.cache_clear()  # each run parses every expression again, as a fresh process does
        t = time.perf_counter()
        run_gate(checkout, files, tools=False)
        static.append(time.perf_counter() - t)
    print(f"time: moncheck's own analysis in-process (load + every static check, no promtool): "
          f"{statistics.median(static):.2f} s (median of 3); ratio to promtool {statistics.median(static) / pt:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkouts", nargs="+", type=Path)
    ap.add_argument("--findings", type=Path, help="classify this JSON report instead of running the gate (one checkout)")
    ap.add_argument("--unclassified", type=Path, help="write the keys without a verdict to FILE")
    ap.add_argument("--time", action="store_true", help="also time moncheck check against promtool check rules")
    args = ap.parse_args()
    missing: list[str] = []
    real = classified = 0
    for checkout in args.checkouts:
        checkout = checkout.resolve()
        name = identify(checkout)
        files = rule_files(checkout, name)
        findings = load_findings(args.findings) if args.findings else run_default(checkout, files)
        from moncheck.inventory import load_paths

        alerts = len(load_paths(files, checkout).alerts)
        source = f"report {args.findings}" if args.findings else "the default gate (no policy file), without tool wrappers"
        print(f"\nrule set: {name} at {commit_of(checkout)} ({checkout}): {len(files)} files, {alerts} alerts; {source}")
        r, c = report(name, findings, missing)
        real, classified = real + r, classified + c
        if args.time:
            timing(checkout, files)
    if len(args.checkouts) > 1 and classified:
        print(f"\nall sets: {real} real of {classified} classified findings: precision {100 * real / classified:.1f}%")
    if missing:
        print(f"{len(missing)} findings have no verdict" + (f" (keys in {args.unclassified})" if args.unclassified else ""))
        if args.unclassified:
            args.unclassified.write_text("\n".join(missing) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
