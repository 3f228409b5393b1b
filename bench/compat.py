"""Compatibility matrix: every fire drill, the rule tests and the gate on each toolchain.

For each toolchain of ``src/moncheck/toolchain/versions.yml`` (``MONCHECK_TOOLCHAIN``), in a fresh
process: ``moncheck drill`` (all drills, one local stack), ``pytest tests/rules`` (promtool rule
tests and config checks) and ``moncheck check``. Prints the versions, a table of drills (pass/fail
and time to fire of each alert) and the totals, and exits 1 when any cell failed.

    .venv/bin/python bench/compat.py [--speed 60] [--toolchains 3,2] [DRILL...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def _run(argv: list[str], toolchain: str, timeout: float) -> tuple[int, float, str]:
    env = {**os.environ, "MONCHECK_TOOLCHAIN": toolchain}
    t = time.perf_counter()
    r = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return r.returncode, time.perf_counter() - t, r.stdout + r.stderr


def _last(output: str, prefix: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.startswith(prefix)]
    return lines[-1] if lines else output.strip().splitlines()[-1] if output.strip() else "(no output)"


def _cell(drill: dict) -> str:
    if not drill["ok"]:
        return "FAIL"
    fired = [f"{a['fired_s']:.0f}s" for a in drill["alerts"] if a.get("fired_s")]
    return "pass" + (f" ({', '.join(fired)})" if fired else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("drills", nargs="*", help="drills to run (default: all)")
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--toolchains", default="", help="comma-separated (default: every toolchain)")
    args = ap.parse_args()
    from moncheck import toolchain

    names = [n for n in args.toolchains.split(",") if n] or toolchain.names()
    py = sys.executable
    results: dict[str, dict] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="moncheck-compat-") as tmp:
        for name in names:
            print(f"bench/compat: {toolchain.record(name).text()}", flush=True)
            report = Path(tmp) / f"drills-{name}.json"
            rc, secs, out = _run([py, "-m", "moncheck.cli", "drill", "--speed", f"{args.speed:g}",
                                  "--no-dashboards", "--report", str(report), *args.drills], name, 3600)
            drills = json.loads(report.read_text())["drills"] if report.is_file() else []
            if not drills:
                print(f"  drills did not run (exit {rc}): {_last(out, 'moncheck: error')}")
            rrc, rsecs, rout = _run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/rules"], name, 900)
            grc, gsecs, gout = _run([py, "-m", "moncheck.cli", "check"], name, 900)
            results[name] = {"drills": {d["name"]: d for d in drills}, "drill_s": secs, "drill_rc": rc,
                             "rules": (rrc, rsecs, _last(rout, "")),
                             "gate": (grc, gsecs, _last(gout, "moncheck: ") if grc else _last(gout, "moncheck: 0 errors"))}
            failed |= rc != 0 or rrc != 0 or grc != 0
    all_drills = sorted({d for r in results.values() for d in r["drills"]})
    width = max([len(d) for d in all_drills] + [24])
    header = f"{'drill':<{width}} " + " ".join(f"{'toolchain ' + n:<30}" for n in names)
    print("\n" + header)
    print("-" * len(header))
    for d in all_drills:
        cells = [(_cell(results[n]["drills"][d]) if d in results[n]["drills"] else "not run") for n in names]
        print(f"{d:<{width}} " + " ".join(f"{c:<30}" for c in cells))
    print("-" * len(header))
    drill_totals = [f"{results[n]['drill_s']:.0f}s, exit {results[n]['drill_rc']}" for n in names]
    print(f"{'drills (wall, exit)':<{width}} " + " ".join(f"{c:<30}" for c in drill_totals))
    for label, key in (("rule tests (pytest)", "rules"), ("gate (moncheck check)", "gate")):
        print(f"{label:<{width}} " + " ".join(
            f"{f'exit {results[n][key][0]}, {results[n][key][1]:.0f}s':<30}" for n in names))
    for n in names:
        print(f"toolchain {n}: rules: {results[n]['rules'][2]}; gate: {results[n]['gate'][2]}")
        for d in results[n]["drills"].values():
            why = d["failures"] + [f"{a['alert']}: {f}" for a in d["alerts"] for f in a["failures"]]
            if why:
                print(f"toolchain {n}: {d['name']} failed: {'; '.join(why)[:400]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
