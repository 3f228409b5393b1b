"""Benchmark: SLO generation time and its growth with the number of SLOs.

Usage: .venv/bin/python bench/slo.py [N ...] [--repeat R]   (default N: 1 10 100 1000)
For each N, builds a throwaway repository (catalog copied from this one) with N SLOs spread over
N/10 spec files (ten objectives, so ten distinct rule shapes), then times the spec loading, the
whole ``moncheck.slo.plan`` (load + validate + rules + tests + runbooks) and the atomic writes.
Prints the best of R runs, the time per SLO, and the growth against the previous N (1.0 =
linear). Test scenarios are planned once per rule shape (cached), so the first N pays for them.
Columns: plan (a fresh repository, empty plan cache), again (the same repository with its
generated files, as a new `moncheck slo generate` process sees it without a plan cache on disk),
cached (the same, with the plan cache the first run wrote: moncheck's default, in the user's
cache directory); CPU seconds (this process and the generation workers it forks from 200 SLOs
on) next to wall seconds, since wall time on a shared machine includes waiting for a core.
"""

from __future__ import annotations

import argparse
import os
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


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (generation forks workers
    from 200 SLOs on, see moncheck.slo.generate.PARALLEL_MIN)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _once(n: int) -> tuple[float, float, float, float, float, float, float, int, int]:
    from moncheck.slo import scenarios
    with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as cache:
        os.environ["MONCHECK_CACHE_DIR"] = cache  # an empty plan cache: this N plans its shapes
        scenarios.clear_caches()
        repo = Path(d)
        build(repo, n)
        t0 = time.perf_counter()
        slo.load_specs(repo)
        t1, c1 = time.perf_counter(), _cpu()
        plan = slo.plan(repo)
        t2, c2 = time.perf_counter(), _cpu()
        if not plan.ok:
            raise SystemExit("\n".join(f.text() for f in plan.findings))
        slo.write(repo, plan)
        t3 = time.perf_counter()
        lines = sum(t.count("\n") for t in plan.files.values())
        # Again, as a new `moncheck slo generate` process sees the repository with its files:
        # without a plan cache on disk (MONCHECK_CACHE_DIR=""), then with the one just written.
        scenarios.clear_caches()
        os.environ["MONCHECK_CACHE_DIR"] = ""
        c4 = _cpu()
        slo.plan(repo)
        t5, c5 = time.perf_counter(), _cpu()
        scenarios.clear_caches()
        os.environ["MONCHECK_CACHE_DIR"] = cache
        slo.plan(repo)
        t6, c6 = time.perf_counter(), _cpu()
        del os.environ["MONCHECK_CACHE_DIR"]
        return (t1 - t0, t2 - t1, c2 - c1, c5 - c4, t6 - t5, c6 - c5, t3 - t2, len(plan.files),
                lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="*", type=int, default=[1, 10, 100, 1000])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    prev: tuple[int, float] | None = None
    # Wall time on a shared machine includes waiting for the CPU: CPU seconds are printed too.
    print("SLOs  files    lines   load s   plan s  plan cpu  again cpu  cached s  cached cpu"
          "  write s  cpu ms/SLO  growth")
    for n in args.n:
        runs = []
        for _ in range(args.repeat):
            runs.append(_once(n))  # each N pays for its own scenario planning
        load, plan_s, cpu, again_cpu, cached, cached_cpu, write_s, files, lines = min(
            runs, key=lambda r: r[2])
        growth = "" if prev is None else f"{(cpu / prev[1]) / (n / prev[0]):.2f}"
        print(f"{n:>4} {files:>6} {lines:>8} {load:>8.2f} {plan_s:>8.2f} {cpu:>9.2f} "
              f"{again_cpu:>10.2f} {cached:>9.2f} {cached_cpu:>11.2f} {write_s:>8.2f} "
              f"{1000 * cpu / n:>11.1f}  {growth}")
        prev = (n, cpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
