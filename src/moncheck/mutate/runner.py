"""Run the promtool tests against every mutant, in a temporary directory.

For each mutant: the mutated copy of its rule file, and for each test file that loads that rule
file a copy holding only the test groups that can observe the mutant (``mutate.scope``), with
``rule_files`` pointing at the mutated copy (other rule files stay where they are, read-only).
The repository is never written. Copies are batched into few promtool calls, run by up to
``jobs`` processes at once:

1. ``promtool check rules`` over the mutated rule files: a mutant promtool rejects is stillborn.
2. The baseline (every test file, rewritten the same way, unmutated) must pass, else nothing a
   mutant does can be told apart from the tests' own failure.
3. ``promtool test rules`` over the test copies: a failing copy kills its mutant. Groups that
   cannot tell a mutant apart on their input are left out (``mutate.inert``); many mutants are
   judged in one run of a group through renamed copies where that is sound (``mutate.rename``),
   the others one copy per mutant; in rounds of growing size (``ROUNDS``), only for the mutants
   still alive.

A batch that outlives the timeout is retried file by file; a file that times out alone leaves its
mutant *timed out* (reported, never counted as killed).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from moncheck.inventory import RuleFile
from moncheck.mutate import hints as hints_mod
from moncheck.mutate import inert, rename, scope
from moncheck.mutate.mutants import Mutant, file_mutants
from moncheck.tools import ToolTimeout, stop_all
from moncheck.tools import promtool as pt

KILLED, SURVIVED, STILLBORN, TIMEOUT = "killed", "survived", "stillborn", "timeout"
DEFAULT_TIMEOUT_S = 60.0
CHECK_BATCH = 64  # rule files per `promtool check rules`
MAX_TEST_BATCH = 32  # test files per `promtool test rules`
ROUNDS = (1, 1, 1, 2, 2, 4, 8, 0)  # observing groups per mutant in each round (0: all the rest)
SPREAD = 8  # the first round starts a rule's mutants at up to this many different groups
MAX_RENAMED = 64  # mutants judged in one renamed test group run
MIN_BATCH_S = 0.5  # below that, promtool's start-up (~75 ms) outweighs the parallelism

Outcomes = dict[str, "tuple[bool, str] | None"]


@dataclass
class Outcome:
    mutant: Mutant
    status: str
    tests: list[str] = field(default_factory=list)  # test files (as shown) run against it
    groups: int = 0  # test groups run against it
    detail: str = ""  # why it has this status (killing test file, timeout, ...)
    killer: tuple[int, int] | None = None  # (test file, group) that killed it, when known


@dataclass
class RunResult:
    outcomes: list[Outcome]
    # (test file, "" when it fails, else why it has no result) of test files failing unmutated
    baseline_failures: list[tuple[str, str]] = field(default_factory=list)
    unparsable: list[tuple[str, int, str, str]] = field(default_factory=list)  # file, line, rule, error
    promtool_calls: int = 0
    elapsed_s: float = 0.0
    test_files: list[str] = field(default_factory=list)
    hints: hints_mod.Hints = field(default_factory=dict)  # this run's killers (mutate.hints)


@dataclass
class _Item:
    """One test file copy to run: ``arg`` relative to the work dir; ``mutant`` None for the
    baseline."""

    arg: str
    shown: str
    groups: int
    mutant: int | None
    cost: float = 0.0  # estimated seconds
    group: tuple[int, int] | None = None  # (test file, group) when it holds one group


@dataclass(eq=False)
class _Pair:
    """Mutant ``mutant`` to be judged by group ``group`` of test file ``tf`` (number ``k``);
    ``renamed`` when by renamed copies (``plan``), else alone."""

    mutant: int
    k: int
    tf: scope.TestFile
    group: scope.GroupScope
    renamed: bool
    plan: rename.Plan | None


class Runner:
    def __init__(self, jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                 binary: str | None = None, progress: Callable[[str], None] | None = None,
                 renaming: bool = True) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.timeout = timeout
        self.binary = binary or pt.promtool()
        self.progress = progress or (lambda _msg: None)
        self.renaming = renaming  # False: every mutant alone (the reference way, slower)
        # (mutant, test group) pairs judged through renamed copies, and alone
        self.pairs_renamed = self.pairs_alone = self.pairs_inert = 0
        self._worlds: dict[tuple[int, int], inert.Universe | None] = {}  # (test file, group)
        self._recorded: dict[int, dict[str, list[dict[str, str]] | None]] = {}  # test file
        self.calls = 0
        self.cost: dict[str, float] = {}  # test file (shown) -> seconds of its baseline run
        self.elapsed: dict[str, float] = {}  # single-file calls: file -> seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # --------------------------------------------------------------- promtool calls

    def _call(self, fn: Callable[..., Outcomes], files: list[str], cwd: Path) -> Outcomes:
        """One batch; on timeout each file alone; a file that times out alone maps to None
        with the reason in ``self.timed_out``."""
        if self._stop.is_set():
            return dict.fromkeys(files)
        with self._lock:
            self.calls += 1
        t0 = time.perf_counter()
        try:
            got = fn(files, cwd, self.timeout, self.binary)
            if len(files) == 1:
                self.elapsed[files[0]] = time.perf_counter() - t0
            return got
        except ToolTimeout:
            if len(files) == 1:
                with self._lock:
                    self.timed_out.add(files[0])
                return {files[0]: None}
        out: Outcomes = {}
        for f in files:
            out.update(self._call(fn, [f], cwd))
        return out

    def _parallel(self, fn: Callable[..., Outcomes], batches: list[list[str]], cwd: Path) -> Outcomes:
        out: Outcomes = {}
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="moncheck-mutate")
        futures: list[Future[Outcomes]] = []
        try:
            futures = [pool.submit(self._call, fn, b, cwd) for b in batches]
            for fut in futures:
                out.update(fut.result())
        except BaseException:
            self._stop.set()
            for fut in futures:
                fut.cancel()
            stop_all()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return out

    # --------------------------------------------------------------- the run

    def run(self, rule_files: list[tuple[RuleFile, Path]], tests: list[tuple[Path, str]],
            only: Callable[[Mutant], bool] | None = None,
            extra: list[Mutant] | None = None,
            hints: hints_mod.Hints | None = None) -> RunResult:
        """``rule_files``: (parsed rule file, absolute path) to mutate; ``tests``: (absolute
        path, shown path) of the promtool test files to run. ``only`` keeps some of the
        generated mutants; ``extra`` adds mutants made elsewhere (of rules of ``rule_files``).
        ``hints``: the group that killed each mutant before, tried first (``mutate.hints``)."""
        self.hints = hints or {}
        t0 = time.perf_counter()
        self.timed_out: set[str] = set()
        rule_data: dict[Path, Any] = {}
        test_files = [scope.load_test_file(p, shown, rule_data) for p, shown in tests]
        result = RunResult([], test_files=[t.shown for t in test_files])
        with tempfile.TemporaryDirectory(prefix="moncheck-mutate-") as tmp_name:
            work = Path(tmp_name)
            base = self._baseline(test_files, rule_data, work)
            if base:
                result.baseline_failures = base
                result.elapsed_s = time.perf_counter() - t0
                result.promtool_calls = self.calls
                return result
            mutants: list[tuple[Mutant, Path]] = []
            paths = {rf.path: path.resolve() for rf, path in rule_files}
            for rf, path in rule_files:
                found, bad = file_mutants(rf)
                result.unparsable += [(r.file, r.expr_line, r.name, err) for r, err in bad]
                mutants += [(m, path.resolve()) for m in found if only is None or only(m)]
            mutants += [(m, paths[m.rule.file]) for m in extra or []]
            self.progress(f"{len(mutants)} mutants of {len(rule_files)} rule files, "
                          f"{len(test_files)} test files, {self.jobs} jobs")
            result.outcomes = self._mutants(mutants, test_files, rule_data, work)
        for o in result.outcomes:
            if o.status == KILLED and o.killer is not None:
                tf = test_files[o.killer[0]]
                result.hints[hints_mod.key(o.mutant)] = (tf.shown, _group_name(tf, o.killer[1]))
        result.elapsed_s = time.perf_counter() - t0
        result.promtool_calls = self.calls
        return result

    def _baseline(self, test_files: list[scope.TestFile], rule_data: dict[Path, Any],
                  work: Path) -> list[tuple[str, str]]:
        """(test file shown, "" or why there is no result) of the test files that fail
        without any mutation, rewritten like the mutants' copies."""
        d = work / "base"
        d.mkdir()
        items = []
        for k, tf in enumerate(test_files):
            arg = f"base/t{k}-{tf.path.name}"
            _write_test(work, arg, tf, rule_data, None, tf.groups)
            items.append(_Item(arg, tf.shown, len(tf.groups), None))
        if not items:
            return []
        # one file per call: its time is the cost estimate of its copies
        got = self._parallel(pt.test_rules_batch, [[i.arg] for i in items], work)
        self.cost = {i.shown: self.elapsed.get(i.arg, 0.0) for i in items}
        failed = []
        for i in items:
            res = got.get(i.arg)
            if res is None:
                failed.append((i.shown, f"promtool did not finish within {self.timeout:g}s"
                               if i.arg in self.timed_out else "promtool gave no result"))
            elif not res[0]:
                failed.append((i.shown, ""))
        return failed

    def _mutants(self, mutants: list[tuple[Mutant, Path]], test_files: list[scope.TestFile],
                 rule_data: dict[Path, Any], work: Path) -> list[Outcome]:
        outcomes = [Outcome(m, SURVIVED) for m, _ in mutants]
        # 1. stillborn: promtool check rules on every mutated rule file
        rule_args: list[str] = []
        mutated: list[Any] = []
        for i, (m, path) in enumerate(mutants):
            arg = f"m{i}/{path.name}"
            (work / f"m{i}").mkdir()
            if path not in rule_data:
                rule_data[path] = _load(path)
            mutated.append(m.apply(rule_data[path]))
            _write_yaml(work / arg, mutated[-1])
            rule_args.append(arg)
        checked = self._parallel(pt.check_rules_batch, _chunks(rule_args, CHECK_BATCH, self.jobs), work)
        # 2. which groups of which test files observe each mutant
        plans: dict[int, list[tuple[int, scope.TestFile, list[scope.GroupScope]]]] = {}
        for i, (m, path) in enumerate(mutants):
            res = checked.get(rule_args[i])
            if res is None:
                outcomes[i].status = TIMEOUT if rule_args[i] in self.timed_out else STILLBORN
                outcomes[i].detail = ("promtool check rules did not finish" if outcomes[i].status == TIMEOUT
                                      else "promtool check rules gave no result")
                continue
            if not res[0]:
                outcomes[i].status = STILLBORN
                outcomes[i].detail = " ".join(pt.failure_text(res[1]).split())
                continue
            for k, tf in enumerate(test_files):
                groups = scope.observers(tf, m.rule.name, m.rule.kind) if path in tf.rule_files else []
                if groups:
                    outcomes[i].tests.append(tf.shown)
                    outcomes[i].groups += len(groups)
                    if self.renaming:  # the fast way: also leave out what the input cannot tell
                        groups = [g for g in groups if not self._inert(m, k, tf, g, rule_data)]
                    if groups:
                        plans.setdefault(i, []).append((k, tf, groups))
            if i not in plans:
                outcomes[i].detail = "no test group observes this rule"
        # 3. run them in two rounds: first one observing group per mutant (most mutants die
        # there), then every other observing group of the mutants still alive. A mutant is killed
        # when any group fails, so the result is the same as running them all at once. A group
        # judges many mutants at once through renamed copies (``mutate.rename``) where that is
        # sound; the others run alone, one copy of the test file per mutant.
        pairs: dict[int, list[_Pair]] = {}
        for i, plan in plans.items():
            for k, tf, groups in plan:
                rp = rename.plan(tf, rule_data, i, mutants[i][0], mutants[i][1]) if self.renaming else None
                tests = tf.data.get("tests") or []
                for g in groups:
                    ok = rp is not None and rename.observable(rp, g, tests[g.index] if g.index < len(tests) else None)
                    pairs.setdefault(i, []).append(_Pair(i, k, tf, g, ok, rp))
        # Renamed pairs first, then the ones that run alone, each the cheapest groups first (by
        # the baseline's time per group of the file); rounds of growing size so that a mutant
        # killed early costs little and the last round still has many batches. After each
        # round, the files that killed most of what they ran come first (cost / kill rate).
        def order(p: _Pair) -> tuple[bool, float]:
            return not p.renamed, self.cost.get(p.tf.shown, 0.0) / max(1, len(p.tf.groups))

        todo = {i: sorted(ps, key=order) for i, ps in pairs.items()}
        # The first round spreads the mutants of one rule over its cheapest groups, so that the
        # next rounds know which groups kill that rule's mutants (the order only changes what
        # runs first: a mutant is still killed by any group, and a survivor runs them all).
        rank: dict[tuple[str, int], int] = {}
        for i in sorted(todo):
            ps = todo[i]
            hint = self.hints.get(hints_mod.key(mutants[i][0]))
            first = next((j for j, p in enumerate(ps)
                          if hint == (p.tf.shown, _group_name(p.tf, p.group.index))), None)
            if first is not None:  # the group that killed it last time
                ps.insert(0, ps.pop(first))
                continue
            key = _rule_key(mutants[i][0])
            j = rank.get(key, 0)
            rank[key] = j + 1
            off = j % min(SPREAD, len(ps))
            if off:
                ps.insert(0, ps.pop(off))
        stats = _Stats()
        for n, size in enumerate(ROUNDS):
            now = [p for i, ps in todo.items() if outcomes[i].status != KILLED
                   for p in (ps[:size] if size else ps)]
            if not now:
                break
            self.progress(f"round {n + 1}: {len(now)} test groups of {len({p.mutant for p in now})} "
                          "mutants still alive")
            self._round(now, outcomes, mutants, rule_data, mutated, work, f"r{n}")
            for p in now:
                o = outcomes[p.mutant]
                stats.add(p, _rule_key(o.mutant), o.mutant.operator,
                          o.status == KILLED and o.killer == (p.k, p.group.index))

            # The next rounds try first the groups that killed most of what they ran, for the
            # same rule and operator, the same rule, and overall (each estimate the prior of
            # the next), per second of their estimated cost.
            def learned(p: _Pair) -> tuple[bool, float]:
                m = mutants[p.mutant][0]
                return not p.renamed, order(p)[1] / stats.rate(p, _rule_key(m), m.operator)

            todo = {i: sorted(ps[size:], key=learned) if size else [] for i, ps in todo.items()}
        return outcomes

    def _inert(self, m: Mutant, k: int, tf: scope.TestFile, g: scope.GroupScope,
               rule_data: dict[Path, Any]) -> bool:
        """Whether group ``g`` of ``tf`` (number ``k``) cannot tell mutant ``m`` from the
        original on its input alone (``mutate.inert``): then it passes, as in the baseline."""
        if m.key != "expr" or m.value is None:
            return False
        key = (k, g.index)
        if key not in self._worlds:
            if k not in self._recorded:
                rules = [(str(r["record"]), str(r.get("expr", "")), r.get("labels") or {})
                         for _, _, _, r in rename.rules_of(tf, rule_data) if "record" in r]
                recorded = inert.recorded_label_sets(
                    [(n, e, {str(a): str(b) for a, b in ls.items()} if isinstance(ls, dict) else None)
                     for n, e, ls in rules])
                self._recorded[k] = recorded
            tests = tf.data.get("tests") or []
            series = inert.input_series(tests[g.index] if g.index < len(tests) else None)
            self._worlds[key] = None if series is None else inert.universe(series, self._recorded[k])
        world = self._worlds[key]
        if world is None or not inert.inert(m.rule.expr, m.value, world):
            return False
        self.pairs_inert += 1
        return True

    def _round(self, pairs: list[_Pair], outcomes: list[Outcome], mutants: list[tuple[Mutant, Path]],
               rule_data: dict[Path, Any], mutated: list[Any], work: Path, tag: str) -> None:
        renamed = [p for p in pairs if p.renamed]
        alone = self._judge_renamed(renamed, outcomes, mutants, rule_data, work, tag)
        self.pairs_renamed += len(renamed) - len(alone)
        alone += [p for p in pairs if not p.renamed]
        self.pairs_alone += len(alone)
        by_file: dict[tuple[int, int], list[scope.GroupScope]] = {}
        for p in alone:
            by_file.setdefault((p.mutant, p.k), []).append(p.group)
        items = []
        for (i, k), groups in by_file.items():
            tf = next(p.tf for p in alone if p.mutant == i and p.k == k)
            item = self._item(work, f"m{i}/{tag}-t{k}-{tf.path.name}", tf, rule_data,
                              (mutants[i][1], mutated[i]), groups, i)
            if len(groups) == 1:
                item.group = (k, groups[0].index)
            items.append(item)
        self._judge(items, outcomes, work)

    def _judge_renamed(self, pairs: list[_Pair], outcomes: list[Outcome],
                       mutants: list[tuple[Mutant, Path]], rule_data: dict[Path, Any], work: Path,
                       tag: str) -> list[_Pair]:
        """Judge ``pairs`` by renaming, batched per test group; the pairs it cannot conclude
        (a failure that maps to no mutant, a timeout) are returned, to be run alone."""
        buckets: dict[tuple[int, int], list[_Pair]] = {}
        for p in pairs:
            buckets.setdefault((p.k, p.group.index), []).append(p)
        n = max(1, -(-len(pairs) // (self.jobs * 2)))  # a few batches per job at least
        size = max(1, min(MAX_RENAMED, n))
        todo = [b[j : j + size] for b in buckets.values() for j in range(0, len(b), size)]
        fallback: list[_Pair] = []
        rounds = 0
        while todo:
            rounds += 1
            args = []
            for j, batch in enumerate(todo):
                arg = f"r/{tag}{rounds}-{j}/t{batch[0].k}-g{batch[0].group.index}.yml"
                self._write_renamed(work, arg, batch, mutants, rule_data)
                args.append(arg)
            got = self._parallel(pt.test_rules_batch, [[a] for a in args], work)
            again: list[list[_Pair]] = []
            for arg, batch in zip(args, todo, strict=True):
                res = got.get(arg)
                if res is None:
                    fallback += batch
                    continue
                if res[0]:
                    continue
                v = rename.verdicts(pt.failure_text(res[1]), {p.mutant for p in batch})
                if v is None:
                    fallback += batch
                    continue
                killed, stopped = v
                for p in batch:
                    if p.mutant in killed and outcomes[p.mutant].status != KILLED:
                        outcomes[p.mutant].status, outcomes[p.mutant].detail = KILLED, p.tf.shown
                        outcomes[p.mutant].killer = (p.k, p.group.index)
                left = [p for p in batch if p.mutant not in killed]
                if stopped and left:  # promtool stopped at a failing rule: the rest not judged
                    again.append(left)
            todo = again
        return fallback

    def _write_renamed(self, work: Path, arg: str, batch: list[_Pair],
                       mutants: list[tuple[Mutant, Path]], rule_data: dict[Path, Any]) -> None:
        tf, g = batch[0].tf, batch[0].group
        rps = [p.plan for p in batch if p.plan is not None]
        files = rename.rule_data_for(tf, rule_data, [(rp, *mutants[rp.index]) for rp in rps])
        test = rename.group_for((tf.data.get("tests") or [])[g.index], rps)
        nodes = [n for rf in tf.rule_files for n in scope.rule_nodes(files.get(rf))]
        alertnames = {str(t["alertname"]) for t in test["alert_rule_test"]}
        reads = {n for t in test["promql_expr_test"] for n in scope.reads_of(str(t["expr"]))}
        _write_copy(work, arg, tf, files, scope.cone(nodes, alertnames, reads), [test])

    def _item(self, work: Path, arg: str, tf: scope.TestFile, rule_data: dict[Path, Any],
              mutated: tuple[Path, Any] | None, groups: list[scope.GroupScope], mutant: int | None) -> _Item:
        _write_test(work, arg, tf, rule_data, mutated, groups)
        base = self.cost.get(tf.shown, 0.0)
        return _Item(arg, tf.shown, len(groups), mutant, base * len(groups) / max(1, len(tf.groups)))

    def _judge(self, items: list[_Item], outcomes: list[Outcome], work: Path) -> None:
        got = self._parallel(pt.test_rules_batch, self._batches(items), work) if items else {}
        for item in items:
            assert item.mutant is not None
            o = outcomes[item.mutant]
            res = got.get(item.arg)
            if o.status == KILLED:
                continue
            if res is None:
                o.status = TIMEOUT
                o.detail = (f"{item.shown}: promtool did not finish within {self.timeout:g}s"
                            if item.arg in self.timed_out else f"{item.shown}: promtool gave no result")
            elif not res[0]:
                o.status, o.detail, o.killer = KILLED, item.shown, item.group

    def _batches(self, items: list[_Item]) -> list[list[str]]:
        """Batches of similar estimated cost (from the baseline's time per test file), a few per
        job so that the pool stays busy, none longer than a quarter of the timeout."""
        total = sum(i.cost for i in items)
        target = min(self.timeout / 4, max(MIN_BATCH_S, total / (self.jobs * 4)))
        batches: list[list[str]] = []
        cur: list[str] = []
        cost = 0.0
        for it in sorted(items, key=lambda i: -i.cost):
            cur.append(it.arg)
            cost += it.cost
            if cost >= target or len(cur) >= MAX_TEST_BATCH:
                batches.append(cur)
                cur, cost = [], 0.0
        if cur:
            batches.append(cur)
        return batches


def _group_name(tf: scope.TestFile, index: int) -> str:
    tests = tf.data.get("tests") or []
    g = tests[index] if index < len(tests) else None
    name = g.get("name") if isinstance(g, dict) else None
    return str(name) if name is not None else f"#{index}"


def _rule_key(m: Mutant) -> tuple[str, int]:
    return m.rule.file, m.rule.line


class _Stats:
    """Kills and tries per test group: overall, per rule, per rule and operator."""

    def __init__(self) -> None:
        self.kills: dict[tuple[Any, ...], int] = {}
        self.tries: dict[tuple[Any, ...], int] = {}

    def _keys(self, p: _Pair, rule: tuple[str, int], op: str) -> list[tuple[Any, ...]]:
        g = (p.k, p.group.index)
        return [g, (*g, rule), (*g, rule, op)]

    def add(self, p: _Pair, rule: tuple[str, int], op: str, killed: bool) -> None:
        for key in self._keys(p, rule, op):
            self.tries[key] = self.tries.get(key, 0) + 1
            self.kills[key] = self.kills.get(key, 0) + killed

    def rate(self, p: _Pair, rule: tuple[str, int], op: str) -> float:
        est = 0.5
        for key in self._keys(p, rule, op):
            est = (self.kills.get(key, 0) + est) / (self.tries.get(key, 0) + 1)
        return max(est, 1e-3)


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# libyaml's emitter when PyYAML has it: these copies are read by promtool only, and the pure
# Python emitter was a quarter of a whole run's CPU.
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _write_yaml(path: Path, data: Any) -> None:
    # A private temporary directory, removed afterwards: no need for moncheck.atomic here.
    path.write_text(yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")


def _write_test(work: Path, arg: str, tf: scope.TestFile, rule_data: dict[Path, Any],
                mutated: tuple[Path, Any] | None, groups: list[scope.GroupScope]) -> None:
    """Write the copy ``arg`` of ``tf`` holding ``groups``, beside copies of its rule files
    pruned to what those groups depend on (``mutated``: a rule file's path and mutated data)."""
    files = dict(rule_data)
    if mutated is not None:
        files[mutated[0]] = mutated[1]
    tests = tf.data.get("tests") or []
    _write_copy(work, arg, tf, files, scope.needed(tf, groups), [tests[g.index] for g in groups])


def _write_copy(work: Path, arg: str, tf: scope.TestFile, files: dict[Path, Any],
                keep: set[tuple[str, str]] | None, tests: list[Any]) -> None:
    """Write test file ``arg`` (``tf``'s settings, groups ``tests``) loading copies of ``tf``'s
    rule files taken from ``files`` (absolute path -> data) pruned to ``keep``."""
    path = work / arg
    path.parent.mkdir(parents=True, exist_ok=True)
    rule_paths = []
    for j, rf in enumerate(tf.rule_files):
        data = files.get(rf)
        if data is None:  # unreadable: let promtool say so about the original
            rule_paths.append(str(rf))
            continue
        copy = path.with_name(f"{path.stem}-r{j}-{rf.name}")
        _write_yaml(copy, scope.prune(data, keep))
        rule_paths.append(copy.name)
    data = {k: v for k, v in tf.data.items() if k not in ("rule_files", "tests")}
    data["rule_files"] = rule_paths
    data["tests"] = tests
    _write_yaml(path, data)


def _chunks(args: list[str], size: int, jobs: int) -> list[list[str]]:
    size = max(1, min(size, -(-len(args) // jobs)))
    return [args[i : i + size] for i in range(0, len(args), size)]
