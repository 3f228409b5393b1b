"""``promtool`` wrapper: rule and config checks and rule unit tests, as findings.

Files are checked in ONE promtool invocation (about 75 ms of start-up each). stdout and stderr
are merged so that each error follows the ``Checking <file>`` header of its file.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from moncheck import toolchain, yamlpos
from moncheck.findings import Finding, error, warning
from moncheck.toolchain import syntax
from moncheck.tools import (
    LINE_ITEM,
    QUOTED,
    display_path,
    find_binary,
    line_of_text,
    run,
    testfail,
)

RULES = "promtool/check-rules"
CONFIG = "promtool/check-config"
TESTS = "promtool/test-rules"

_POS = re.compile(r"^(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")
_YAML_LINE = re.compile(r"^yaml: line (?P<line>\d+): (?P<msg>.*)$")
_RULE_REF = re.compile(r'group "(?P<group>[^"]*)", rule (?P<index>\d+)')
_LINT_METRIC = re.compile(r"Metric: (\S+)")
_NO_MATCH = re.compile(r"no file match pattern (\S+)")
_REPEATED_GROUP = re.compile(r'groupname: "([^"]*)" is repeated')
_MAX_MSG = 400


def promtool() -> str:
    return find_binary("promtool")


@dataclass
class _Section:
    """Output that followed one ``Checking <file>`` / ``Unit Testing: <file>`` header."""

    arg: str
    lines: list[str] = field(default_factory=list)


def _sections(output: str, header: re.Pattern[str]) -> tuple[list[str], list[_Section]]:
    """Split merged output into (lines before any header, sections)."""
    before: list[str] = []
    sections: list[_Section] = []
    for raw in output.splitlines():
        m = header.match(raw)
        if m:
            sections.append(_Section(m.group("arg").strip()))
        elif sections:
            sections[-1].lines.append(raw)
        else:
            before.append(raw)
    return before, sections


def _one_line(text: str) -> str:
    s = " ".join(text.split())
    return s if len(s) <= _MAX_MSG else s[: _MAX_MSG - 3] + "..."


def _arg_for(path: Path, repo: Path) -> tuple[str, str]:
    """(argument passed to promtool run in ``repo``, path shown in findings)."""
    shown = display_path(path, repo)
    return (shown if not Path(shown).is_absolute() else str(path.resolve())), shown


def _args_for(files: list[Path], repo: Path) -> dict[str, tuple[str, Path]]:
    """promtool's argument for each file -> (path shown in findings, real path)."""
    args = {}
    for f in files:
        arg, shown = _arg_for(f, repo)
        args[arg] = (shown, f)
    return args


def _line_of_regex(path: Path, pattern: str) -> int:
    rx = re.compile(pattern)
    try:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if rx.search(line):
                return i
    except (OSError, UnicodeDecodeError):
        pass
    return 1


def _rule_line(path: Path, group: str, index: int) -> int:
    """Line of rule ``index`` (1-based) of group ``group`` in a rule file, 1 when unknown."""
    try:
        data = yamlpos.load(path)
        for g in data.get("groups") or []:
            if isinstance(g, dict) and g.get("name") == group:
                rules = g.get("rules")
                if isinstance(rules, yamlpos.LocList) and 0 < index <= len(rules):
                    return rules.item_lines[index - 1]
                return yamlpos.line_of(g)
    except (yamlpos.LoadError, AttributeError):
        pass
    return 1


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _locate(msg: str, path: Path) -> int:
    """Best line for a message without position: a named rule, else a quoted token."""
    m = _REPEATED_GROUP.search(msg)
    if m:  # the second group of that name
        hits = [i for i, ln in enumerate(_lines(path), 1)
                if re.match(rf"^\s*-?\s*name:\s*['\"]?{re.escape(m.group(1))}['\"]?\s*$", ln)]
        return hits[1] if len(hits) > 1 else (hits[0] if hits else 1)
    m = _RULE_REF.search(msg)
    if m:
        return _rule_line(path, m.group("group"), int(m.group("index")))
    m = _LINT_METRIC.search(msg)
    if m:
        return _line_of_regex(path, rf"^\s*-?\s*(alert|record):\s*['\"]?{re.escape(m.group(1))}\b")
    m = _NO_MATCH.search(msg)
    if m:
        return line_of_text(path, Path(m.group(1)).name)
    for token in QUOTED.findall(msg):
        for needle in (token, Path(token).name):
            line = line_of_text(path, needle)
            if line > 1:
                return line
    return 1


