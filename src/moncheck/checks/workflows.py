"""GitHub workflow files are valid (``workflows/schema``), via ``check-jsonschema``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from moncheck.checks.base import Context, Skip, locate
from moncheck.findings import Finding, error
from moncheck.yamlpos import LoadError, load


def _binary() -> str | None:
    beside = Path(sys.executable).with_name("check-jsonschema")
    return str(beside) if beside.exists() else shutil.which("check-jsonschema")


def workflows_schema(ctx: Context) -> list[Finding]:
    if not ctx.inv.workflows:
        raise Skip("no GitHub workflows (.github/workflows/*.yml)")
    exe = _binary()
    if exe is None:
        raise Skip("check-jsonschema is not installed")
    files = [str(ctx.inv.abspath(w)) for w in ctx.inv.workflows]
    try:
        proc = subprocess.run(
            [exe, "--builtin-schema", "vendor.github-workflows", "-o", "json", *files],
            capture_output=True, text=True, timeout=120, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Skip(f"check-jsonschema failed to run: {e}") from None
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        if proc.returncode == 0:
            return []
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        return [error("workflows/schema", ctx.inv.workflows[0], 1, f"check-jsonschema: {msg[-1] if msg else 'failed'}")]
    by_abs = {str(ctx.inv.abspath(w).resolve()): w for w in ctx.inv.workflows}
    out = []
    docs: dict[str, object] = {}
    for perr in report.get("parse_errors", []):
        # Our loader says where and why, relative to the repository (check-jsonschema only
        # says "Failed to parse <absolute path>").
        rel = by_abs.get(str(Path(str(perr.get("filename", ""))).resolve()), ctx.inv.workflows[0])
        try:
            load(ctx.inv.abspath(rel), rel)
            out.append(error("workflows/schema", rel, 1, "check-jsonschema cannot parse this file"))
        except LoadError as le:
            out.append(error("workflows/schema", le.path, le.line, le.message))
    for err in report.get("errors", []):
        path = str(err.get("filename", ""))
        rel = by_abs.get(str(Path(path).resolve()), path)
        if rel not in docs:
            try:
                docs[rel] = load(ctx.inv.abspath(rel), rel)
            except LoadError:
                docs[rel] = None
        deep = err.get("best_deep_match") or {}
        where = str(deep.get("path") or err.get("path", "$"))
        message = str(deep.get("message") or err.get("message", "invalid"))
        pointer = [p for p in where.lstrip("$").split(".") if p]
        steps: list[object] = []
        for p in pointer:
            for part in p.replace("]", "").split("["):
                if part:
                    steps.append(int(part) if part.isdigit() else part)
        line = locate(docs[rel], steps) if docs[rel] is not None else 1
        out.append(error("workflows/schema", rel, line, f"{where}: {message}"))
    return out
