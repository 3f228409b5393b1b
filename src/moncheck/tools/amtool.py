"""``amtool`` wrapper: config check, routing tests, and inhibition tests (evaluated here).

Secrets referenced by ``*_file`` options (``routing_key_file``, ``auth_password_file``,
``slack_api_url_file``...) are NOT read by ``amtool check-config`` (verified on Alertmanager
0.25: a config naming missing secret files checks SUCCESS; Alertmanager reads them only when it
sends a notification). So the config is checked as is, with no placeholder copy.
"""

from __future__ import annotations

import glob
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from moncheck import alertmanager as am
from moncheck import yamlpos
from moncheck.findings import Finding, error
from moncheck.tools import (
    LINE_ITEM,
    QUOTED,
    TIMEOUT_S,
    ToolError,
    display_path,
    find_binary,
    first_content_line,
    line_of_text,
    run,
)

CONFIG = "amtool/check-config"
ROUTING = am.ROUTING_TESTS_CHECK

_CHECKING = re.compile(r"^Checking '(?P<arg>.+?)'\s*(?P<rest>.*)$")
_YAML_LINE = re.compile(r"yaml: line (?P<line>\d+): (?P<msg>.*)$")
_TEMPLATE = re.compile(r"template: (?P<name>[^:\s]+):(?P<line>\d+):(?:\d+:)? ?(?P<msg>.*)$")


def amtool() -> str:
    return find_binary("amtool")


def _template_file(config: Path, name: str) -> Path | None:
    """The template file called ``name`` among the config's ``templates`` globs."""
    try:
        data = yamlpos.load(config)
    except yamlpos.LoadError:
        return None
    for pattern in (data or {}).get("templates") or []:
        if isinstance(pattern, str):
            full = pattern if Path(pattern).is_absolute() else str(config.parent / pattern)
            for hit in glob.glob(full):
                if Path(hit).name == name:
                    return Path(hit)
    return None


def _failure_findings(msg: str, config: Path, shown: str, repo: Path) -> list[Finding]:
    first, _, more = msg.partition("\n")
    items = [LINE_ITEM.match(x) for x in more.splitlines() if x.strip()]
    if "unmarshal errors" in first and items and all(items):
        return [
            error(CONFIG, shown, int(i.group("line")), "invalid YAML: " + i.group("msg"))
            for i in items
            if i
        ]
    m = _YAML_LINE.search(first)
    if m:
        return [error(CONFIG, shown, int(m.group("line")), "invalid YAML: " + m.group("msg"))]
    m = _TEMPLATE.search(first)
    if m:
        tmpl = _template_file(config, m.group("name"))
        if tmpl is not None:
            return [error(CONFIG, display_path(tmpl, repo), int(m.group("line")), first)]
    line = 0
    for token in QUOTED.findall(first):
        line = line_of_text(config, token)
        if line > 1:
            break
    words = " ".join(msg.split())
    if line <= 1:  # no position and no token found: the first line, with amtool's own words
        return [error(CONFIG, shown, first_content_line(config), f'amtool check-config: "{words}"')]
    return [error(CONFIG, shown, line, words)]


def check_config(path: Path, repo: Path) -> list[Finding]:
    """``amtool check-config`` on an Alertmanager config (templates resolved from its dir)."""
    shown = display_path(path, repo)
    if not path.is_file():
        return [error(CONFIG, shown, 1, "file not found")]
    arg = shown if not Path(shown).is_absolute() else str(path.resolve())
    proc = run([amtool(), "check-config", arg], cwd=repo)
    if proc.returncode == 0:
        return []
    # "Checking 'x'  FAILED: msg" + continuation lines, up to the blank line.
    lines = proc.stdout.splitlines()
    for i, raw in enumerate(lines):
        m = _CHECKING.match(raw)
        if m and m.group("arg") == arg:
            rest = [m.group("rest")]
            for j in range(i + 1, len(lines)):
                if not lines[j].strip():
                    break
                rest.append(lines[j])
            failed = [k for k, x in enumerate(rest) if "FAILED:" in x]
            if failed:
                k = failed[-1]
                msg = rest[k].split("FAILED:", 1)[1].strip()
                msg = "\n".join([msg, *rest[k + 1 :]])
                return _failure_findings(msg, path, shown, repo)
    text = " ".join(x.strip() for x in lines if x.strip())
    return [error(CONFIG, shown, 1, f"amtool check-config failed (exit {proc.returncode}): {text}")]