def _entries(lines: list[str], prefix: str) -> list[str]:
    """Group error lines into entries: a line starting with ``prefix`` (or ``lint error``, or
    ``FAILED:`` with a message) starts an entry; other non-empty lines continue it."""
    entries: list[str] = []
    for raw in lines:
        s = raw.strip()
        if not s or s in ("FAILED:", "SUCCESS") or s.startswith("SUCCESS:"):
            continue
        if s.startswith(prefix + ":") or s.startswith("lint error") or s.startswith("FAILED:") or s.startswith("WARNING:"):
            entries.append(s)
        elif entries:
            entries[-1] += "\n" + s
        else:
            entries.append(s)
    return entries


def _entry_findings(check: str, entry: str, arg: str, shown: str, path: Path) -> list[Finding]:
    body = entry
    if body.startswith(arg + ":"):
        body = body[len(arg) + 1 :].strip()
    if body.startswith("lint error"):
        return [warning(check, shown, _locate(body, path), _one_line(body))]
    if body.startswith("WARNING:"):
        body = body[len("WARNING:") :].strip()
        return [warning(check, shown, _locate(body, path), _one_line(body))]
    if body.startswith("FAILED:"):
        body = body[len("FAILED:") :].strip()
    # "parsing YAML file X: yaml: ..." (check config) -> keep the yaml part.
    if body.startswith("parsing YAML file "):
        _, _, rest = body.partition(": ")
        body = rest or body
    first, _, more = body.partition("\n")
    m = _POS.match(first)
    if m and m.group("line") != "0":  # promtool 3 says 0:0 where it has no position
        return [error(check, shown, int(m.group("line")), _one_line(m.group("msg") + " " + more))]
    if m:
        body = m.group("msg") + (("\n" + more) if more else "")
        first = m.group("msg")
    m = _YAML_LINE.match(first)
    if m:
        return [error(check, shown, int(m.group("line")), "invalid YAML: " + m.group("msg"))]
    items = [LINE_ITEM.match(x) for x in more.splitlines()]
    if first.rstrip(":").endswith("unmarshal errors") and items and all(items):
        return [
            error(check, shown, int(i.group("line")), "invalid YAML: " + i.group("msg"))
            for i in items
            if i
        ]
    return [error(check, shown, _locate(body, path), _one_line(body))]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def _missing(files: list[Path], repo: Path, check: str) -> tuple[list[Path], list[Finding]]:
    present, found = [], []
    for f in files:
        if f.is_file():
            present.append(f)
        else:
            found.append(error(check, display_path(f, repo), 1, "file not found"))
    return present, found


def _fallback(check: str, shown: str, proc_rc: int, output: str) -> Finding:
    text = "\n".join(x for x in output.splitlines() if x.strip() and "SUCCESS" not in x)
    return error(check, shown, 1, _one_line(f"promtool failed (exit {proc_rc}): {text}"))


_CHECKING = re.compile(r"^Checking (?P<arg>.+)$")


def _parse_check(
    check: str, output: str, args: dict[str, tuple[str, Path]]
) -> list[Finding]:
    """Findings from ``check rules``/``check config`` output; ``args`` maps promtool's path
    argument to (shown path, real path)."""
    findings: list[Finding] = []
    _, sections = _sections(output, _CHECKING)
    for sec in sections:
        shown, path = args.get(sec.arg, (sec.arg, Path(sec.arg)))
        for entry in _entries(sec.lines, sec.arg):
            findings.extend(_entry_findings(check, entry, sec.arg, shown, path))
    return findings


def check_rules(files: list[Path], repo: Path) -> list[Finding]:
    """``promtool check rules`` on ``files`` (one invocation); findings at file:line."""
    present, findings = _missing(files, repo, RULES)
    if not present:
        return findings
    present, v3 = _split_v3(present, repo)
    findings += v3
    if present:
        findings += _check_rules_with(promtool(), present, repo)
    return _dedupe(findings)


