"""Benchmark of `moncheck mutate`. Run: `.venv/bin/python bench/mutate.py [--scales 1,4,16]`.

Prints, each figure with the load average when it was taken:
1. the whole repository (`moncheck mutate`, no paths: every rule file including the generated SLO
   rules, every promtool test file; `--hand-written`: only the hand-written rule files and their
   tests): mutants, mutants/s, wall time, with `--jobs N` (default: cores) and with `--jobs 1`,
   and the serial / parallel ratio. Goal: < 60 s. Every run starts from an empty cache (no
   hints, ``mutate.hints``), except the *warm* one: the parallel run again, with the hints the
   first left, and whether its verdicts are the first's. `--one-by-one` adds a run that judges
   every mutant in runs of its own (the reference way) and says whether every verdict is the
   same.
2. growth: every rule file and promtool test file of the repository copied 1x, 4x, 16x into a
   generated repository, each copy with its alerts and recorded series renamed (``_c<k>``, the
   references through the project's PromQL printer) and tests loading their own copy: mutants,
   wall time, ms per mutant, and the wall time over the 1x one divided by the scale (1.0: linear).
   `--growth-hand-written`: copies of the hand-written rules and tests only.

Figures are wall-clock on the machine it runs on; on a shared machine they vary with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from moncheck.mutate.rename import Renamer, rename_with

REPO = Path(__file__).resolve().parents[1]
MONCHECK = [sys.executable, "-m", "moncheck.cli"]
RULES = "monitoring/prometheus/rules"
TESTS = "tests/rules"


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def mutate(repo: Path, jobs: int, *args: str, cache: Path | None = None
           ) -> tuple[float, dict[str, Any]]:
    """One run, with the hints in ``cache`` (None: a new, empty cache)."""
    with tempfile.TemporaryDirectory(prefix="moncheck-bench-cache-") as fresh:
        env = {**os.environ, "MONCHECK_CACHE_DIR": str(cache or fresh)}
        t0 = time.perf_counter()
        proc = subprocess.run([*MONCHECK, "mutate", "--repo", str(repo), "--format", "json",
                               "--jobs", str(jobs), *args], cwd=repo, capture_output=True,
                              text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"moncheck mutate failed (exit {proc.returncode}): {proc.stderr.strip()}")
    doc = json.loads(proc.stdout)
    if any(f.get("check") in ("mutate/baseline", "mutate/timeout") for f in doc.get("findings", [])):
        raise SystemExit(f"moncheck mutate in {repo}: the baseline failed or a run timed out")
    return wall, doc


def line(label: str, wall: float, doc: dict[str, Any]) -> str:
    n = doc["mutants"] - doc["stillborn"]
    return (f"{label:<34} {doc['mutants']:>6} mutants  {wall:7.1f} s  {n / wall:6.1f} mutants/s  "
            f"killed {doc['killed']}, survived {doc['survived']}, equivalent {doc['equivalent']}  "
            f"{doc['promtool_calls']} promtool runs  ({load()})")


def verdicts(doc: dict[str, Any]) -> Counter[tuple[str, ...]]:
    """(file, line, rule, operator, changed key, mutated expression, status) of every mutant a
    report lists: with the same counts, the same lists mean the same verdict for every mutant
    (the others are killed or stillborn, and stillborn is decided the same way by both)."""
    out: Counter[tuple[str, ...]] = Counter()
    for key in ("survivors", "equivalent_mutants", "timeouts"):
        for s in doc.get(key) or []:
            out[(s["file"], str(s["line"]), s["rule"], s["operator"], s["key"], s["mutated_expr"],
                 s["mutated"], s.get("status", key))] += 1
    return out


# ------------------------------------------------------------------ generated copies

def _names(rule_files: list[Path]) -> tuple[set[str], set[str]]:
    alerts: set[str] = set()
    records: set[str] = set()
    for path in rule_files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for g in data.get("groups") or []:
            for r in g.get("rules") or []:
                if "alert" in r:
                    alerts.add(str(r["alert"]))
                elif "record" in r:
                    records.add(str(r["record"]))
    return alerts, records


def _renamed(expr: str, printer: Renamer) -> str:
    got = rename_with(expr, printer)
    if got is None:
        raise SystemExit(f"cannot rename {expr!r}: the printer does not print it back")
    return got


def copies(dest: Path, scale: int, hand_written: bool) -> None:
    """``scale`` copies of the repository's rule files and the tests that load them; copy k > 0
    renames every alert ``A`` to ``A_c<k>`` and every recorded series ``r`` to ``r_c<k>``."""
    pattern = "*.yml" if hand_written else "**/*.yml"
    rules = sorted((REPO / RULES).glob(pattern))
    tests = sorted((REPO / TESTS).glob("*.test.yml" if hand_written else "**/*.test.yml"))
    alerts, records = _names(rules)
    (dest / ".git").mkdir(parents=True)
    for k in range(scale):
        sfx = f"_c{k}" if k else ""
        printer = Renamer({r: r + sfx for r in records}, {a: a + sfx for a in alerts})
        where: dict[Path, Path] = {}
        for r in rules:
            out = dest / RULES / f"c{k}" / r.relative_to(REPO / RULES)
            out.parent.mkdir(parents=True, exist_ok=True)
            data = yaml.safe_load(r.read_text(encoding="utf-8"))
            for g in data.get("groups") or []:
                for rule in g.get("rules") or []:
                    kind = "alert" if "alert" in rule else "record"
                    rule[kind] = str(rule[kind]) + sfx
                    rule["expr"] = _renamed(str(rule["expr"]), printer) if sfx else rule["expr"]
            out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            where[r.resolve()] = out
        for t in tests:
            out = dest / TESTS / f"c{k}" / t.relative_to(REPO / TESTS)
            out.parent.mkdir(parents=True, exist_ok=True)
            data = yaml.safe_load(t.read_text(encoding="utf-8"))
            data["rule_files"] = [str(where[(t.parent / p).resolve()]) for p in data.get("rule_files") or []]
            for group in data.get("tests") or [] if sfx else []:
                for case in group.get("alert_rule_test") or []:
                    case["alertname"] = str(case["alertname"]) + sfx
                for case in group.get("promql_expr_test") or []:
                    case["expr"] = _renamed(str(case["expr"]), printer)
                    for s in case.get("exp_samples") or []:
                        labels = str(s.get("labels", ""))
                        name = labels.split("{", 1)[0]
                        if name in records:
                            s["labels"] = name + sfx + labels[len(name):]
            out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--scales", default="1,4,16", help="growth scales (default 1,4,16; '' for none)")
    ap.add_argument("--skip-repo", action="store_true", help="only the growth figures")
    ap.add_argument("--skip-serial", action="store_true", help="no --jobs 1 run of the repository")
    ap.add_argument("--hand-written", action="store_true",
                    help="part 1 on the hand-written rule files and tests only (not slo/)")
    ap.add_argument("--growth-hand-written", action="store_true",
                    help="growth from copies of the hand-written rule files and tests only")
    ap.add_argument("--one-by-one", action="store_true",
                    help="also run part 1 with --one-by-one and compare every mutant's verdict")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, {load()} at start")
    paths: list[str] = []
    if args.hand_written:
        paths = [str(p.relative_to(REPO)) for p in sorted((REPO / RULES).glob("*.yml"))]
        paths += [str(p.relative_to(REPO)) for p in sorted((REPO / TESTS).glob("*.test.yml"))]
        paths += ["--policy", "policies/policy.yml"]
    what = "hand-written rules" if args.hand_written else "repository"
    if not args.skip_repo:
        with tempfile.TemporaryDirectory(prefix="moncheck-bench-cache-") as kept:
            wall_p, doc = mutate(REPO, args.jobs, *paths, cache=Path(kept))
            print(line(f"{what}, --jobs {args.jobs}", wall_p, doc))
            wall_w, doc_w = mutate(REPO, args.jobs, *paths, cache=Path(kept))
            print(line(f"{what}, --jobs {args.jobs}, warm", wall_w, doc_w))
            same = verdicts(doc) == verdicts(doc_w) and doc["killed"] == doc_w["killed"]
            print(f"warm / cold wall time: {wall_w / wall_p:.2f}; verdicts "
                  + ("identical" if same else "DIFFER"))
        if not args.skip_serial:
            wall_s, doc_s = mutate(REPO, 1, *paths)
            print(line(f"{what}, --jobs 1", wall_s, doc_s))
            print(f"serial / parallel wall time: {wall_s / wall_p:.2f} (ideal {args.jobs})")
        if args.one_by_one:
            wall_o, doc_o = mutate(REPO, args.jobs, *paths, "--one-by-one")
            print(line(f"{what}, --one-by-one", wall_o, doc_o))
            a, b = verdicts(doc), verdicts(doc_o)
            same = a == b and (doc["killed"], doc["survived"]) == (doc_o["killed"], doc_o["survived"])
            print(f"one-by-one / renamed wall time: {wall_o / wall_p:.2f}; verdicts "
                  + ("identical" if same else f"DIFFER: only renamed {list((a - b).elements())[:5]}, "
                                             f"only one-by-one {list((b - a).elements())[:5]}"))
    base: tuple[float, int] | None = None
    for scale in (int(x) for x in args.scales.split(",") if x):
        with tempfile.TemporaryDirectory(prefix="moncheck-bench-mutate-") as tmp:
            root = Path(tmp)
            copies(root, scale, args.growth_hand_written)
            wall, doc = mutate(root, args.jobs)
        per = wall / max(1, doc["mutants"])
        base = base or (wall, scale)
        growth = (wall / base[0]) / (scale / base[1])
        print(line(f"{'hand-written' if args.growth_hand_written else 'repository'} x{scale}", wall, doc)
              + f"  {per * 1000:.0f} ms/mutant  growth/linear {growth:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
