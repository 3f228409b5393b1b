"""Credentials and TLS for the targets of smoke, report and ``slo report``: one parser, one
session factory, one-line, secret-free failures.

An environment file (``monitoring/uptime/<env>.yml``) may say, per target (``service``,
``prometheus``, ``alertmanager``), how to authenticate; every secret comes from a file or an
environment variable *named* there, never the value itself::

    auth:
      prometheus:
        basic_auth: {username: moncheck, password_env: MONCHECK_PROMETHEUS_PASSWORD}
        bearer_token_file: /run/secrets/prometheus-token   # or bearer_token_env
        ca_file: /etc/ssl/internal-ca.pem                  # or ca_env (PEM in the variable)
        cert_file: client.pem                              # or cert_env; with key_file / key_env
        key_file: client-key.pem
        headers:
          X-Scope-OrgID: {env: MONCHECK_TENANT}            # or {file: ...}

Relative file paths are relative to the environment file's folder. PEM given in a variable is
handed to the TLS library through an anonymous in-memory file (never written to disk).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from moncheck import yamlpos

TARGETS = ("service", "prometheus", "alertmanager")
URL_KEY = {t: f"{t}_url" for t in TARGETS}
_PAIRS = ("bearer_token", "ca", "cert", "key")  # each as <name>_file or <name>_env
_KEYS = {f"{p}_{s}" for p in _PAIRS for s in ("file", "env")} | {"basic_auth", "headers"}
_BASIC_KEYS = {"username", "username_env", "username_file", "password_env", "password_file"}
_WHAT = {"bearer_token": "bearer token", "ca": "CA bundle", "cert": "client certificate",
         "key": "client key", "password": "password", "username": "username"}


class AuthConfigError(Exception):
    """An ``auth`` section that cannot be used; the message names file and line."""


class AuthError(Exception):
    """A credential that cannot be read at run time (variable unset, file missing); one line
    naming the target and the variable or file, never the value."""


@dataclass(frozen=True)
class Secret:
    """Where a value comes from: an environment variable or a file (never the value)."""

    kind: str  # "env" | "file"
    ref: str  # variable name, or absolute file path
    what: str  # "prometheus password", for messages

    def describe(self) -> str:
        return f"${self.ref}" if self.kind == "env" else self.ref

    def read(self, environ: Mapping[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        if self.kind == "env":
            value = env.get(self.ref)
            if not value:
                raise AuthError(f"{self.what}: environment variable {self.ref} is not set")
            return value
        try:
            return Path(self.ref).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise AuthError(f"{self.what}: cannot read {self.ref} ({type(e).__name__})") from None


@dataclass(frozen=True)
class HttpAuth:
    """How to reach one target. Frozen and hashable: sessions are cached per value."""

    target: str
    source: str  # "monitoring/uptime/production.yml:14"
    bearer_token: Secret | None = None
    username: str | Secret | None = None
    password: Secret | None = None
    ca: Secret | None = None
    cert: Secret | None = None
    key: Secret | None = None
    headers: tuple[tuple[str, Secret], ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """What is configured (kinds only, no values): ``basic auth, CA bundle``."""
        parts = []
        if self.bearer_token:
            parts.append("bearer token")
        if self.password:
            parts.append("basic auth")
        if self.ca:
            parts.append("CA bundle")
        if self.cert:
            parts.append("client certificate")
        if self.headers:
            parts.append("headers " + ", ".join(h for h, _ in self.headers))
        return ", ".join(parts) or "none"


def _ref(node: Any, key: str, shown: str, base: Path, what: str) -> Secret:
    value = node.get(key)
    line = yamlpos.line_of(node, key)
    if not isinstance(value, str) or not value.strip():
        raise AuthConfigError(f"{shown}:{line}: {key} must name a {'file' if key.endswith('file') else 'variable'}")
    if key.endswith("_env"):
        if not value.replace("_", "").isalnum():
            raise AuthConfigError(f"{shown}:{line}: {key}: {value!r} is not an environment variable name")
        return Secret("env", value, what)
    path = Path(value)
    return Secret("file", str(path if path.is_absolute() else (base / path)), what)


def _pair(node: Any, name: str, shown: str, base: Path, what: str) -> Secret | None:
    f, e = f"{name}_file", f"{name}_env"
    if f in node and e in node:
        raise AuthConfigError(f"{shown}:{yamlpos.line_of(node, e)}: give {f} or {e}, not both")
    for key in (f, e):
        if key in node:
            return _ref(node, key, shown, base, what)
    return None


def inline_problems(doc: Any) -> list[tuple[int, str]]:
    """(line, message) for every value in an ``auth`` section that is not a reference: the
    secrets check reports them (``secrets/inline``), the loader refuses them."""
    out: list[tuple[int, str]] = []
    auth = doc.get("auth") if isinstance(doc, dict) else None
    if not isinstance(auth, dict):
        return out
    for target, node in auth.items():
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            line = yamlpos.line_of(node, key)
            if key == "basic_auth" and isinstance(value, dict):
                for k in value:
                    if k not in _BASIC_KEYS:
                        out.append((yamlpos.line_of(value, k),
                                    f"auth.{target}.basic_auth.{k}: inline value; use password_env or password_file"))
            elif key == "headers" and isinstance(value, dict):
                for h, v in value.items():
                    if not (isinstance(v, dict) and set(v) in ({"env"}, {"file"})):
                        out.append((yamlpos.line_of(value, h),
                                    f"auth.{target}.headers.{h}: inline value; use {{env: VAR}} or {{file: PATH}}"))
            elif key not in _KEYS:
                out.append((line, f"auth.{target}.{key}: inline value; use {key}_env or {key}_file"))
    return out


def parse(doc: Any, shown: str, base: Path) -> dict[str, HttpAuth]:
    """The ``auth`` section of an environment file: target -> HttpAuth. Raises AuthConfigError."""
    auth = doc.get("auth") if isinstance(doc, dict) else None
    if auth is None:
        return {}
    if not isinstance(auth, dict):
        raise AuthConfigError(f"{shown}:{yamlpos.line_of(doc, 'auth')}: auth must map targets "
                              f"({', '.join(TARGETS)}) to their credentials")
    problems = inline_problems(doc)
    if problems:
        line, msg = problems[0]
        raise AuthConfigError(f"{shown}:{line}: {msg} (secrets never go in the environment file)")
    out = {}
    for target, node in auth.items():
        line = yamlpos.line_of(auth, target)
        if target not in TARGETS:
            raise AuthConfigError(f"{shown}:{line}: auth.{target}: unknown target (use {', '.join(TARGETS)})")
        if not isinstance(node, dict):
            raise AuthConfigError(f"{shown}:{line}: auth.{target} must be a mapping")
        out[target] = _parse_target(target, node, f"{shown}:{line}", shown, base)
    return out


def _parse_target(target: str, node: Any, source: str, shown: str, base: Path) -> HttpAuth:
    kw: dict[str, Any] = {}
    for name in _PAIRS:
        kw[name] = _pair(node, name, shown, base, f"{target} {_WHAT[name]}")
    if (kw["cert"] is None) != (kw["key"] is None):
        raise AuthConfigError(f"{source}: auth.{target}: a client certificate needs both cert_* and key_*")
    basic = node.get("basic_auth")
    if basic is not None:
        if not isinstance(basic, dict):
            raise AuthConfigError(f"{shown}:{yamlpos.line_of(node, 'basic_auth')}: basic_auth must be a mapping")
        user = basic.get("username")
        kw["username"] = (str(user) if user is not None
                          else _pair(basic, "username", shown, base, f"{target} username"))
        kw["password"] = _pair(basic, "password", shown, base, f"{target} password")
        if kw["username"] is None or kw["password"] is None:
            raise AuthConfigError(f"{shown}:{yamlpos.line_of(node, 'basic_auth')}: basic_auth needs a "
                                  "username and password_env or password_file")
    if kw["bearer_token"] is not None and basic is not None:
        raise AuthConfigError(f"{source}: auth.{target}: bearer token and basic auth are exclusive")
    headers = node.get("headers") or {}
    if not isinstance(headers, dict):
        raise AuthConfigError(f"{shown}:{yamlpos.line_of(node, 'headers')}: headers must be a mapping")
    kw["headers"] = tuple(
        (str(h), Secret("env", v["env"], f"{target} header {h}") if "env" in v
         else _ref({"file": v["file"]}, "file", shown, base, f"{target} header {h}"))
        for h, v in headers.items())
    return HttpAuth(target, source, **kw)


# ------------------------------------------------------------------ sessions


def _pem_path(secret: Secret, environ: Mapping[str, str] | None) -> str:
    """A path the TLS library can read: the file itself, or an in-memory file for PEM text."""
    if secret.kind == "file":
        if not os.access(secret.ref, os.R_OK):
            raise AuthError(f"{secret.what}: cannot read {secret.ref}")
        return secret.ref
    pem = secret.read(environ)
    if "-----BEGIN " not in pem:
        raise AuthError(f"{secret.what}: ${secret.ref} does not hold PEM text")
    memfd = getattr(os, "memfd_create", None)
    if memfd is None:  # pragma: no cover - Linux has it
        raise AuthError(f"{secret.what}: PEM in a variable needs Linux; use a *_file instead")
    fd = memfd(f"moncheck-{secret.ref}", 0)  # kept open for the session's lifetime
    os.write(fd, pem.encode() + b"\n")
    return f"/proc/self/fd/{fd}"


def new_session(auth: HttpAuth | None, environ: Mapping[str, str] | None = None) -> requests.Session:
    """A session with the target's credentials, CA and client certificate. Never reads proxy
    settings from the environment. Raises AuthError naming what is missing."""
    s = requests.Session()
    s.trust_env = False
    if auth is None:
        return s
    if auth.bearer_token:
        s.headers["Authorization"] = f"Bearer {auth.bearer_token.read(environ)}"
    if auth.password:
        user = auth.username.read(environ) if isinstance(auth.username, Secret) else str(auth.username)
        s.auth = (user, auth.password.read(environ))
    for name, secret in auth.headers:
        s.headers[name] = secret.read(environ)
    if auth.ca:
        s.verify = _pem_path(auth.ca, environ)
    if auth.cert and auth.key:
        s.cert = (_pem_path(auth.cert, environ), _pem_path(auth.key, environ))
    return s


@functools.cache
def session(auth: HttpAuth | None) -> requests.Session:
    """The cached session of ``auth`` (credentials read from the process environment once)."""
    return new_session(auth)


def describe_failure(e: requests.RequestException) -> str:
    """A short reason for a failed request, without URL credentials or response bodies."""
    text = str(e)
    if isinstance(e, requests.exceptions.SSLError):
        for marker, say in (("CERTIFICATE_VERIFY_FAILED", "TLS certificate verify failed"),
                            ("certificate required", "TLS: the server requires a client certificate"),
                            ("unknown ca", "TLS: the server rejected the client certificate"),
                            ("bad certificate", "TLS: the server rejected the client certificate"),
                            ("WRONG_VERSION_NUMBER", "TLS to a server that speaks plain HTTP")):
            if marker.lower() in text.lower():
                return say
        return "TLS handshake failed"
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host",
                   "Connection reset", "RemoteDisconnected"):
        if marker in text:
            return marker
    return type(e).__name__


def rejected(status: int, auth: HttpAuth | None) -> str | None:
    """The one-line reason for an authentication failure status, else None."""
    if status not in (401, 403):
        return None
    how = auth.summary() if auth else "no credentials configured"
    return (f"HTTP {status}: credentials {'rejected' if status == 401 else 'not allowed'} "
            f"(auth: {how}{f', from {auth.source}' if auth else ''})")