def _check_rules_with(exe: str, files: list[Path], repo: Path) -> list[Finding]:
    args = _args_for(files, repo)
    proc = run([exe, "check", "rules", *args], cwd=repo)
    parsed = _parse_check(RULES, proc.stdout, args)
    if proc.returncode != 0 and not any(f.severity.value == "error" for f in parsed):
        parsed.append(_fallback(RULES, next(iter(args.values()))[0], proc.returncode, proc.stdout))
    return parsed


def _split_v3(files: list[Path], repo: Path) -> tuple[list[Path], list[Finding]]:
    """On a 2.x toolchain, rule files with Prometheus-3-only syntax are checked with toolchain 3's
    promtool (its findings say so), or get one finding saying why they cannot be checked."""
    if toolchain.major("promtool") >= 3:
        return files, []
    v3 = {f: hit for f in files if (hit := syntax.v3_only(f))}
    if not v3:
        return files, []
    rest = [f for f in files if f not in v3]
    newer = next((n for n in toolchain.names() if toolchain.find_in("promtool", n)
                  and toolchain.major("promtool", n) >= 3), None)
    if newer is None:
        return rest, [error(RULES, display_path(f, repo), line,
                            f"uses {what}, which needs Prometheus 3; the {toolchain.tag('promtool')} "
                            "cannot check it", hint="run `make setup` to fetch toolchain 3")
                      for f, (line, what) in v3.items()]
    tag = f" [{toolchain.tag('promtool', newer)}]"
    found = _check_rules_with(toolchain.binary("promtool", newer), list(v3), repo)
    return rest, [replace(f, message=f.message + tag) for f in found]


def check_config(path: Path, repo: Path, *, include_rules: bool = False) -> list[Finding]:
    """``promtool check config``. Prometheus resolves ``rule_files`` globs relative to the
    config file's directory, so this works from any cwd. promtool also checks the rule files
    the config references; their errors are ``check_rules``' job, so by default they are left
    out here (the gate runs both; ``include_rules=True`` keeps them)."""
    present, findings = _missing([path], repo, CONFIG)
    if not present:
        return findings
    arg, shown = _arg_for(path, repo)
    argv = [promtool(), "check", "config", arg]
    if not include_rules:
        argv.insert(3, "--lint=none")
    proc = run(argv, cwd=repo)
    args = {arg: (shown, path)}
    parsed = _parse_check(CONFIG, proc.stdout, args)
    if not include_rules:
        parsed = [f for f in parsed if f.path == shown]
    findings += parsed
    if proc.returncode != 0 and not any(f.severity.value == "error" for f in parsed):
        if include_rules or not _rule_errors_only(proc.stdout, arg):
            findings.append(_fallback(CONFIG, shown, proc.returncode, proc.stdout))
    return _dedupe(findings)


def _rule_errors_only(output: str, config_arg: str) -> bool:
    """True when every FAILED section of ``check config`` output is a rule file's."""
    _, sections = _sections(output, _CHECKING)
    failed = [s for s in sections if any("FAILED" in x for x in s.lines)]
    return bool(failed) and all(s.arg != config_arg for s in failed)


# ---------------------------------------------------------------- rule unit tests

_UNIT = re.compile(r"^Unit Testing:\s+(?P<arg>.+)$")


@dataclass(frozen=True)
class TestGroup:
    """One entry of a promtool test file's ``tests:`` list."""

    index: int
    name: str
    line: int
    alerts: tuple[str, ...] = ()  # alertnames its alert_rule_test entries test


