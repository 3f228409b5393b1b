"""Benchmark of the pull-request gate. Run: `make bench` (or `.venv/bin/python bench/gate.py`).

Prints:
1. wall time of `moncheck check` on this repository (median of 3 runs, whole process);
2. on a generated repository of 10,000 valid alerting rules in 100 files (with a matching
   metrics catalog, runbooks and this repository's policy): moncheck's policy analysis (the gate
   without the promtool/amtool wrappers) vs `promtool check rules` on the same files, and the
   ratio. Goals: (1) < 10 s; (2) ratio <= 2.

`--profile` adds a cProfile of the 10k-rule analysis (top functions by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 3
RULES = 10_000
FILES = 100
METRICS = 50
TEAMS = ["platform", "backend", "frontend", "data"]
SEVERITIES = ["critical", "high", "warning", "info"]
FOR = {"critical": "2m", "high": "5m", "warning": "10m", "info": "15m"}
PREFIX = "https://github.com/gocarbontracker/monitoring/blob/main/monitoring/runbooks/"


def _median_wall(argv: list[str], cwd: Path, runs: int = RUNS) -> tuple[float, int]:
    times, rc = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - t)
        rc = rc or proc.returncode
        if proc.returncode:  # a figure of a failing run is no figure: show why
            print((proc.stdout + proc.stderr).strip()[-2000:], file=sys.stderr)
    return statistics.median(times), rc


def _catalog() -> str:
    out = ["metrics:"]
    for m in range(METRICS):
        out += [
            f"  - name: bench_requests_{m}_total",
            "    type: counter",
            f"    help: Requests handled by component {m}",
            "    source: service",
            "    labels:",
            "      method: {values: [GET, POST]}",
            '      status_code: {pattern: "^[1-5][0-9][0-9]$", bound: 60}',
            f"  - name: bench_queue_depth_{m}",
            "    type: gauge",
            f"    help: Items waiting in queue {m}",
            "    source: service",
            "    labels:",
            "      queue: {bound: 10}",
        ]
    return "\n".join(out) + "\n"


def _rule(i: int) -> str:
    m, sev = i % METRICS, SEVERITIES[i % len(SEVERITIES)]
    name = f"BenchAlert{i:05d}"
    if i % 2:
        expr = (f'sum by (job) (rate(bench_requests_{m}_total{{status_code=~"5.."}}[5m])) '
                f"/ sum by (job) (rate(bench_requests_{m}_total[5m])) > 0.0{1 + i % 9}")
    else:
        expr = f"max by (job, queue) (bench_queue_depth_{m}) > {100 + i}"
    return f"""      - alert: {name}
        expr: {expr}
        for: {FOR[sev]}
        labels:
          severity: {sev}
          team: {TEAMS[i % len(TEAMS)]}
        annotations:
          summary: "{{{{ $labels.job }}}}: synthetic condition {i} holds"
          description: "Synthetic alert {i} of the benchmark; value {{{{ $value }}}}."
          runbook_url: {PREFIX}{name}.md
"""


def generate(root: Path) -> list[Path]:
    """A repository with RULES alerting rules in FILES files; returns the rule files."""
    (root / ".git").mkdir(parents=True)  # marks the repository root, as in a clone
    shutil.copytree(REPO / "policies", root / "policies")
    cat = root / "monitoring/catalog"
    cat.mkdir(parents=True)
    (cat / "metrics.yml").write_text(_catalog())
    rules_dir = root / "monitoring/prometheus/rules"
    rules_dir.mkdir(parents=True)
    runbooks = root / "monitoring/runbooks"
    runbooks.mkdir(parents=True)
    per_file = RULES // FILES
    files = []
    for f in range(FILES):
        body = [f"groups:\n  - name: bench-{f:03d}\n    rules:\n"]
        for i in range(f * per_file, (f + 1) * per_file):
            body.append(_rule(i))
            (runbooks / f"BenchAlert{i:05d}.md").write_text(f"# BenchAlert{i:05d}\n\nSynthetic.\n")
        path = rules_dir / f"bench-{f:03d}.yml"
        path.write_text("".join(body))
        files.append(path)
    return files


def _analysis(root: Path) -> tuple[float, int]:
    from moncheck.gate import run_gate

    t = time.perf_counter()
    result = run_gate(root, [], tools=False)
    return time.perf_counter() - t, len(result.findings)


def _promtool(files: list[Path], root: Path) -> float:
    from moncheck import toolchain

    promtool = toolchain.find("promtool")
    if promtool is None:
        raise SystemExit("bench: promtool not found (make setup installs it; MONCHECK_TOOLCHAIN selects it)")
    t = time.perf_counter()
    proc = subprocess.run([promtool, "check", "rules", *[str(f.relative_to(root)) for f in files]],
                          cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"bench: generated rules fail promtool: {proc.stderr[:500]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", action="store_true", help="cProfile the 10k-rule analysis")
    ap.add_argument("--skip-repo", action="store_true", help="skip the timing on this repository")
    args = ap.parse_args()

    if not args.skip_repo:
        moncheck = [sys.executable, "-m", "moncheck.cli", "check"]
        wall, rc = _median_wall(moncheck, REPO)
        verdict = "OK" if wall < 10 else "OVER GOAL"
        print(f"moncheck check on this repo: {wall:.2f} s median of {RUNS} (exit {rc}; goal < 10 s: {verdict})")

    with tempfile.TemporaryDirectory(prefix="moncheck-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        files = generate(root)
        print(f"generated {RULES} alerting rules in {len(files)} files in {time.perf_counter() - t:.1f} s")
        prom = statistics.median(_promtool(files, root) for _ in range(RUNS))
        runs = [_analysis(root) for _ in range(RUNS)]
        ours = statistics.median(r[0] for r in runs)
        print(f"promtool check rules:         {prom:.2f} s (median of {RUNS})")
        print(f"moncheck policy analysis:     {ours:.2f} s (median of {RUNS}; gate without tools; "
              f"{runs[0][1]} findings)")
        ratio = ours / prom
        print(f"ratio moncheck/promtool:      {ratio:.2f} (goal <= 2: {'OK' if ratio <= 2 else 'OVER GOAL'})")
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            _analysis(root)
            prof.disable()
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25)
            print(s.getvalue())
    return 0


if __name__ == "__main__":
    os.environ.pop("GITHUB_ACTIONS", None)
    sys.exit(main())
