"""Mutation score of the generated SLO tests, measured with promtool (not with the model).

Usage: .venv/bin/python bench/slo_mutants.py [SLO_ID ...] [--jobs N] [--repo DIR]
For each generated rule file ``monitoring/prometheus/rules/slo/<id>.yml`` (default: all), writes
every mutant of the kinds ``moncheck.slo.burnmodel.mutants`` models (plus ``>`` -> ``>=``, which
the generated tests cannot kill, see docs/slo.md) into a temporary copy of the repository's rule
and test files, runs that SLO's generated promtool tests on it, and prints killed/total per kind
and every survivor. A mutant promtool rejects is counted as stillborn. ``moncheck mutate`` (issue
8) is the general tool; this script is the SLO generator's own cross-check of its model.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = Path("monitoring/prometheus/rules/slo")
TESTS = Path("tests/rules/slo")
_COND = re.compile(r"^(\s+)max\((slo:sli_error:ratio_rate(\w+))\{([^}]*)\} > \(([^ ]+) \* ([^)]+)\)"
                   r"\) without \(sloth_window\)$")


def _blocks(text: str) -> dict[str, tuple[int, int]]:
    """severity -> (start, end) line indexes of the alert rules."""
    lines = text.split("\n")
    out = {}
    starts = [i for i, ln in enumerate(lines) if ln.startswith("  - alert:")]
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(lines)
        sev = next(ln.split(":")[1].strip() for ln in lines[s:e] if "sloth_severity:" in ln)
        out[sev] = (s, e)
    return out


def mutants(text: str) -> list[tuple[str, str]]:
    """(name, mutated text) for one generated rule file."""
    lines = text.split("\n")
    out: list[tuple[str, str]] = []

    def put(name: str, new: list[str]) -> None:
        out.append((name, "\n".join(new)))

    for sev, (s, e) in _blocks(text).items():
        conds = [i for i in range(s, e) if _COND.match(lines[i])]
        for i in conds:
            m = _COND.match(lines[i])
            assert m is not None
            w, factor = m.group(3), m.group(5)
            for k in (0.1, 0.5, 2, 10):
                new = lines.copy()
                new[i] = new[i].replace(f"({factor} *", f"({float(factor) * k:g} *")
                put(f"{sev}: {w} threshold x{k:g}", new)
            for name, old, rep in (("comparison flipped", " > (", " < ("),
                                   (">= (equal only)", " > (", " >= ("),
                                   ("selects nothing", 'sloth_id="', 'sloth_id!="')):
                new = lines.copy()
                new[i] = new[i].replace(old, rep, 1)
                put(f"{sev}: {w} {name}", new)
            new = lines.copy()
            j = i - 1 if lines[i - 1].strip() == "and" else i + 1
            del new[max(i, j)]
            del new[min(i, j)]
            put(f"{sev}: {w} condition dropped", new)
        ands = [i for i in range(s, e) if lines[i].strip() == "and"]
        for n, i in enumerate(ands):
            new = lines.copy()
            new[i] = new[i].replace("and", "or")
            put(f"{sev}: pair {n + 1} and -> or", new)
        ors = [i for i in range(s, e) if lines[i].strip() == "or"]
        for i in ors:
            new = lines.copy()
            new[i] = new[i].replace("or", "and")
            put(f"{sev}: or -> and", new)
            first, second = (i - 5, i - 1), (i + 1, i + 5)  # "(" cond and cond ")"
            for n, (a, b) in enumerate((first, second)):
                new = lines.copy()
                lo, hi = (a, i) if n == 0 else (i, b)
                del new[lo:hi + 1]
                put(f"{sev}: pair {n + 1} dropped", new)
        fors = [i for i in range(s, e) if lines[i].startswith("    for: ")]
        for i in fors:
            val = lines[i].split(": ")[1]
            mins = int(val[:-1]) * (60 if val.endswith("h") else 1) if val[-1] in "mh" else 0
            for name, rep in (("for removed", None), ("for halved", f"{mins * 30}s"),
                              ("for doubled", f"{mins * 2}m")):
                new = lines.copy()
                if rep is None:
                    del new[i]
                else:
                    new[i] = f"    for: {rep}"
                put(f"{sev}: {name}", new)
    # SLI recording rules: the error (first) or total (second) rate, and the range.
    for i, ln in enumerate(lines):
        m = re.match(r"  - record: slo:sli_error:ratio_rate(\w+)$", ln)
        if not m or m.group(1) in ("30d", "4w", "1w"):
            continue
        w = m.group(1)
        e = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("    labels:"))
        body = "\n".join(lines[i:e])
        rest = "\n".join(lines[e:])
        head = "\n".join(lines[:i])
        for name, fn in (("range halved", lambda b, w=w: b.replace(f"[{w}]", f"[{_half(w)}]")),
                         ("range doubled",
                          lambda b, w=w: b.replace(f"[{w}]", f"[{_double(w)}]")),
                         ("errors irate", lambda b: b.replace("rate(", "irate(", 1)),
                         ("errors increase", lambda b: b.replace("rate(", "increase(", 1)),
                         ("total irate", lambda b: _nth(b, "rate(", "irate(")),
                         ("total increase", lambda b: _nth(b, "rate(", "increase("))):
            out.append((f"sli: {w} {name}", f"{head}\n{fn(body)}\n{rest}"))
    return out


def _nth(s: str, old: str, new: str) -> str:
    """Replace the last ``old`` that is not part of ``irate(``."""
    idx = [m.start() for m in re.finditer(r"(?<!i)rate\(", s)]
    k = idx[-1]
    return s[:k] + new + s[k + len(old):]


_UNIT = {"m": 1, "h": 60, "d": 1440}


def _mins(w: str) -> int:
    return sum(int(n) * _UNIT[u] for n, u in re.findall(r"(\d+)([mhd])", w))


def _fmt(m: float) -> str:
    return f"{int(m)}m" if m == int(m) else f"{int(m * 60)}s"


def _half(w: str) -> str:
    return _fmt(_mins(w) / 2)


def _double(w: str) -> str:
    return _fmt(_mins(w) * 2)


def run(repo: Path, slo_id: str, name: str, text: str, parent: Path) -> tuple[str, str]:
    with tempfile.TemporaryDirectory(dir=parent) as d:
        root = Path(d)
        (root / RULES).mkdir(parents=True)
        (root / RULES / f"{slo_id}.yml").write_text(text)
        shutil.copytree(repo / TESTS, root / TESTS)
        tests = sorted(p.name for p in (root / TESTS).glob(f"{slo_id}*.test.yml"))
        chk = subprocess.run(["promtool", "check", "rules", str(root / RULES / f"{slo_id}.yml")],
                             capture_output=True, text=True, check=False)
        if chk.returncode != 0:
            return name, "stillborn"
        r = subprocess.run(["promtool", "test", "rules", *tests], capture_output=True, text=True,
                           cwd=root / TESTS, timeout=900, check=False)
        return name, "killed" if r.returncode != 0 else "survived"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repo", type=Path, default=ROOT)
    args = ap.parse_args()
    ids = args.ids or sorted(p.stem for p in (args.repo / RULES).glob("*.yml"))
    # One parent directory, removed also on Ctrl-C and SIGTERM (worker threads finish first).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parent = Path(tempfile.mkdtemp(prefix="slo-mutants-"))
    try:
        return _score(args, ids, parent)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _score(args: argparse.Namespace, ids: list[str], parent: Path) -> int:
    total: Counter[str] = Counter()
    for slo_id in ids:
        text = (args.repo / RULES / f"{slo_id}.yml").read_text()
        muts = mutants(text)
        with ThreadPoolExecutor(args.jobs) as ex:
            results = list(ex.map(lambda m, sid=slo_id: run(args.repo, sid, *m, parent), muts))
        c = Counter(r for _, r in results)
        total.update(c)
        scored = c["killed"] + c["survived"]
        print(f"{slo_id}: {c['killed']}/{scored} killed ({100 * c['killed'] / max(1, scored):.1f}%)"
              f", {c['stillborn']} stillborn")
        for name, r in results:
            if r == "survived":
                print(f"  survived: {name}")
    scored = total["killed"] + total["survived"]
    print(f"total: {total['killed']}/{scored} killed, {total['stillborn']} stillborn")
    return 0 if total["survived"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