def test_groups(path: Path, display: str | None = None) -> list[TestGroup]:
    """The groups of a promtool test file, named by ``name:``, else by the alerts they test
    (``alert_rule_test`` alertnames joined by ``+``, so ``pytest -k AlertName`` selects them), else
    ``group<N>`` (1-based); made unique. Raises ``yamlpos.LoadError`` on unreadable files."""
    data = yamlpos.load(path, display)
    tests = data.get("tests") if isinstance(data, dict) else None
    if not isinstance(tests, yamlpos.LocList):
        return []
    groups, seen = [], set()
    for i, g in enumerate(tests):
        name = g.get("name") if isinstance(g, dict) else None
        alerts = _alerts_tested(g)
        name = str(name) if name else "+".join(alerts) or f"group{i + 1}"
        base, n = name, 2
        while name in seen:
            name, n = f"{base}#{n}", n + 1
        seen.add(name)
        groups.append(TestGroup(i, name, tests.item_lines[i], alerts))
    return groups


def _alerts_tested(group: Any) -> tuple[str, ...]:
    tests = group.get("alert_rule_test") if isinstance(group, dict) else None
    names = [str(t["alertname"]) for t in tests or [] if isinstance(t, dict) and t.get("alertname")]
    return tuple(dict.fromkeys(names))


def _newer_promtool() -> str | None:
    """A promtool of 3.x from another toolchain when the selected one is 2.x (None otherwise)."""
    if toolchain.major("promtool") >= 3:
        return None
    for name in toolchain.names():
        exe = toolchain.find_in("promtool", name)
        if exe and toolchain.major("promtool", name) >= 3:
            return exe
    return None


