"""Smoke targets: which service, Prometheus, Alertmanager and hosts a smoke run checks.

A target comes from ``monitoring/uptime/<env>.yml`` (chosen with ``--env`` or ``MONCHECK_ENV``),
with URL overrides from options or ``MONCHECK_*_URL`` environment variables. With no choice made
the environment is ``local``, whose null URLs are filled in from the local stack.

Safety: a non-loopback URL is only used when the user named it explicitly (an env file they chose,
an option or an environment variable). The default ``local`` file may not point anywhere else.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

from moncheck import durations, httpauth, yamlpos
from moncheck.netutil import is_loopback

URL_KEYS = ("service_url", "prometheus_url", "alertmanager_url")
ENV_VARS = {k: f"MONCHECK_{k.upper()}" for k in URL_KEYS}  # MONCHECK_SERVICE_URL, ...
DEFAULT_ENV = "local"


class TargetError(Exception):
    """A target that cannot be resolved: message names the file and line when there is one
    (``"<file>:<line>: <message>"``; ``line`` and ``message`` are then its parts, else 1 and all)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        m = re.match(r"(.*?):(\d+): (.*)\Z", text, re.S)
        self.line, self.message = (int(m[2]), m[3]) if m else (1, text)


@dataclass(frozen=True)
class UptimeCheck:
    name: str
    url: str
    interval: float
    timeout: float
    expected_status: int

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


@dataclass(frozen=True)
class SshConfig:
    """Host checks over SSH: the private key (and optionally known hosts) from variables."""

    source: str  # "monitoring/uptime/production.yml:9"
    key_env: str | None = None
    known_hosts_env: str | None = None
    user: str | None = None
    port: int | None = None


RUNNERS = ("github-hosted", "self-hosted")


def _ssh(doc: Any, shown: str) -> SshConfig | None:
    node = doc.get("ssh")
    if node is None:
        return None
    where = f"{shown}:{yamlpos.line_of(doc, 'ssh')}"
    if not isinstance(node, dict):
        raise TargetError(f"{where}: ssh must be a mapping (user, key_env, known_hosts_env, port)")
    unknown = sorted(set(node) - {"user", "key_env", "known_hosts_env", "port"})
    if unknown:
        raise TargetError(f"{shown}:{yamlpos.line_of(node, unknown[0])}: ssh.{unknown[0]}: not allowed "
                          "(the key itself never goes here: name a variable with key_env)")
    for key in ("key_env", "known_hosts_env"):
        v = node.get(key)
        if v is not None and not (isinstance(v, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v)):
            raise TargetError(f"{shown}:{yamlpos.line_of(node, key)}: ssh.{key} must name an environment variable")
    port = node.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise TargetError(f"{shown}:{yamlpos.line_of(node, 'port')}: ssh.port must be a TCP port")
    user = node.get("user")
    return SshConfig(where, node.get("key_env"), node.get("known_hosts_env"),
                     str(user) if user is not None else None, port)


@dataclass(frozen=True)
class Target:
    environment: str
    source: str  # file the target was read from (relative display path) or "<options>"
    service_url: str | None = None
    prometheus_url: str | None = None
    alertmanager_url: str | None = None
    hosts: tuple[str, ...] = ()
    node_exporter: bool = False
    min_free_disk_percent: float | None = None
    checks: tuple[UptimeCheck, ...] = ()
    explicit: bool = False  # the user named this target (env file chosen, option or env var)
    explicit_urls: frozenset[str] = field(default_factory=frozenset)
    # target (service, prometheus, alertmanager) -> credentials/TLS (moncheck.httpauth)
    auth: Mapping[str, httpauth.HttpAuth] = field(default_factory=dict, hash=False, compare=False)
    runner: str | None = None  # github-hosted | self-hosted: where scheduled workflows can reach it
    ssh: SshConfig | None = None

    def auth_of(self, name: str) -> httpauth.HttpAuth | None:
        """Credentials of target ``name`` (``prometheus``...), None when it has none."""
        return self.auth.get(name)

    def auth_for(self, url: str) -> httpauth.HttpAuth | None:
        """Credentials for ``url``: those of the target whose base URL it is under (an uptime
        check on another host gets none, so credentials never leak to a third party)."""
        bases = sorted(((getattr(self, httpauth.URL_KEY[n]) or "").rstrip("/"), n) for n in httpauth.TARGETS)
        for base, name in sorted(bases, key=lambda b: -len(b[0])):
            if base and (url == base or url.startswith((base + "/", base + "?"))):
                return self.auth.get(name)
        return None

    def url(self, key: str) -> str:
        value = getattr(self, key)
        if not value:
            raise TargetError(f"{self.source}: no {key} for environment {self.environment!r}")
        return value.rstrip("/")

    def check_url(self, check: UptimeCheck) -> str:
        """Absolute URL of an uptime check: relative paths and ``{service_url}`` are resolved."""
        url = check.url
        if "{service_url}" in url:
            url = url.replace("{service_url}", self.url("service_url"))
        elif not urlsplit(url).scheme:
            url = urljoin(self.url("service_url") + "/", url.lstrip("/"))
        return url

    def with_urls(self, urls: Mapping[str, str | None]) -> Target:
        """Fill the URLs that are still missing (e.g. from the local stack)."""
        filled = {k: v for k, v in urls.items() if k in URL_KEYS and v and not getattr(self, k)}
        return replace(self, **cast(Any, filled))


