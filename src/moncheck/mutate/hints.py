"""Which test group killed each mutant last time: the order to try them in next time.

Mutation testing tools keep such a history (PIT's, Stryker's incremental mode): most mutants
of an unchanged rule die in the same group again, so trying that group first makes a repeated
run cost about one group per mutant. A hint only orders: the mutant is still run against the
group, and against every other group if that one does not kill it, so a stale or wrong hint
costs time, never a verdict. The file lives in ``moncheck.cache`` (``mutate-hints``), one per
repository; an unreadable one is ignored.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from moncheck import atomic, cache, yamlpos
from moncheck.mutate.mutants import Mutant

Hints = dict[str, tuple[str, str]]  # mutant key -> (test file as shown, group name)
MAX_ENTRIES = 200_000


def path_for(repo: Path) -> Path | None:
    d = cache.cache_dir("mutate-hints")
    if d is None:
        return None
    return d / f"{hashlib.sha256(str(repo.resolve()).encode()).hexdigest()[:24]}.json"


def key(m: Mutant) -> str:
    text = "\0".join((m.rule.file, m.rule.kind, m.rule.name, m.operator, m.old, m.new, m.key,
                      m.value or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load(path: Path | None) -> Hints:
    if path is None:
        return {}
    try:
        data = json.loads(yamlpos.read_source(path, str(path)))
        return {str(k): (str(v[0]), str(v[1])) for k, v in data["hints"].items()}
    except (yamlpos.LoadError, OSError, ValueError, KeyError, TypeError, IndexError):
        return {}


def save(path: Path | None, hints: Hints) -> None:
    if path is None:
        return
    if len(hints) > MAX_ENTRIES:
        hints = dict(list(hints.items())[-MAX_ENTRIES:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(path, json.dumps({"version": 1, "hints": hints}, sort_keys=True))
    except OSError:
        pass  # a read-only cache: hints are an optimisation only