def promtool_for_tests(path: Path) -> str:
    """The promtool to run test file ``path`` with: the selected one, or a 3.x one when a rule
    file it loads uses Prometheus-3-only syntax that promtool 2 cannot read."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return promtool()
    patterns = data.get("rule_files") if isinstance(data, dict) else None
    for pattern in patterns if isinstance(patterns, list) else []:
        for hit in sorted(glob.glob(str(path.parent / str(pattern)))):
            if syntax.v3_only(Path(hit)):
                return _newer_promtool() or promtool()
    return promtool()


def run_test_file(path: Path) -> tuple[bool, str]:
    """``promtool test rules path`` (cwd = the file's directory) -> (passed, output)."""
    proc = run([promtool_for_tests(path), "test", "rules", path.name], cwd=path.parent)
    return proc.returncode == 0, proc.stdout


def _abs_rule_files(rule_files: Any, base: Path) -> Any:
    if not isinstance(rule_files, list):
        return rule_files
    return [str(base / r) if isinstance(r, str) and not Path(r).is_absolute() else r for r in rule_files]


def run_test_group(path: Path, index: int) -> tuple[bool, str]:
    """Run only group ``index`` of a test file: a temp file holding that group, the same
    settings and ``rule_files`` made absolute (relative ones are relative to the test file)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        return False, f"cannot load {path}: {e}"
    one = {k: v for k, v in data.items() if k != "tests"}
    one["rule_files"] = _abs_rule_files(data.get("rule_files"), path.parent.resolve())
    one["tests"] = [data["tests"][index]]
    with tempfile.TemporaryDirectory(prefix="moncheck-group-") as tmp:
        f = Path(tmp) / path.name
        f.write_text(yaml.safe_dump(one, sort_keys=False), encoding="utf-8")
        proc = run([promtool_for_tests(path), "test", "rules", f.name], cwd=Path(tmp))
    out = proc.stdout.replace(str(f), str(path)).replace(f.name, path.name)
    return proc.returncode == 0, out


def failure_text(output: str) -> str:
    """The failure part of ``promtool test rules`` output (without the header/SUCCESS lines)."""
    lines = [x for x in output.splitlines() if not _UNIT.match(x) and x.strip() != "FAILED:"]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return textwrap.dedent("\n".join(lines))


def _file_level(output: str, path: Path, shown: str) -> list[Finding]:
    """Errors of the test file itself (YAML, series syntax) rather than of a group."""
    found: list[Finding] = []
    for e in _entries(output.splitlines(), str(path)):
        if e.startswith("yaml:"):
            found.extend(_entry_findings(TESTS, e, str(path), shown, path))
        else:  # e.g. "1:4: parse error ..." is a position inside a series string
            found.append(error(TESTS, shown, _locate(e, path), _one_line(e)))
    return found


def test_rules(test_files: list[Path], repo: Path) -> list[Finding]:
    """``promtool test rules`` on all files at once; for a failing file, each group is run
    alone so that there is one finding per failing group, at the group's line."""
    present, findings = _missing(test_files, repo, TESTS)
    if not present:
        return findings
    args = _args_for(present, repo)
    by_exe: dict[str, list[str]] = {}
    for arg, (_, path) in args.items():
        by_exe.setdefault(promtool_for_tests(path), []).append(arg)
    chunks = [(exe, chunk) for exe, files in by_exe.items()
              for chunk in _balanced(files, {a: _size(args[a][1]) for a in files}, os.cpu_count() or 1)]
    # promtool evaluates the files of one call one after another on one core; the generated SLO
    # tests take seconds each, so the calls run side by side (tools.run is thread-safe).
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        procs = list(pool.map(lambda c: run([c[0], "test", "rules", *c[1]], cwd=repo), chunks))
    runs = [(p, chunk) for p, (_, chunk) in zip(procs, chunks)]
    sections = [sec for p, chunk in runs for sec in _unit_sections(p.stdout, chunk)]
    proc = subprocess.CompletedProcess([], max(p.returncode for p, _ in runs), "\n".join(p.stdout for p, _ in runs))
    failed_args = set()
    for sec in sections:
        shown, path = args.get(sec.arg, (sec.arg, Path(sec.arg)))
        for raw in sec.lines:
            if raw.strip().startswith("WARNING:"):
                msg = raw.strip()[len("WARNING:") :].strip()
                findings.append(warning(TESTS, shown, _locate(msg, path), msg))
        if any(x.strip() == "FAILED:" for x in sec.lines):
            failed_args.add(sec.arg)
    if proc.returncode != 0 and not failed_args:
        failed_args = set(args)  # unknown output format: examine every file
    outputs = {sec.arg: "\n".join(sec.lines) for sec in sections}
    for arg in args:
        if arg in failed_args:
            shown, path = args[arg]
            findings.extend(_test_file_findings(path, shown, outputs.get(arg)))
    return _dedupe(findings)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _balanced(files: list[str], cost: dict[str, int], n: int) -> list[list[str]]:
    """``files`` in at most ``n`` chunks of similar total cost (largest first, each to the
    lightest chunk), each chunk in the original order."""
    bins: list[tuple[int, list[str]]] = [(0, []) for _ in range(max(1, min(n, len(files))))]
    for f in sorted(files, key=lambda f: -cost.get(f, 0)):
        i = min(range(len(bins)), key=lambda k: bins[k][0])
        bins[i] = (bins[i][0] + cost.get(f, 0), [*bins[i][1], f])
    order = {f: i for i, f in enumerate(files)}
    return [sorted(b, key=order.__getitem__) for _, b in bins if b]


@dataclass
class FileFailure:
    """Why a test file failed: ``file_level`` findings (broken YAML, rules that fail every
    group the same way), and the message of each failing group (by group index)."""

    groups: list[TestGroup]
    messages: dict[int, str] = field(default_factory=dict)
    file_level: list[Finding] = field(default_factory=list)


def file_failure(path: Path, shown: str, whole: str | None = None) -> FileFailure:
    """Analyse a failing test file. ``whole`` is the output of the whole file's run (run when
    None). Entries are attributed to their group from that output; only when that is ambiguous
    are groups re-run alone. Each message names the group, its first difference and carries
    promtool's full text (never cut)."""
    if whole is None:
        whole = run_test_file(path)[1]
    text = failure_text(whole)
    if text.startswith("yaml:"):
        return FileFailure([], file_level=_file_level(text, path, shown))
    try:
        groups = test_groups(path, shown)
        data = yamlpos.load(path, shown)
    except yamlpos.LoadError as e:
        return FileFailure([], file_level=[error(TESTS, e.path, e.line, e.message)])
    tests = data.get("tests") if isinstance(data, dict) else None
    raw = [(str(t.get("name") or "") if isinstance(t, dict) else "", t) for t in tests or []]
    found = testfail.entries(text)
    by_group: dict[int, list[testfail.Entry]] = {}
    unsure: list[tuple[testfail.Entry, list[int]]] = []
    for ent in found:
        c = testfail.candidates(ent, raw)
        if len(c) == 1:
            by_group.setdefault(c[0], []).append(ent)
        else:
            unsure.append((ent, c))
    res = FileFailure(groups)
    if found and not unsure:
        res.messages = {i: testfail.describe(groups[i].name, es) for i, es in sorted(by_group.items())}
        return res
    results = [(g, *run_test_group(path, g.index)) for g in groups]
    failing = [(g, out) for g, ok, out in results if not ok]
    if not failing:
        # It failed with the whole file but passes group by group: a flaky expectation.
        flaky = " (it passed when its group was re-run alone: the expectation is flaky)"
        for ent, c in unsure:
            if c:
                by_group.setdefault(c[0], []).append(ent)
        res.messages = {i: testfail.describe(groups[i].name, es) + flaky for i, es in sorted(by_group.items())}
        if not res.messages:
            res.file_level = [error(TESTS, shown, 1, (text or "promtool test rules failed") + flaky)]
        return res
    if len(failing) > 1 and len({out for _, out in failing}) == 1:
        # Every group fails the same way: the rules (or settings) are broken, not a group.
        msg = failure_text(failing[0][1])
        res.file_level = [error(TESTS, shown, _line_of_regex(path, r"^rule_files\s*:"), msg)]
        res.messages = {g.index: msg for g, _ in failing}
        return res
    res.messages = {g.index: testfail.describe(g.name, testfail.entries(failure_text(out)))
                    for g, out in failing}
    return res


def _test_file_findings(path: Path, shown: str, whole: str | None) -> list[Finding]:
    """One finding per failing group, at the group's line (or the file-level ones)."""
    f = file_failure(path, shown, whole)
    if f.file_level:
        return f.file_level
    return [error(TESTS, shown, f.groups[i].line, msg) for i, msg in sorted(f.messages.items())]


# ---------------------------------------------------------------- batches (mutation testing)


_STATUS = re.compile(r"^  (SUCCESS|FAILED:)")


def _unit_sections(output: str, files: list[str]) -> list[_Section]:
    """Per-file sections of ``promtool test rules`` output. promtool 2.x heads each file with
    ``Unit Testing: <file>``; promtool 3.x prints no header, only one ``  SUCCESS`` or
    ``  FAILED:`` line per file, in argument order (its errors follow the FAILED line)."""
    _, sections = _sections(output, _UNIT)
    if sections:
        return sections
    out: list[_Section] = []
    for raw in output.splitlines():
        if _STATUS.match(raw) and len(out) < len(files):
            out.append(_Section(files[len(out)]))
        if out:
            out[-1].lines.append(raw)
    return out if len(out) == len(files) else []


def _outcomes(output: str, header: re.Pattern[str], files: list[str]) -> dict[str, tuple[bool, str] | None]:
    """For each file of a batch: (passed, its part of the output), None when promtool printed
    nothing about it (it stopped before reaching the file)."""
    sections = _unit_sections(output, files) if header is _UNIT else _sections(output, header)[1]
    out: dict[str, tuple[bool, str] | None] = dict.fromkeys(files)
    for sec in sections:
        if sec.arg in out:
            text = "\n".join(sec.lines)
            failed = any(x.strip().startswith("FAILED") for x in sec.lines)
            ok = not failed and any(x.strip().startswith("SUCCESS") for x in sec.lines)
            out[sec.arg] = (ok, text)
    return out


def check_rules_batch(files: list[str], cwd: Path, timeout: float,
                      binary: str | None = None) -> dict[str, tuple[bool, str] | None]:
    """``promtool check rules`` on many files (paths relative to ``cwd``) in one call."""
    proc = run([binary or promtool(), "check", "rules", *files], cwd=cwd, timeout=timeout)
    return _outcomes(proc.stdout, _CHECKING, files)


def test_rules_batch(files: list[str], cwd: Path, timeout: float,
                     binary: str | None = None) -> dict[str, tuple[bool, str] | None]:
    """``promtool test rules`` on many test files (paths relative to ``cwd``) in one call."""
    proc = run([binary or promtool(), "test", "rules", *files], cwd=cwd, timeout=timeout)
    return _outcomes(proc.stdout, _UNIT, files)
