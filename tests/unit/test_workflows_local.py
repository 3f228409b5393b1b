"""The scheduled workflows: valid for GitHub (check-jsonschema), crons off :00/:30, caches, and
each workflow's `run:` steps executed locally, in order, against the `local` environment: the same
commands the workflow runs, with the job's `env:` evaluated as GitHub would for a manual run with
`environment: local` and no secrets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = {"smoke": REPO / ".github/workflows/smoke.yml", "daily-report": REPO / ".github/workflows/daily-report.yml"}
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def check_jsonschema() -> str:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return str(exe) if exe.exists() else shutil.which("check-jsonschema") or "check-jsonschema"


def test_check_jsonschema_accepts_the_workflows_and_refuses_a_broken_one(tmp_path: Path) -> None:
    r = subprocess.run([check_jsonschema(), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS.values())],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    broken = tmp_path / "smoke.yml"
    broken.write_text(WORKFLOWS["smoke"].read_text().replace("runs-on:", "runs_on:", 1))
    r = subprocess.run([check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(broken)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 1 and "runs_on" in r.stdout + r.stderr


def _minutes(field: str) -> set[int]:
    out: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        lo, hi = (0, 59) if base == "*" else (int(base.split("-")[0]), int(base.split("-")[-1]))
        out |= set(range(lo, hi + 1, int(step) if step else 1)) if (step or base == "*" or "-" in base) else {lo}
    return out


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_schedule_avoids_the_busy_minutes_and_caches_pip_and_toolchain(name: str) -> None:
    doc = _load(WORKFLOWS[name])
    for entry in doc["on"]["schedule"]:
        minutes = _minutes(entry["cron"].split()[0])
        assert minutes and not minutes & {0, 30}, entry["cron"]
    (job,) = doc["jobs"].values()
    steps = job["steps"]
    py = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python"))
    assert py["with"]["cache"] == "pip"
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache"))
    assert cache["with"]["path"] == ".moncheck/toolchain"
    assert "hashFiles('src/moncheck/toolchain/versions.yml')" in cache["with"]["key"]
    assert "vars.MONCHECK_RUNS_ON" in job["runs-on"] and "inputs.runner" in job["runs-on"]


def _operand(text: str, ctx: dict[str, dict[str, str]]) -> str:
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    scope, _, key = text.partition(".")
    if scope not in ctx:
        raise AssertionError(f"expression {text!r} cannot be evaluated locally; keep run: steps to env vars")
    return ctx[scope].get(key, "")


def evaluate(value: str, ctx: dict[str, dict[str, str]]) -> str:
    """GitHub expressions of the forms the workflows use: ``a || b || 'literal'`` over
    ``inputs``, ``vars``, ``secrets``, ``runner`` and ``github`` values."""
    def one(m: re.Match[str]) -> str:
        for operand in m.group(1).split("||"):
            v = _operand(operand, ctx)
            if v:
                return v
        return ""
    return EXPR.sub(one, value)


def _steps_env(job: dict[str, Any], ctx: dict[str, dict[str, str]]) -> dict[str, str]:
    return {k: evaluate(str(v), ctx) for k, v in (job.get("env") or {}).items()}


def _copy_repo(dst: Path) -> Path:
    """A copy of the working tree (mtimes kept, so `make setup` sees an installed venv), with the
    virtual environment and the fetched toolchain shared."""
    ignore = shutil.ignore_patterns(".git", ".venv", ".moncheck", "out", "__pycache__", ".pytest_cache", "*.egg-info")
    shutil.copytree(REPO, dst, ignore=ignore, symlinks=True)
    (dst / ".venv").symlink_to(REPO / ".venv")
    # The shared venv is installed from REPO: the copy's `make setup` must not reinstall it from
    # the copy (an editable install would then point into this temporary folder).
    stamp = REPO / ".venv/.installed"
    if stamp.exists():
        t = stamp.stat().st_mtime - 1
        os.utime(dst / "pyproject.toml", (t, t))
    if (REPO / ".moncheck").exists():
        (dst / ".moncheck").symlink_to(REPO / ".moncheck")
    return dst


@pytest.mark.load  # starts the local stack twice (smoke suite, report): about two minutes
@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_workflow_steps_run_locally_against_local(name: str, tmp_path: Path) -> None:
    if not (REPO / ".venv/bin/python").exists():
        pytest.skip("needs the project's .venv (make setup)")
    doc = _load(WORKFLOWS[name])
    (job,) = doc["jobs"].values()
    summary = tmp_path / "summary.md"
    ctx = {"inputs": {"environment": "local", "since": "1h", "runner": ""}, "vars": {}, "secrets": {},
           "runner": {"environment": "self-hosted", "os": "Linux", "arch": "X64"},
           "github": {"server_url": "https://github.invalid", "repository": "o/r", "run_id": "1"}}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCHECK_", "PYTEST_"))}
    env |= _steps_env(job, ctx) | {"GITHUB_STEP_SUMMARY": str(summary), "CI": "true"}
    work = _copy_repo(tmp_path / "repo")
    ran = []
    for step in job["steps"]:
        if "run" not in step or step.get("if") == "failure()":
            continue
        step_env = env | {k: evaluate(str(v), ctx) for k, v in (step.get("env") or {}).items()}
        r = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=work, env=step_env,
                           capture_output=True, text=True, timeout=900, check=False)
        assert r.returncode == 0, f"step {step.get('name')!r} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
        ran.append(step.get("name"))
    assert "Preflight (runner fits the environment, every named secret is set)" in ran
    text = summary.read_text(encoding="utf-8")
    if name == "smoke":
        assert "SMOKE OK" in text and "artifact `smoke-junit-local`" in text
    else:
        assert "# " in text and "artifact `daily-report-local-1`" in text
        assert (work / "out/report/report.md").is_file()