def _num(doc: Any, key: str, where: str, default: float | None) -> float | None:
    value = doc.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TargetError(f"{where}:{yamlpos.line_of(doc, key)}: {key} must be a number, got {value!r}")
    return float(value)


def _duration(item: Any, key: str, where: str, default: float) -> float:
    """Seconds from a number or a duration string such as ``10s``, ``500ms`` or ``2m``."""
    value = item.get(key, default)
    if isinstance(value, str):
        try:
            seconds = durations.parse_ms(value) / 1000
        except ValueError:
            seconds = 0.0
        if seconds > 0:
            return seconds
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise TargetError(f"{where}:{yamlpos.line_of(item, key)}: {key} must be a positive number of "
                      f"seconds or a duration like '10s', got {value!r}")


def _parse_check(item: Any, path: str, line: int) -> UptimeCheck:
    if not isinstance(item, dict):
        raise TargetError(f"{path}:{line}: each check must be a mapping, got {item!r}")
    missing = [k for k in ("name", "url") if not item.get(k)]
    if missing:
        raise TargetError(f"{path}:{line}: check is missing {', '.join(missing)}")
    timeout = _duration(item, "timeout", path, 10.0)
    interval = _duration(item, "interval", path, 60.0)
    status = item.get("expected_status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise TargetError(
            f"{path}:{yamlpos.line_of(item, 'expected_status', line)}: expected_status must be an "
            f"HTTP status code, got {status!r}"
        )
    return UptimeCheck(str(item["name"]), str(item["url"]), interval, timeout, status)


def load_env_file(path: Path, display: str | None = None) -> Target:
    """Load and parse ``monitoring/uptime/<env>.yml``; raises TargetError naming file and line."""
    shown = display or str(path)
    try:
        doc = yamlpos.load(path, shown)
    except yamlpos.LoadError as e:
        raise TargetError(str(e)) from None
    return parse_env(doc, shown, path)


