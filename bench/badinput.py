"""Bad input, end to end through the CLI: every case of tests/fixtures/bad/repo-cases.yml on a
broken copy of this repository, and the secret corpus of tests/fixtures/bad/secrets/.

Prints: cases, crashes (signal, traceback, internal error, finding at moncheck:1), hangs (no
exit within --timeout), wrong exits, missing lines (the expected check/file/line not reported),
then secrets caught/missed and false positives on the benign texts.

    python bench/badinput.py                      # this checkout's moncheck
    python bench/badinput.py --src /path/to/src   # another moncheck source tree (e.g. an older commit)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests/unit"))
import yaml  # noqa: E402 - after the sys.path line
from badrepo import cases, copy_repo  # type: ignore[import-not-found]  # noqa: E402

SECRETS = ROOT / "tests/fixtures/bad/secrets"


def moncheck(src: Path | None, args: list[str], cwd: Path, timeout: float) -> tuple[int | None, str, str]:
    """(exit status or None on timeout, stdout, stderr) of ``moncheck args`` run in ``cwd``."""
    code = "import sys; from moncheck.cli import main; sys.exit(main())"
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    # Own process group: on a hang, its tools (a promtool blocked on a FIFO) are stopped too.
    p = subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, "", ""
    return p.returncode, out, err


def _findings(stdout: str) -> list[dict[str, Any]]:
    try:
        rows = json.loads(stdout or "[]")
    except ValueError:
        return []
    return rows if isinstance(rows, list) else rows.get("findings", []) if isinstance(rows, dict) else []


def run_cases(src: Path | None, timeout: float) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"cases": [], "crashes": [], "hangs": [], "wrong exits": [], "missing lines": []}
    for case in cases():
        out["cases"].append(case["id"])
        with tempfile.TemporaryDirectory(prefix="moncheck-bad-") as tmp:
            repo = copy_repo(Path(tmp), case)
            args = case["cli"] if "cli" in case else ["check", "--repo", str(repo), "--format", "json"]
            rc, stdout, stderr = moncheck(src, args, repo, timeout)
        expect = case["expect"]
        found = _findings(stdout)
        if rc is None:
            out["hangs"].append(case["id"])
            continue
        crashed = (rc < 0 or rc > 2 or "Traceback" in stderr or "internal error" in stdout + stderr
                   or any(f.get("path") == "moncheck" for f in found))
        if crashed:
            out["crashes"].append(f"{case['id']} (exit {rc})")
        want_rc = expect.get("exit", 1) if expect else 0
        if rc != want_rc:
            out["wrong exits"].append(f"{case['id']} (exit {rc}, expected {want_rc})")
        if expect and "check" in expect:
            key = (expect["check"], expect["file"], expect["line"])
            if key not in {(f.get("check"), f.get("path"), f.get("line")) for f in found}:
                out["missing lines"].append(f"{case['id']} ({key[0]} at {key[1]}:{key[2]})")
    return out


def run_secrets(src: Path | None, timeout: float) -> tuple[int, list[str], list[str]]:
    """(caught, missed ids, false positives) of the secret corpus, through the CLI's loose mode."""
    index = yaml.safe_load((SECRETS / "cases.yml").read_text())
    files = sorted({c["file"] for c in index["secrets"]} | set(index["benign"]))
    _, stdout, _ = moncheck(src, ["check", "--repo", ".", "--format", "json", *files], SECRETS, timeout)
    got = {(f.get("path"), f.get("line")) for f in _findings(stdout) if f.get("check") == "secrets/inline"}
    caught = [c for c in index["secrets"] if (c["file"], c["line"]) in got]
    missed = [c["id"] for c in index["secrets"] if (c["file"], c["line"]) not in got]
    fps = sorted(f"{p}:{ln}" for p, ln in got if p in index["benign"])
    return len(caught), missed, fps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, help="moncheck source tree to run (default: the installed one)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a case counts as a hang")
    ap.add_argument("--skip-cases", action="store_true", help="only the secret corpus")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if not args.skip_cases:
        res = run_cases(args.src, args.timeout)
        for key, items in res.items():
            print(f"{key}: {len(items)}")
            if key != "cases":
                for x in items:
                    print(f"  {x}")
    index = yaml.safe_load((SECRETS / "cases.yml").read_text())
    caught, missed, fps = run_secrets(args.src, args.timeout)
    print(f"secrets caught: {caught} of {len(index['secrets'])}; missed: {len(missed)}")
    for x in missed:
        print(f"  missed {x}")
    print(f"false positives on benign texts: {len(fps)} (of {len(index['benign'])} files)")
    for x in fps:
        print(f"  {x}")
    print(f"elapsed: {time.perf_counter() - t0:.1f}s (wall clock, shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
