"""Authenticated targets end to end: real Prometheus and Alertmanager behind ``--web.config.file``
(TLS with a CA and certificates generated here, basic auth; Prometheus also requires a client
certificate) on loopback. Smoke checks, ``moncheck report`` and ``moncheck slo report`` pass with
the right credentials and fail with one secret-free line naming the target otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from moncheck import httpauth, toolchain, yamlpos
from moncheck.report.traffic import drive
from moncheck.smoke import checks
from moncheck.smoke import repo as repo_mod
from moncheck.smoke.retry import SmokeFailure
from moncheck.smoke.secure import PASSWORD_ENV, SecureStack
from moncheck.smoke.targets import Target, resolve

REPO = Path(__file__).resolve().parents[2]

if toolchain.find("prometheus") is None or toolchain.find("alertmanager") is None:
    if os.environ.get("CI"):
        pytest.fail("prometheus/alertmanager missing (make setup installs them)", pytrace=False)
    pytest.skip("prometheus/alertmanager missing", allow_module_level=True)


@pytest.fixture(scope="module")
def secure() -> Iterator[SecureStack]:
    with SecureStack(REPO) as s:
        yield s


@pytest.fixture
def env(secure: SecureStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The right password in the environment; sessions re-read credentials per test."""
    monkeypatch.setenv(PASSWORD_ENV, secure.password)
    httpauth.session.cache_clear()
    yield {**os.environ, PASSWORD_ENV: secure.password}
    httpauth.session.cache_clear()


def target(secure: SecureStack, tmp_path: Path, **kw: object) -> Target:
    path = secure.env_file(tmp_path / "secure.yml", **kw)  # type: ignore[arg-type]
    return resolve(REPO, str(path), {})


def failure(fn: object, *args: object) -> str:
    with pytest.raises(SmokeFailure) as e:
        fn(*args)  # type: ignore[operator]
    return str(e.value)


def test_smoke_checks_pass_with_the_right_credentials(secure: SecureStack, env: dict[str, str], tmp_path: Path) -> None:
    t = target(secure, tmp_path)
    checks.ready(t, "prometheus", "Prometheus ready")
    checks.ready(t, "alertmanager", "Alertmanager ready")
    assert checks.rule_group_diff(checks.loaded_rule_groups(t), repo_mod.rule_groups(REPO)) == []
    assert repo_mod.diff_shapes(repo_mod.routing_shape(yamlpos.load(REPO / repo_mod.AM_CONFIG)),
                                repo_mod.routing_shape(checks.alertmanager_config(t))) == []
    assert checks.failed_notifications(t) == 0


@pytest.mark.parametrize(
    ("kw", "password", "name", "expected"),
    [
        ({}, "wrong", "prometheus", "HTTP 401: credentials rejected (auth: basic auth, CA bundle, client certificate, from "),
        ({}, "wrong", "alertmanager", "HTTP 401: credentials rejected (auth: basic auth, CA bundle, from "),
        ({}, None, "prometheus", "credentials unavailable: prometheus password: environment variable MONCHECK_SECURE_PASSWORD is not set"),
        ({"ca": "other-ca"}, "right", "prometheus", "TLS certificate verify failed"),
        ({"ca": "other-ca"}, "right", "alertmanager", "TLS certificate verify failed"),
        ({"client": "other-client"}, "right", "prometheus", "TLS: the server rejected the client certificate"),
        ({"with_auth": False}, "right", "alertmanager", "TLS certificate verify failed"),
    ],
    ids=["wrong-password-prometheus", "wrong-password-alertmanager", "missing-password",
         "wrong-ca-prometheus", "wrong-ca-alertmanager", "client-cert-of-another-ca", "no-auth-section"],
)
def test_smoke_fails_on_one_secret_free_line_naming_the_target(
    secure: SecureStack, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    kw: dict[str, object], password: str | None, name: str, expected: str,
) -> None:
    if password is None:
        monkeypatch.delenv(PASSWORD_ENV)
    elif password == "wrong":
        monkeypatch.setenv(PASSWORD_ENV, "wrong-" + secure.password[:4])
    t = target(secure, tmp_path, **kw)
    msg = failure(checks.ready, t, name, f"{name} ready")
    url = getattr(secure, f"{name}_url")
    assert msg.startswith(f"{name} ready [{url}/-/ready]: ") and expected in msg
    assert "\n" not in msg and secure.password not in msg and secure.password[:4] not in msg.split("]")[-1]


def test_no_client_certificate_is_refused_by_prometheus(secure: SecureStack, env: dict[str, str], tmp_path: Path) -> None:
    path = secure.env_file(tmp_path / "secure.yml")
    text = path.read_text()
    cut = "\n".join(ln for ln in text.splitlines() if "cert_file" not in ln and "key_file" not in ln)
    path.write_text(cut + "\n")
    msg = failure(checks.ready, resolve(REPO, str(path), {}), "prometheus", "Prometheus ready")
    assert msg.startswith(f"Prometheus ready [{secure.prometheus_url}/-/ready]: TLS")


def _moncheck(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moncheck.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240, check=False)


@pytest.mark.load  # about 40 s: four CLI runs, two of them building a report
def test_report_and_slo_report_with_right_and_wrong_credentials(secure: SecureStack, env: dict[str, str], tmp_path: Path) -> None:
    drive(secure.service_url, 4.0)
    envf = str(secure.env_file(tmp_path / "secure.yml"))
    out = tmp_path / "report"
    ok = _moncheck("report", "--repo", str(REPO), "--env", envf, "--since", "2m", "--out", str(out), env=env, cwd=tmp_path)
    assert ok.returncode in (0, 1), ok.stderr  # 1: an expectation on a 2-minute-old stack may fail
    assert "credentials" not in ok.stderr and (out / "report.md").is_file()
    assert f"moncheck report: {'OK' if ok.returncode == 0 else 'FAILED'}: {out / 'report.md'}" in ok.stdout
    slo_ok = _moncheck("slo", "report", "--repo", str(REPO), "--env", envf, env=env, cwd=tmp_path)
    assert slo_ok.returncode == 0, slo_ok.stderr
    assert secure.prometheus_url in slo_ok.stdout

    bad = {**env, PASSWORD_ENV: "nope"}
    for argv in (("report", "--repo", str(REPO), "--env", envf, "--out", str(tmp_path / "r2")),
                 ("slo", "report", "--repo", str(REPO), "--env", envf)):
        r = _moncheck(*argv, env=bad, cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        (line,) = r.stderr.strip().splitlines()
        assert line.startswith(f"moncheck: error: Prometheus at {secure.prometheus_url}/api/v1/")
        assert "HTTP 401: credentials rejected (auth: basic auth, CA bundle, client certificate" in line
        assert "nope" not in line and secure.password not in line


def test_inline_secret_in_an_environment_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "prod.yml"
    f.write_text("environment: prod\nprometheus_url: https://127.0.0.1:1\nchecks: []\n"
                 "auth:\n  prometheus:\n    basic_auth: {username: u, password: hunter2}\n")
    with pytest.raises(Exception, match=r"prod.yml:6: auth.prometheus.basic_auth.password: inline value") as e:
        resolve(REPO, str(f), {})
    assert "hunter2" not in str(e.value)
