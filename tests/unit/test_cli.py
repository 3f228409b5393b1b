"""The moncheck CLI: exit status contract, formats, error handling (real gate on tmp files)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from moncheck import cli, yamlpos
from moncheck.commands.check import exit_status, summary
from moncheck.findings import error, info, warning
from moncheck.tools import ToolMissing

CLEAN = """\
groups:
  - name: g
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels: {severity: warning, team: platform}
        annotations:
          summary: "{{ $labels.instance }} is down"
          description: "{{ $labels.instance }} of {{ $labels.job }} is down for 5 minutes."
          runbook_url: https://example.com/runbooks/InstanceDown.md
"""
# promtool rejects both expressions; the gate reports them at lines 5 and 7.
BROKEN = """\
groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up) ==
      - record: job:up:max
        expr: max(
"""
# Same recording rule twice: promtool's duplicate-rules lint, a warning only.
DUPLICATE_RECORD = """\
groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: job:up:sum
        expr: sum by (job) (up)
"""
MALFORMED = "groups:\n  - name: g\n   rules: [\n"

TEXT_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): (?P<sev>error|warning|info): (?P<check>\S+): .+$")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("MONCHECK_DEBUG", raising=False)
    return tmp_path


def write(d: Path, name: str, text: str) -> Path:
    p = d / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("content", "status"),
    [(CLEAN, 0), (DUPLICATE_RECORD, 0), (BROKEN, 1), (MALFORMED, 1)],
    ids=["clean", "warnings-only", "errors", "malformed-yaml"],
)
def test_exit_status(workdir: Path, capsys: pytest.CaptureFixture[str], content: str, status: int) -> None:
    write(workdir, "rules.yml", content)
    assert cli.main(["check", "rules.yml"]) == status
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert err.strip().splitlines()[-1].startswith("moncheck: ")
    for line in out.splitlines():
        assert TEXT_LINE.match(line), line
    if status == 0 and content == CLEAN:
        assert out == ""


def test_broken_rules_point_at_lines(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir, "rules.yml", BROKEN)
    cli.main(["check", "rules.yml"])
    rows = [TEXT_LINE.match(x) for x in capsys.readouterr().out.splitlines()]
    promtool = {(m["path"], int(m["line"])) for m in rows if m and m["check"] == "promtool/check-rules"}
    assert promtool == {("rules.yml", 5), ("rules.yml", 7)}


def test_malformed_yaml_names_file_and_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir, "rules.yml", MALFORMED)
    cli.main(["check", "rules.yml"])
    out = capsys.readouterr().out
    assert re.search(r"^rules\.yml:3: error: ", out, re.M), out


def _render(fmt: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["check", "rules.yml", "--format", fmt]) == 1
    return capsys.readouterr().out


def test_formats_render_the_same_findings(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir, "rules.yml", BROKEN)
    text = {(m["path"], int(m["line"]), m["check"]) for m in map(TEXT_LINE.match, _render("text", workdir, capsys).splitlines()) if m}
    as_json = {(r["path"], r["line"], r["check"]) for r in json.loads(_render("json", workdir, capsys))["findings"]}
    gh_rx = re.compile(r"^::(error|warning|notice) file=(?P<f>[^,]+),line=(?P<l>\d+),title=(?P<t>[^:]+)::.+$")
    gh = {(m["f"], int(m["l"]), m["t"].replace("%2F", "/")) for m in map(gh_rx.match, _render("github", workdir, capsys).splitlines()) if m}
    assert text and text == as_json == gh


def test_github_is_default_under_actions(workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    write(workdir, "rules.yml", BROKEN)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    cli.main(["check", "rules.yml"])
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(x.startswith("::error ") for x in lines)


def test_output_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir, "rules.yml", BROKEN)
    assert cli.main(["check", "rules.yml", "--format", "json", "--output", "out/findings.json"]) == 1
    assert capsys.readouterr().out == ""
    assert len(json.loads((workdir / "out/findings.json").read_text())["findings"]) >= 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "nope.yml"], "moncheck: error: nope.yml: no such file or directory"),
        (["check", "--repo", "nodir"], "moncheck: error: --repo nodir: not a directory"),
    ],
    ids=["missing-path", "missing-repo"],
)
def test_usage_errors(workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == message


@pytest.mark.parametrize("argv", [[], ["check", "--format", "xml"], ["frobnicate"]], ids=["no-command", "bad-format", "bad-command"])
def test_argparse_errors_exit_2(workdir: Path, argv: list[str]) -> None:
    try:
        status = cli.main(argv)
    except SystemExit as e:
        status = e.code
    assert status == 2


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    assert re.fullmatch(r"moncheck \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


def _raise(exc: BaseException):  # type: ignore[no-untyped-def]
    def gate(*_a: object, **_k: object) -> None:
        raise exc

    return gate


@pytest.mark.parametrize(
    ("exc", "status", "stderr"),
    [
        (yamlpos.LoadError("monitoring/x.yml", 7, "invalid YAML: oops"), 2, "monitoring/x.yml:7: error: invalid YAML: oops"),
        (ToolMissing("promtool"), 2, "moncheck: error: promtool not found; run `make setup`"),
        (KeyboardInterrupt(), 130, "moncheck: interrupted"),
        (RuntimeError("boom"), 2, "moncheck: internal error: RuntimeError: boom"),
    ],
    ids=["load-error", "tool-missing", "interrupt", "internal-error"],
)
def test_exceptions_map_to_one_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    exc: BaseException, status: int, stderr: str,
) -> None:
    import moncheck.gate

    monkeypatch.setattr(moncheck.gate, "run_gate", _raise(exc))
    assert cli.main(["check"]) == status
    err = capsys.readouterr().err
    assert err.startswith(stderr) and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_debug_shows_traceback(workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import moncheck.gate

    monkeypatch.setattr(moncheck.gate, "run_gate", _raise(RuntimeError("boom")))
    monkeypatch.setenv("MONCHECK_DEBUG", "1")
    assert cli.main(["check"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_missing_command_module_is_skipped() -> None:
    assert cli._load_command("no_such_command_yet") is None
    assert cli._load_command("check") is not None


@pytest.mark.parametrize(
    ("findings", "status"),
    [
        ([], 0),
        ([warning("a/b", "f.yml", 1, "w"), info("a/c", "f.yml", 2, "i")], 0),
        ([warning("a/b", "f.yml", 1, "w"), error("a/d", "g.yml", 3, "e")], 1),
    ],
    ids=["none", "warnings-and-info", "one-error"],
)
def test_exit_status_of_findings(findings: list, status: int) -> None:
    assert exit_status(findings) == status


def test_summary_line() -> None:
    findings = [error("a/b", "f.yml", 1, "x"), error("a/b", "g.yml", 1, "y"), warning("a/c", "f.yml", 2, "z")]
    assert summary(findings, ["schema/slo"]) == "moncheck: 2 errors, 1 warning in 2 files; 1 check skipped: schema/slo"
    assert summary([], []) == "moncheck: 0 errors, 0 warnings"


def test_console_script_end_to_end(workdir: Path) -> None:
    write(workdir, "rules.yml", MALFORMED)
    proc = subprocess.run(
        [sys.executable, "-m", "moncheck.cli", "check", "rules.yml", "missing.yml"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "moncheck: error: missing.yml: no such file or directory"


def test_github_overflow_in_job_summary(workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    items = "".join(f"      - alert: A{i}\n        expr: rate(x_total[5m])\n" for i in range(12))
    write(workdir, "rules.yml", "groups:\n  - name: g\n    rules:\n" + items)
    summary_file = workdir / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    assert cli.main(["check", "rules.yml", "--format", "github"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert sum(x.startswith("::error ") for x in out) == 10
    assert out[-1] == "::notice title=moncheck::2 more findings are listed in the job summary"
    rows = [x for x in summary_file.read_text().splitlines() if x.startswith("| rules.yml")]
    assert [r.split(" | ")[1] for r in rows] == ["25", "27"]
