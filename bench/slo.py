"""Benchmark: generation time for N SLOs (default 100), from spec text to rendered rule files.

Usage: .venv/bin/python bench/slo.py [N] [--repeat R]
Builds a throwaway repository (catalog copied from this one) with N SLOs spread over N/10 spec
files, then times ``moncheck.slo.plan`` (load + validate + rules + tests + runbooks) and the
atomic writes. Prints the best of R runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from moncheck import slo  # noqa: E402

SLO_TMPL = """  - name: "availability-{i}"
    objective: 99.{d}
    sli:
      events:
        error_query: sum(rate(http_requests_total{{job="svc{i}",status_code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{job="svc{i}"}}[{{{{.window}}}}]))
    alerting:
      name: Svc{i}AvailabilityBurn
      labels: {{team: backend}}
      annotations: {{summary: s, description: d, runbook_url: "https://x/Svc{i}.md"}}
      page_alert: {{for: 2m, labels: {{severity: critical}}}}
      ticket_alert: {{for: 10m, labels: {{severity: warning}}}}
"""


def build(repo: Path, n: int) -> None:
    (repo / "monitoring/catalog").mkdir(parents=True)
    shutil.copy(ROOT / "monitoring/catalog/metrics.yml", repo / "monitoring/catalog")
    (repo / "monitoring/slos").mkdir(parents=True)
    per_file = 10
    for f in range(0, n, per_file):
        body = "".join(SLO_TMPL.format(i=i, d=i % 10) for i in range(f, min(f + per_file, n)))
        (repo / f"monitoring/slos/svc{f // per_file:03d}.yml").write_text(
            f'version: "prometheus/v1"\nservice: "svc"\nslos:\n{body}')


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    best_plan = best_write = float("inf")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as d:
            repo = Path(d)
            build(repo, args.n)
            t0 = time.perf_counter()
            plan = slo.plan(repo)
            t1 = time.perf_counter()
            if not plan.ok:
                print("\n".join(f.text() for f in plan.findings), file=sys.stderr)
                return 1
            slo.write(repo, plan)
            t2 = time.perf_counter()
            best_plan, best_write = min(best_plan, t1 - t0), min(best_write, t2 - t1)
            files, lines = len(plan.files), sum(t.count("\n") for t in plan.files.values())
    print(f"{args.n} SLOs -> {files} files, {lines} lines: plan {best_plan * 1000:.0f} ms, "
          f"write {best_write * 1000:.0f} ms (best of {args.repeat})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