def parse_env(doc: Any, shown: str, path: Path) -> Target:
    """The typed environment of a loaded uptime document (``yamlpos`` data, for its lines).

    ``path`` is where the file lives: credential files named in it are relative to its folder.
    Raises TargetError ``"<shown>:<line>: <message>"`` at the first problem."""
    if not isinstance(doc, dict):
        raise TargetError(f"{shown}:1: expected a mapping with environment, service_url, checks")
    urls: dict[str, str | None] = {}
    for key in URL_KEYS:
        value = doc.get(key)
        if value is not None and not (isinstance(value, str) and urlsplit(value).scheme in ("http", "https")):
            raise TargetError(f"{shown}:{yamlpos.line_of(doc, key)}: {key} must be an http(s) URL or null, got {value!r}")
        urls[key] = value
    hosts_raw = doc.get("hosts") or []
    if not isinstance(hosts_raw, list) or not all(isinstance(h, str) for h in hosts_raw):
        raise TargetError(f"{shown}:{yamlpos.line_of(doc, 'hosts')}: hosts must be a list of host names")
    node_exporter = doc.get("node_exporter", False)
    if isinstance(node_exporter, dict):  # {enabled: true, port: 9100} is accepted too
        node_exporter = node_exporter.get("enabled", True)
    if not isinstance(node_exporter, bool):
        raise TargetError(f"{shown}:{yamlpos.line_of(doc, 'node_exporter')}: node_exporter must be true or false")
    checks_raw = doc.get("checks") or []
    if not isinstance(checks_raw, list):
        raise TargetError(f"{shown}:{yamlpos.line_of(doc, 'checks')}: checks must be a list")
    lines = getattr(checks_raw, "item_lines", [yamlpos.line_of(doc, "checks")] * len(checks_raw))
    checks = tuple(_parse_check(c, shown, ln) for c, ln in zip(checks_raw, lines))
    first: dict[str, tuple[str, int]] = {}
    for c, ln in zip(checks, lines):
        if c.slug in first:
            name, at = first[c.slug]
            same = f"name {c.name!r} is used twice" if name == c.name else f"names {name!r} and {c.name!r} are one"
            raise TargetError(f"{shown}:{ln}: uptime check {same} (first at line {at}): the `check` label "
                              f"{c.slug!r} of the uptime series would hide one of them")
        first[c.slug] = (c.name, ln)
    try:
        auth = httpauth.parse(doc, shown, path.parent)
    except httpauth.AuthConfigError as e:
        raise TargetError(str(e)) from None
    runner = doc.get("runner")
    if runner is not None and runner not in RUNNERS:
        raise TargetError(f"{shown}:{yamlpos.line_of(doc, 'runner')}: runner must be one of {', '.join(RUNNERS)}, got {runner!r}")
    return Target(
        environment=str(doc.get("environment") or path.stem),
        source=shown,
        auth=auth,
        runner=runner,
        ssh=_ssh(doc, shown),
        hosts=tuple(hosts_raw),
        node_exporter=node_exporter,
        min_free_disk_percent=_num(doc, "min_free_disk_percent", shown, None),
        checks=checks,
        **cast(Any, urls),
    )


def resolve(
    repo: Path,
    env_name: str | None,
    options: Mapping[str, str | None],
    environ: Mapping[str, str] = os.environ,
) -> Target:
    """Build the target from ``--env``/``MONCHECK_ENV``, options and ``MONCHECK_*_URL`` variables.

    Options win over environment variables, which win over the env file.
    """
    chosen = env_name or environ.get("MONCHECK_ENV") or None
    name = chosen or DEFAULT_ENV
    if name.endswith((".yml", ".yaml")):  # an environment file kept elsewhere
        path = Path(name)
        rel = name
        if not path.is_file():
            raise TargetError(f"{name}: no such environment file")
    elif not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise TargetError(f"invalid environment name {name!r} (a name of monitoring/uptime/, or a .yml file)")
    else:
        rel = f"monitoring/uptime/{name}.yml"
        path = repo / rel
    if path.is_file():
        target = load_env_file(path, rel)
    elif chosen:
        known = sorted(p.stem for p in (repo / "monitoring/uptime").glob("*.yml"))
        raise TargetError(f"{rel}: no such environment (known: {', '.join(known) or 'none'})")
    else:
        target = Target(environment=DEFAULT_ENV, source="<default>")
    overrides: dict[str, str] = {}
    for key in URL_KEYS:
        value = options.get(key) or environ.get(ENV_VARS[key])
        if value:
            if urlsplit(value).scheme not in ("http", "https"):
                raise TargetError(f"{key}: not an http(s) URL: {value!r}")
            overrides[key] = value
    target = replace(target, explicit=bool(chosen), explicit_urls=frozenset(overrides), **cast(Any, overrides))
    check_loopback(target)
    return target


def check_loopback(target: Target) -> None:
    """Refuse non-loopback URLs the user did not name (e.g. in the default ``local`` file)."""
    if target.explicit:
        return
    urls = [(k, getattr(target, k)) for k in URL_KEYS if k not in target.explicit_urls]
    urls += [(f"check {c.name!r}", c.url) for c in target.checks if urlsplit(c.url).scheme]
    for what, url in urls:
        if url and not is_loopback(url):
            raise TargetError(
                f"{target.source}: {what} points at {url}, which is not loopback; name the "
                f"environment explicitly (--env / MONCHECK_ENV) or pass the URL as an option"
            )
    remote = [h for h in target.hosts if not is_local_host(h)]
    if remote:
        raise TargetError(f"{target.source}: hosts {remote} are only checked with an explicit --env")


def is_local_host(host: str) -> bool:
    """A host entry served by testinfra's local backend (localhost, loopback, local://)."""
    if host in ("local", "local://", "localhost"):
        return True
    return is_loopback(f"http://{host.split('://')[-1].split('@')[-1]}")
