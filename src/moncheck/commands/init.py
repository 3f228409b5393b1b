"""``moncheck init``: inspect a repository, write ``moncheck.yml`` from what is there, and say
what ``moncheck check`` will check.

Every YAML/JSON file (outside hidden and vendored folders) is classified by content, the way loose
paths are: rule files and PrometheusRule resources, promtool tests, Alertmanager and Prometheus
configs, routing tests, catalogs, SLO specs, dashboards; drills, uptime files and runbooks by their
folder. A folder whose files are all of one kind becomes one glob, other files are listed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from moncheck import config as config_mod
from moncheck import templated, yamlpos

SKIP_DIRS = {"fixtures", "testdata", "node_modules", "vendor", "venv", "site-packages", "__pycache__", "dist-newstyle", "target", "build"}
MAX_FILE_BYTES = 2_000_000
MAX_FILES = 20_000
TEMPLATED = "templated"
EMPTY = "empty"
POLICY_CANDIDATES = ("policies/policy.yml", "moncheck-policy.yml", ".moncheck/policy.yml")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "init",
        help="inspect a repository and write moncheck.yml (where its monitoring artifacts live)",
        description="Find the rule files, promtool tests, Alertmanager config, routing tests, "
        "dashboards, SLO specs, catalog, drills and policy of a repository, write moncheck.yml "
        "(atomically) and print what `moncheck check` will check.",
    )
    p.add_argument("--repo", type=Path, metavar="DIR", help="repository root (default: the git top level of the cwd)")
    p.add_argument("--force", action="store_true", help="overwrite an existing moncheck.yml")
    p.add_argument("--dry-run", action="store_true", help="print the configuration instead of writing it")
    p.set_defaults(func=run)


def _files(root: Path) -> list[Path]:
    out: list[Path] = []
    stack = [root]
    while stack and len(out) < MAX_FILES:
        d = stack.pop()
        try:
            entries = sorted(d.iterdir())
        except OSError:
            continue
        for e in entries:
            if e.name.startswith(".") or e.is_symlink():
                continue
            if e.is_dir():
                if e.name not in SKIP_DIRS:
                    stack.append(e)
            elif e.is_file() and e.suffix in (".yml", ".yaml", ".json", ".md"):
                out.append(e)
    return sorted(out)


def classify(path: Path, rel: str) -> str | None:
    """The artifact kind of one file (a RepoConfig key), or None."""
    from moncheck.inventory import _kind_of, is_rule_crd

    parts = Path(rel).parts
    if path.suffix == ".md":
        return "runbooks" if any(p.lower() in ("runbooks", "runbook", "playbooks") for p in parts[:-1]) else None
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if path.suffix == ".json":
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        doc = doc.get("dashboard", doc) if isinstance(doc, dict) else None
        return "dashboards" if isinstance(doc, dict) and (isinstance(doc.get("panels"), list) or isinstance(doc.get("rows"), list)) else None
    try:
        docs = [d for d in yamlpos.loads_all(text, rel) if d is not None]
    except yamlpos.LoadError:
        docs = None
    if templated.marker_line(text, loads=docs is not None) is not None:
        return TEMPLATED  # cannot be checked until rendered: left out of the globs, and said so
    if docs is None:
        return None
    if not docs or all(d == {} or d == [] for d in docs):
        return EMPTY  # fits any glob: an empty file is valid wherever it sits
    if not docs:
        return None
    if all(is_rule_crd(d) for d in docs):
        return "rules"
    data: Any = docs[0]
    if "drills" in parts[:-1] and isinstance(data, dict) and "name" in data:
        return "drills"
    if "uptime" in parts[:-1] and isinstance(data, dict) and ("environment" in data or "checks" in data):
        return "uptime"
    kind = _kind_of(data, path)
    groups = data.get("groups") if isinstance(data, dict) else None
    if kind == "rules" and groups == []:
        return EMPTY  # `groups: []`: a valid rule file without rules
    if kind == "rules" and not (isinstance(groups, list) and any(isinstance(g, dict) and "rules" in g for g in groups)):
        return None  # `groups:` of something else (a site's data file), not Prometheus rule groups
    return {"rules": "rules", "rule_test": "rule_tests", "alertmanager": "alertmanager", "prometheus": "prometheus",
            "catalog": "catalog", "slo": "slos", "routing_tests": "routing_tests"}.get(kind)


def _globs(root: Path, files: list[Path], all_files: dict[Path, str | None], kind: str) -> list[str]:
    """Globs covering ``files``: ``dir/**/*.ext`` for the topmost folder all of whose ``.ext``
    files are of this kind (so files added later are checked too); other files listed."""
    def homogeneous(d: Path, ext: str) -> bool:
        seen = [k for f, k in all_files.items() if f.suffix == ext and d in f.parents]
        # Files init did not classify (skipped folders) would match the glob too.
        return all(k in (kind, EMPTY) for k in seen) and len(seen) == sum(1 for x in d.rglob(f"*{ext}") if x.is_file())

    chosen: dict[tuple[Path, str], bool] = {}
    listed: list[str] = []
    for f in files:
        top = None
        for d in f.parents:
            if d == root or root not in d.parents:
                break
            if not homogeneous(d, f.suffix):
                break
            top = d
        if top is None:
            listed.append(f.relative_to(root).as_posix())
        else:
            chosen[(top, f.suffix)] = True
    out: dict[tuple[Path, str], bool] = {}
    for top, ext in chosen:
        # The narrowest folder holding this kind's files under ``top``: rules/ rather than monitoring/.
        under = [x for x in files if top in x.parents and x.suffix == ext]
        lca = Path(os.path.commonpath([x.parent for x in under]))
        out[(lca, ext)] = any(x.parent != lca for x in under)
    chosen = out
    globs = []
    for (d, ext), deep in sorted(chosen.items()):
        under = [x for x in files if d in x.parents and x.suffix == ext]
        # Keep a naming convention all of them share (`*.test.yml`, `*.rules.yml`).
        inner = {x.name.split(".")[-2] if x.name.count(".") >= 2 else "" for x in under}
        tail = f".{inner.pop()}{ext}" if len(inner) == 1 and "" not in inner else ext
        globs.append(f"{d.relative_to(root).as_posix()}/{'**/' if deep else ''}*{tail}")
    return _merge_siblings(root, globs + sorted(listed), all_files, kind)


def _merge_siblings(root: Path, globs: list[str], all_files: dict[Path, str | None], kind: str) -> list[str]:
    """``a/x/d/*.json`` + ``a/y/d/*.json`` -> ``a/*/d/*.json`` when every file that glob matches
    is of this kind (one line per mixin or service folder is unreadable)."""
    out = list(globs)
    for pos in range(max((g.count("/") for g in globs), default=0)):
        groups: dict[tuple[str, ...], list[str]] = {}
        for g in out:
            parts = g.split("/")
            if pos < len(parts) - 1 and "*" not in parts[pos] and parts[pos] != "**":
                groups.setdefault((*parts[:pos], "*", *parts[pos + 1:]), []).append(g)
        for merged, members in groups.items():
            pattern = "/".join(merged)
            matched = [p for p in root.glob(pattern) if p.is_file()]
            if len(members) > 1 and matched and all(all_files.get(p) in (kind, EMPTY) for p in matched):
                out = [g for g in out if g not in members] + [pattern]
    return sorted(set(out))


def inspect(root: Path) -> tuple[dict[str, Any], list[str]]:
    """(config data, notes) for the repository at ``root``."""
    kinds = {f: classify(f, f.relative_to(root).as_posix()) for f in _files(root)}
    found: dict[str, list[Path]] = defaultdict(list)
    for f, k in kinds.items():
        if k:
            found[k].append(f)
    data: dict[str, Any] = {"version": 1}
    notes: list[str] = []
    if TEMPLATED in found:
        shown = ", ".join(f.relative_to(root).as_posix() for f in found[TEMPLATED][:5])
        more = f" and {len(found[TEMPLATED]) - 5} more" if len(found[TEMPLATED]) > 5 else ""
        notes.append(f"templated files left out (render them first, then add the output): {shown}{more}")
    for key in config_mod.GLOB_KEYS:
        if key in found:
            data[key] = _globs(root, found[key], kinds, key)
    for key in config_mod.PATH_KEYS:
        fs = found.get(key, [])
        if fs:
            data[key] = fs[0].relative_to(root).as_posix()
            if len(fs) > 1:
                others = ", ".join(f.relative_to(root).as_posix() for f in fs[1:4])
                notes.append(f"several {key} files; using {data[key]} (also: {others}); edit moncheck.yml to choose")
    for cand in POLICY_CANDIDATES:
        if (root / cand).is_file():
            data["policy"] = cand
            break
    else:
        notes.append("no policy file: only correctness checks will run (organisation rules are opt-in, see docs/checks/README.md)")
    return data, notes


def _yaml_text(data: dict[str, Any]) -> str:
    lines = ["# Where this repository keeps its monitoring artifacts (written by `moncheck init`).",
             "# Paths and globs are relative to this file; schema: moncheck's config.schema.json.", ""]
    for k, v in data.items():
        if isinstance(v, list):
            lines.append(f"{k}:")
            lines += [f"  - {_q(x)}" for x in v]
        else:
            lines.append(f"{k}: {_q(v) if isinstance(v, str) else v}")
    return "\n".join(lines) + "\n"


def _q(s: str) -> str:
    return f'"{s}"' if any(c in s for c in "*:#{}[]&!|>'\"%@`") or s != s.strip() else s


def describe(root: Path, cfg: config_mod.RepoConfig) -> list[str]:
    """What ``moncheck check`` will check in ``root`` under ``cfg``."""
    from moncheck.gate import checked_kinds
    from moncheck.inventory import load_repo
    from moncheck.tools import ToolMissing, find_binary

    from moncheck import policy as policy_mod
    from moncheck import resources
    from moncheck.checks.registry import CHECKS, OPT_IN

    inv = load_repo(root, cfg)
    out = [f"  {n:>5}  {kind}" for kind, n in checked_kinds(inv).items()]
    if inv.load_findings:
        n = len({f.path for f in inv.load_findings})
        out.append(f"  {n:>5}  {'file that does' if n == 1 else 'files that do'} not load (moncheck check reports them)")
    pol = policy_mod.from_data(inv.policy.data if inv.policy else resources.default_policy_data(), None)
    on = sorted(c.id for c in CHECKS if c.id in OPT_IN and pol.runs(c.id, True))
    out.append(f"  checks: {sum(c.id not in OPT_IN for c in CHECKS)} correctness checks; organisation rules "
               + (f"enabled by {cfg.policy}: {', '.join(on)}" if on else "off (none enabled)"))
    for tool, needed in (("promtool", bool(inv.rule_files or inv.rule_tests or inv.prometheus)), ("amtool", inv.alertmanager is not None)):
        if needed:
            try:
                find_binary(tool)
            except ToolMissing:
                out.append(f"  {tool} not found: its checks are skipped (an error under CI or --strict)")
    return out


def run(args: argparse.Namespace) -> int:
    from moncheck.atomic import write_text
    from moncheck.commands.check import find_repo

    if args.repo is not None and not args.repo.is_dir():
        print(f"moncheck: error: --repo {args.repo}: not a directory", file=sys.stderr)
        return 2
    root = args.repo.resolve() if args.repo is not None else find_repo(Path.cwd())
    target = root / config_mod.CONFIG_FILE
    if target.exists() and not (args.force or args.dry_run):
        print(f"moncheck: error: {target} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    data, notes = inspect(root)
    if len(data) == 1 or set(data) <= {"version", "policy"}:
        print(f"moncheck: error: nothing to check in {root}: no rule files, promtool tests, Alertmanager or "
              "Prometheus configs, dashboards or SLO specs found", file=sys.stderr)
        return 2
    text = _yaml_text(data)
    cfg = config_mod.from_mapping(root, config_mod.CONFIG_FILE, yamlpos.loads(text, config_mod.CONFIG_FILE), {})
    if args.dry_run:
        print(text, end="")
    else:
        write_text(target, text)
        print(f"moncheck: wrote {target}")
    print("moncheck check will check:")
    for line in describe(root, cfg):
        print(line)
    for n in notes:
        print(f"note: {n}")
    return 0