def _label_arg(name: str, value: str) -> str:
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}="{escaped}"'


def routes(config: Path, labels: dict[str, str]) -> list[str]:
    """Receivers (in routing-tree order) an alert with ``labels`` is routed to, per amtool."""
    argv = [amtool(), "config", "routes", "test", f"--config.file={config.resolve()}"]
    argv += [_label_arg(k, v) for k, v in labels.items()]
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"amtool config routes test did not finish within {TIMEOUT_S}s") from None
    if proc.returncode != 0:
        err = " ".join(x for x in proc.stderr.splitlines() if "overrides" not in x).strip()
        raise ToolError(f"amtool config routes test failed: {err or proc.stdout.strip()}")
    out = proc.stdout.strip()
    return [r for r in out.split(",") if r] if out else []


Loaded = tuple[am.Config | yamlpos.LoadError, list[am.Case] | yamlpos.LoadError]


def run_routing_tests(config: Path, tests_file: Path, repo: Path, loaded: Loaded | None = None) -> list[Finding]:
    """Run every case of a routing-tests file: route cases through amtool, inhibition cases on the
    model (amtool cannot test them). One ``amtool/routing-tests`` finding per failing or malformed
    case, or one for a file that is not a routing-tests file. ``loaded``: the config model and the
    cases as the inventory already has them (else they are loaded here)."""
    try:
        results = run_routing_cases(config, tests_file, repo, loaded)
    except yamlpos.LoadError as e:
        return [error(ROUTING, e.path, e.line, f"routing tests not run: {e.message}")]
    return [f for _, f in results if f is not None]


def routing_cases(tests_file: Path, repo: Path) -> list[am.Case]:
    """The cases of ``tests:`` then ``inhibit_tests:``; ``yamlpos.LoadError`` on bad YAML or layout."""
    shown = display_path(tests_file, repo)
    return am.parse_routing_tests(yamlpos.load(tests_file, shown), shown)


def _model(config: Path, repo: Path) -> am.Config | yamlpos.LoadError:
    shown = display_path(config, repo)
    try:
        return am.parse_config(yamlpos.load(config, shown), shown)
    except yamlpos.LoadError as e:
        return e  # reported on each inhibition case; route cases still run on amtool


def run_routing_cases(config: Path, tests_file: Path, repo: Path,
                      loaded: Loaded | None = None) -> list[tuple[str, Finding | None]]:
    """(case name, finding or None when it passes) for every case, in file order."""
    shown = display_path(tests_file, repo)
    model, cases = loaded if loaded is not None else (_model(config, repo), None)
    if isinstance(cases, yamlpos.LoadError):
        raise cases
    cases = cases if cases is not None else routing_cases(tests_file, repo)
    amtool()  # ToolMissing now, not once per case
    with ThreadPoolExecutor(max_workers=4) as pool:  # amtool starts in ~20 ms
        found = pool.map(lambda c: am.run_case(c, model, shown, lambda labels: routes(config, labels)), cases)
        return [(c.name, f) for c, f in zip(cases, found)]


def run_routing_case(config: Path, tests_file: Path, repo: Path, index: int) -> Finding | None:
    """Run case ``index`` (0-based) of a routing-tests file: a finding, or None if it passes."""
    case = routing_cases(tests_file, repo)[index]
    model = _model(config, repo)
    return am.run_case(case, model, display_path(tests_file, repo), lambda labels: routes(config, labels))
