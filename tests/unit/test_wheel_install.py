"""moncheck as a stranger gets it: build the wheel, install it into a fresh virtual environment, and
check a small repository that is not ours, from outside this checkout.

The wheel is installed with ``--no-deps``; the new environment sees the dependencies of the running
interpreter through a ``.pth`` path (a plain path entry, so this checkout's editable-install hook is
not run and ``moncheck`` can only come from the wheel). Building uses pip's normal build isolation
(setuptools and wheel come from pip's configured index and cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RULES = """\
groups:
  - name: node
    rules:
      - alert: NodeDown
        expr: up{job="node"} == 0
        for: 30m1h
        labels:
          severity: critical
        annotations:
          summary: node down
      - alert: DiskFull
        expresion: node_filesystem_avail_bytes == 0
        labels:
          severity: critical
"""


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this checkout installed in it."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src-copy"  # build from a copy: no build/ or egg-info left in the checkout
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(src)], base)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (base / "dist").glob("moncheck-*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base)
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base).stdout.strip())
    (site / "moncheck-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    inst = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index", str(wheel)], base)
    assert inst.returncode == 0, inst.stderr[-2000:]
    shutil.rmtree(src)
    return venv


def _env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "CI", "GITHUB_"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_moncheck_comes_from_the_wheel_with_its_package_data(installed: Path, tmp_path: Path) -> None:
    code = ("import moncheck, moncheck.resources as r; print(moncheck.__file__); print(r.schema_path('rules')); "
            "print(r.default_policy_path().is_file())")
    out = _run([str(installed / "bin" / "python"), "-c", code], tmp_path, _env(installed))
    assert out.returncode == 0, out.stderr
    module, schema, policy = out.stdout.split()
    assert module.startswith(str(installed)) and schema.startswith(str(installed)), out.stdout
    assert Path(schema).is_file() and policy == "True"


def test_installed_moncheck_checks_a_foreign_repository(installed: Path, tmp_path: Path) -> None:
    repo = tmp_path / "their-monitoring"
    (repo / "alerts").mkdir(parents=True)
    (repo / "alerts" / "node.rules.yml").write_text(textwrap.dedent(RULES))
    env = _env(installed)
    env["MONCHECK_PROMTOOL"] = str(tmp_path / "no-promtool")  # the schema checks, not promtool's, are under test
    env.pop("CI", None)  # under CI a missing promtool is an error (exit 2); here it is absent on purpose
    out = _run([str(installed / "bin" / "moncheck"), "check", "alerts"], repo, env)
    lines = out.stdout.splitlines()
    assert out.returncode == 1, out.stdout + out.stderr
    f = "alerts/node.rules.yml"
    assert [x for x in lines if ": schema/rules: " in x] == [
        f"{f}:6: error: schema/rules: groups/0/rules/0/for: invalid duration '30m1h': units must go from largest to smallest, each once",
        f"{f}:11: error: schema/rules: groups/0/rules/1: 'expr' is a required property",
        f"{f}:12: error: schema/rules: groups/0/rules/1: unknown key 'expresion' (not allowed here)",
    ], out.stdout
    # Correctness first: no policy file, so the organisation check alerts/for does not run; the
    # malformed `for` is reported by schema/rules above.
    assert not [x for x in lines if ": alerts/for: " in x], out.stdout
    assert "internal error" not in out.stdout + out.stderr and "Traceback" not in out.stderr
