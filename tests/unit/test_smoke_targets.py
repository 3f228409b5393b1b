"""Smoke target resolution, retries and the summary line."""

from pathlib import Path

import pytest

from moncheck.smoke import retry as retry_mod
from moncheck.smoke.fixtures import CheckResult, status_line
from moncheck.smoke.retry import SmokeFailure, budget, http_get, retry
from moncheck.smoke.targets import TargetError, is_loopback, load_env_file, resolve

GOOD = """\
environment: staging
service_url: https://api.example.com
prometheus_url: https://prom.example.com
alertmanager_url: null
hosts: [api.example.com]
node_exporter: true
min_free_disk_percent: 15
checks:
  - {name: API Health, url: /health, interval: 30, timeout: 5s, expected_status: 200}
  - {name: home, url: "https://www.example.com/", timeout: 10}
"""


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / "monitoring/uptime" / f"{name}.yml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_env_file_parsed(tmp_path):
    t = resolve(_repo(tmp_path, {"staging": GOOD}), "staging", {}, environ={})
    assert t.environment == "staging" and t.explicit
    assert t.service_url == "https://api.example.com" and t.alertmanager_url is None
    assert [c.slug for c in t.checks] == ["api_health", "home"]
    assert t.checks[0].timeout == 5.0 and t.min_free_disk_percent == 15.0
    assert t.check_url(t.checks[0]) == "https://api.example.com/health"
    assert t.check_url(t.checks[1]) == "https://www.example.com/"


def test_host_disk_minimum_from_the_environment_file_else_10(tmp_path):
    from types import SimpleNamespace

    from moncheck.smoke.hosts import min_free_percent

    repo = _repo(tmp_path, {"staging": GOOD, "bare": GOOD.replace("min_free_disk_percent: 15\n", "")})
    for env, want in (("staging", 15.0), ("bare", 10.0)):
        run = SimpleNamespace(repo=repo, target=resolve(repo, env, {}, environ={}))
        assert min_free_percent(run) == want


def test_options_beat_env_vars_beat_file(tmp_path):
    repo = _repo(tmp_path, {"staging": GOOD})
    t = resolve(repo, None, {"service_url": "http://127.0.0.1:1"},
                environ={"MONCHECK_ENV": "staging", "MONCHECK_SERVICE_URL": "http://127.0.0.1:2",
                         "MONCHECK_PROMETHEUS_URL": "http://127.0.0.1:3"})
    assert (t.service_url, t.prometheus_url) == ("http://127.0.0.1:1", "http://127.0.0.1:3")


@pytest.mark.parametrize("text, where", [
    ("environment: x\nservice_url: ftp://a\n", "local.yml:2: service_url must be an http(s) URL"),
    ("checks:\n  - {name: a}\n", "local.yml:2: check is missing url"),
    ("checks:\n  - {name: a, url: /, timeout: soon}\n", "local.yml:2: timeout must be"),
    ("checks:\n  - {name: a, url: /, expected_status: 999}\n", "expected_status must be an HTTP status"),
    ("checks: [\n", "local.yml:2: invalid YAML"),
    ("hosts: nope\n", "hosts must be a list"),
], ids=["bad-url", "missing-url", "bad-timeout", "bad-status", "bad-yaml", "bad-hosts"])
def test_bad_env_file_names_file_and_line(tmp_path, text, where):
    repo = _repo(tmp_path, {"local": text})
    with pytest.raises(TargetError, match=where.replace("(", r"\(").replace(")", r"\)")):
        resolve(repo, "local", {}, environ={})


def test_default_local_file_may_not_point_elsewhere(tmp_path):
    repo = _repo(tmp_path, {"local": "service_url: https://api.example.com\n"})
    with pytest.raises(TargetError, match="not loopback"):
        resolve(repo, None, {}, environ={})
    # Naming the same file explicitly is allowed.
    assert resolve(repo, "local", {}, environ={}).service_url == "https://api.example.com"
    # So is an explicit option on the default environment.
    t = resolve(_repo(tmp_path, {"local": "hosts: [localhost]\n"}), None,
                {"service_url": "https://api.example.com"}, environ={})
    assert t.service_url == "https://api.example.com"


def test_unknown_environment(tmp_path):
    with pytest.raises(TargetError, match="no such environment .known: staging"):
        resolve(_repo(tmp_path, {"staging": GOOD}), "prod", {}, environ={})


def test_repository_env_files_load():
    repo = Path(__file__).resolve().parents[2]
    for path in sorted((repo / "monitoring/uptime").glob("*.yml")):
        t = load_env_file(path)
        assert t.checks, path


@pytest.mark.parametrize("url, loop", [
    ("http://127.0.0.1:9", True), ("http://localhost/", True), ("http://[::1]:80/", True),
    ("https://api.example.com", False), ("http://10.0.0.1", False)],
    ids=["v4", "localhost", "v6", "name", "private"])
def test_is_loopback(url, loop):
    assert is_loopback(url) is loop


def test_retry_bounded_with_backoff():
    sleeps, calls = [], []

    def flaky():
        calls.append(1)
        raise ValueError("down")

    with pytest.raises(ValueError):
        retry(flaky, attempts=3, backoff=0.1, sleep=sleeps.append)
    assert len(calls) == 3 and sleeps == [0.1, 0.2]
    assert budget(3, 5.0, 0.25) == pytest.approx(15.75)


def test_retry_succeeds_after_a_slow_try():
    seq = iter([ValueError("slow"), "ok"])

    def once():
        v = next(seq)
        if isinstance(v, Exception):
            raise v
        return v

    assert retry(once, sleep=lambda s: None) == "ok"


def test_dead_port_fails_fast_in_one_line():
    retry_mod._dead.clear()
    with pytest.raises(SmokeFailure) as e:
        http_get("http://127.0.0.1:9/health", "health endpoint", timeout=1, attempts=2, backoff=0.01)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("health endpoint [http://127.0.0.1:9/health]: cannot connect")


@pytest.mark.parametrize("outcomes, want", [
    (["passed", "passed"], "SMOKE OK - 2 checks passed | checks=2 failed=0 skipped=0"),
    (["passed", "failed", "skipped"], "SMOKE CRITICAL - 1 of 2 failed: t1 | checks=2 failed=1 skipped=1"),
    ([], "SMOKE UNKNOWN - no checks ran"),
], ids=["ok", "critical", "unknown"])
def test_status_line(outcomes, want):
    results = [CheckResult(f"tests/smoke/x.py::t{i}", o, 0.1) for i, o in enumerate(outcomes)]
    assert status_line(results, 1.0).startswith(want)
