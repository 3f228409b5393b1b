"""Benchmark of `moncheck mutate`. Run: `.venv/bin/python bench/mutate.py [--scales 1,4,16]`.

Prints:
1. the whole repository (`moncheck mutate`, whole process; `--hand-written`: only the
   hand-written rule files and their tests, with the repository's policy): mutants, mutants/s,
   wall time, with `--jobs N` (default: cores) and with `--jobs 1`, and the serial / parallel
   ratio. Goal: < 60 s.
2. growth: the hand-written rule files (`monitoring/prometheus/rules/*.yml`, not the generated
   `slo/`) and their tests copied 1x, 4x, 16x into a generated repository (each copy in its own
   folder, its tests loading its own copy): mutants, wall time, seconds per mutant, and each wall
   time over the 1x one divided by the scale (1.0 = linear).

Figures are wall-clock on the machine it runs on; on a shared machine they vary with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
MONCHECK = [sys.executable, "-m", "moncheck.cli"]


def mutate(repo: Path, jobs: int, *paths: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.run([*MONCHECK, "mutate", "--repo", str(repo), "--format", "json",
                           "--jobs", str(jobs), *paths], cwd=repo, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"moncheck mutate failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return wall, json.loads(proc.stdout)


def line(label: str, wall: float, doc: dict) -> str:
    n = doc["mutants"] - doc["stillborn"]
    return (f"{label:<28} {doc['mutants']:>6} mutants  {wall:7.1f} s  {n / wall:6.1f} mutants/s  "
            f"score {doc['score']:.1f}%  {doc['promtool_calls']} promtool runs")


def copies(dest: Path, scale: int) -> None:
    """``scale`` copies of the hand-written rule files and the tests that load them."""
    rules = sorted((REPO / "monitoring/prometheus/rules").glob("*.yml"))
    tests = sorted((REPO / "tests/rules").glob("*.test.yml"))
    (dest / ".git").mkdir(parents=True)
    for k in range(scale):
        rdir = dest / "monitoring/prometheus/rules" / f"c{k}"
        tdir = dest / "tests/rules" / f"c{k}"
        rdir.mkdir(parents=True)
        tdir.mkdir(parents=True)
        for r in rules:
            shutil.copy(r, rdir / r.name)
        for t in tests:
            data = yaml.safe_load(t.read_text(encoding="utf-8"))
            data["rule_files"] = [str(rdir / Path(p).name) for p in data.get("rule_files") or []]
            (tdir / t.name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--scales", default="1,4,16", help="growth scales (default 1,4,16)")
    ap.add_argument("--skip-repo", action="store_true", help="only the growth figures")
    ap.add_argument("--skip-serial", action="store_true", help="no --jobs 1 run of the repository")
    ap.add_argument("--hand-written", action="store_true",
                    help="part 1 on the hand-written rule files and tests only (not slo/)")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    paths: list[str] = []
    if args.hand_written:
        paths = [str(p.relative_to(REPO)) for p in sorted((REPO / "monitoring/prometheus/rules").glob("*.yml"))]
        paths += [str(p.relative_to(REPO)) for p in sorted((REPO / "tests/rules").glob("*.test.yml"))]
        paths += ["--policy", "policies/policy.yml"]
    what = "hand-written rules" if args.hand_written else "repository"
    if not args.skip_repo:
        wall_p, doc = mutate(REPO, args.jobs, *paths)
        print(line(f"{what}, --jobs {args.jobs}", wall_p, doc))
        if not args.skip_serial:
            wall_s, doc_s = mutate(REPO, 1, *paths)
            print(line(f"{what}, --jobs 1", wall_s, doc_s))
            print(f"serial / parallel wall time: {wall_s / wall_p:.2f} (ideal {args.jobs})")
    base = None
    for scale in (int(x) for x in args.scales.split(",")):
        with tempfile.TemporaryDirectory(prefix="moncheck-bench-mutate-") as tmp:
            root = Path(tmp)
            copies(root, scale)
            wall, doc = mutate(root, args.jobs)
        per = wall / max(1, doc["mutants"])
        base = base or (wall, scale)
        growth = (wall / base[0]) / (scale / base[1])
        print(line(f"hand-written rules x{scale}", wall, doc) + f"  {per * 1000:.0f} ms/mutant  "
              f"growth/linear {growth:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
