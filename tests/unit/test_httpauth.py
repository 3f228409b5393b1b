"""moncheck.httpauth: the ``auth`` section of environment files, what a session sends, and the
secrets check on inline values. Requests go to a small real HTTP server on loopback."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from moncheck import httpauth
from moncheck.gate import run_gate
from moncheck.promapi import ApiError, Prometheus
from moncheck.smoke.retry import SmokeFailure, http_get
from moncheck.smoke.targets import TargetError, load_env_file

HEAD = "environment: e\nservice_url: http://127.0.0.1:{port}\nprometheus_url: http://127.0.0.1:{port}/prom\nchecks: []\n"


class _Seen(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        _Seen.seen.append({k: v for k, v in self.headers.items()})
        ok = self.headers.get("Authorization") in ("Bearer tok-1", "Basic " + base64.b64encode(b"u:pw-1").decode())
        body = b'{"status":"success","data":{"resultType":"vector","result":[]}}' if ok else b"Unauthorized\n"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Seen)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _Seen.seen.clear()
    httpauth.session.cache_clear()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()
        httpauth.session.cache_clear()


def env_file(tmp_path: Path, port: int, auth: str) -> Path:
    f = tmp_path / "e.yml"
    f.write_text(HEAD.format(port=port) + auth)
    return f


def test_bearer_token_from_a_file_and_headers_from_variables_are_sent(tmp_path: Path, server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "token").write_text("tok-1\n")
    monkeypatch.setenv("TENANT", "team-a")
    t = load_env_file(env_file(tmp_path, server, "auth:\n  prometheus:\n    bearer_token_file: token\n"
                                                 "    headers:\n      X-Scope-OrgID: {env: TENANT}\n"))
    auth = t.auth_of("prometheus")
    assert auth is not None and auth.summary() == "bearer token, headers X-Scope-OrgID"
    assert Prometheus(t.url("prometheus_url"), auth=auth).query("up") == []
    assert _Seen.seen[-1]["Authorization"] == "Bearer tok-1" and _Seen.seen[-1]["X-Scope-OrgID"] == "team-a"


def test_basic_auth_and_credentials_only_for_their_own_target(tmp_path: Path, server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW", "pw-1")
    t = load_env_file(env_file(tmp_path, server, "auth:\n  prometheus:\n    basic_auth: {username: u, password_env: PW}\n"))
    url = t.url("prometheus_url") + "/api/v1/query"
    assert http_get(url, "q", auth=t.auth_for(url)).status == 200
    # The service (same host, other path) and an uptime check elsewhere get no credentials.
    assert t.auth_for(t.url("service_url") + "/health") is None
    assert t.auth_for("https://127.0.0.2/prom/x") is None
    with pytest.raises(SmokeFailure) as e:
        http_get(t.url("service_url") + "/health", "health endpoint", auth=t.auth_for(t.url("service_url") + "/health"))
    assert "HTTP 401: credentials rejected (auth: no credentials configured)" in str(e.value)
    assert "Authorization" not in _Seen.seen[-1]


def test_wrong_credentials_are_one_line_without_the_secret(tmp_path: Path, server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW", "hunter2")
    t = load_env_file(env_file(tmp_path, server, "auth:\n  prometheus:\n    basic_auth: {username: u, password_env: PW}\n"))
    with pytest.raises(ApiError) as e:
        Prometheus(t.url("prometheus_url"), auth=t.auth_of("prometheus")).query("up")
    msg = str(e.value)
    assert msg == (f"Prometheus at http://127.0.0.1:{server}/prom/api/v1/query: HTTP 401: credentials rejected "
                   f"(auth: basic auth, from {tmp_path / 'e.yml'}:6)")
    assert "hunter2" not in msg


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ("auth:\n  prometheus:\n    bearer_token: abc\n", "e.yml:7: auth.prometheus.bearer_token: inline value; use bearer_token_env or bearer_token_file"),
        ("auth:\n  prometheus:\n    headers:\n      X-Key: abc\n", "e.yml:8: auth.prometheus.headers.X-Key: inline value; use {env: VAR} or {file: PATH}"),
        ("auth:\n  prometheus:\n    basic_auth: {username: u}\n", "e.yml:7: basic_auth needs a username and password_env or password_file"),
        ("auth:\n  prometheus:\n    cert_file: c.pem\n", "auth.prometheus: a client certificate needs both cert_* and key_*"),
        ("auth:\n  grafana: {}\n", "e.yml:6: auth.grafana: unknown target (use service, prometheus, alertmanager)"),
        ("auth:\n  prometheus:\n    bearer_token_env: 'not a name'\n", "e.yml:7: bearer_token_env: 'not a name' is not an environment variable name"),
        ("auth:\n  prometheus:\n    ca_file: a\n    ca_env: B\n", "e.yml:8: give ca_file or ca_env, not both"),
    ],
    ids=["inline-token", "inline-header", "no-password", "cert-without-key", "unknown-target", "bad-variable", "file-and-env"],
)
def test_bad_auth_sections_name_file_and_line(tmp_path: Path, auth: str, message: str) -> None:
    with pytest.raises(TargetError) as e:
        load_env_file(env_file(tmp_path, 1, auth))
    assert message in str(e.value) and "abc" not in str(e.value).split("inline value")[0][-5:]


def test_unset_variable_is_named_without_a_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE", raising=False)
    t = load_env_file(env_file(tmp_path, 1, "auth:\n  prometheus:\n    bearer_token_env: NOPE\n"))
    with pytest.raises(ApiError, match=r"^Prometheus at http://127.0.0.1:1/prom: credentials unavailable: "
                                       r"prometheus bearer token: environment variable NOPE is not set$"):
        Prometheus(t.url("prometheus_url"), auth=t.auth_of("prometheus"))


def test_secrets_check_reports_inline_values_in_auth_sections(tmp_path: Path) -> None:
    up = tmp_path / "monitoring/uptime"
    up.mkdir(parents=True)
    (up / "prod.yml").write_text("environment: prod\nprometheus_url: https://127.0.0.1:1\nchecks: []\n"
                                 "auth:\n  prometheus:\n    headers:\n      X-Api-Key: s3cr3t\n"
                                 "    basic_auth: {username: u, password_env: PW}\n")
    found = [f for f in run_gate(tmp_path, [], tools=False).findings if f.check == "secrets/inline"]
    assert [f.text() for f in found] == [(
        "monitoring/uptime/prod.yml:7: error: secrets/inline: inline secret: auth.prometheus.headers.X-Api-Key: "
        "inline value; use {env: VAR} or {file: PATH} (hint: name an environment variable (*_env) or a file "
        "(*_file) instead)")]
