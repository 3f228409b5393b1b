"""Flakiness of the promtool rule tests: every test file of the repository, N times, on each
installed promtool. Run: `.venv/bin/python bench/flake.py [--runs 50] [--jobs N]`.

Prints, per promtool and test file, the failures out of N runs (with the first difference of the
first failure, as `moncheck check` reports it), the total, and the wall time. The promtools are
those of every installed toolchain (`moncheck.toolchain`, when the project has it), else the one
`moncheck.tools.find_binary` resolves (PATH or `MONCHECK_PROMTOOL`). Goal: 0 failures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from moncheck.tools import ToolMissing, find_binary, run, testfail
from moncheck.tools import promtool as pt

REPO = Path(__file__).resolve().parents[1]


def promtools() -> list[tuple[str, str]]:
    """(label, binary) of each installed promtool, through the project's one tool lookup."""
    try:
        from moncheck import toolchain  # type: ignore[attr-defined]
    except ImportError:
        toolchain = None
    found: list[tuple[str, str]] = []
    if toolchain is not None:
        for name in toolchain.names():
            exe = toolchain.find_in("promtool", name)
            if exe and exe not in [b for _, b in found]:
                found.append((f"{name} ({toolchain.tag('promtool', name)})", exe))
    if not found:
        exe = find_binary("promtool")
        out = run([exe, "--version"]).stdout.split()
        version = out[out.index("version") + 1] if "version" in out[:-1] else "?"
        found.append((f"promtool {version}", exe))
    return found


def once(exe: str, path: Path) -> tuple[bool, str]:
    proc = run([exe, "test", "rules", path.name], cwd=path.parent)
    if proc.returncode == 0:
        return True, ""
    found = testfail.entries(pt.failure_text(proc.stdout))
    return False, testfail.first_difference(found[0]) if found else pt.failure_text(proc.stdout)[:200]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    files = sorted((REPO / "tests/rules").glob("**/*.test.yml"))
    try:
        tools = promtools()
    except ToolMissing as e:
        print(f"flake: {e}", file=sys.stderr)
        return 2
    total = 0
    t0 = time.perf_counter()
    print(f"{'promtool':<36} {'test file':<40} failures")
    for label, exe in tools:
        for f in files:
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                results = list(pool.map(once, [exe] * args.runs, [f] * args.runs))
            bad = [why for ok, why in results if not ok]
            total += len(bad)
            rel = f.relative_to(REPO).as_posix()
            print(f"{label[:36]:<36} {rel:<40} {len(bad)}/{args.runs}"
                  + (f"  first: {bad[0]}" if bad else ""))
    runs = len(tools) * len(files) * args.runs
    print(f"total: {total} failures in {runs} runs ({len(files)} files x {args.runs} runs x "
          f"{len(tools)} promtool{'s' * (len(tools) != 1)}), {time.perf_counter() - t0:.1f}s wall, "
          f"{args.jobs} jobs")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
