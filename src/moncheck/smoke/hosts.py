"""Host checks through pytest-testinfra hosts (local backend or ssh://)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from moncheck.netutil import is_loopback
from moncheck.smoke.targets import URL_KEYS, Target, is_local_host

DEFAULT_MIN_FREE_DISK_PERCENT = 10.0
NODE_EXPORTER_COMMS = ("node_exporter", "prometheus-node")  # comm is cut at 15 characters
NODE_EXPORTER_PORT = 9100


def ports_on(target: Target, host: str) -> list[int]:
    """Ports of the target's URLs served by ``host`` ("local": every loopback URL)."""
    ports = []
    for key in URL_KEYS:
        url = getattr(target, key)
        if not url:
            continue
        parts = urlsplit(url)
        mine = is_loopback(url) if is_local_host(host) else parts.hostname == host.split("://")[-1].split("@")[-1]
        if mine:
            ports.append(parts.port or (443 if parts.scheme == "https" else 80))
    return sorted(set(ports))


def listening(host: Any, port: int) -> bool:
    """Any listening TCP socket on ``port`` (any address: loopback, wildcard or a public one)."""
    return any(s.rsplit(":", 1)[-1] == str(port) for s in host.socket.get_listening_sockets()
               if s.startswith("tcp"))


def disk_free_percent(host: Any, path: str = "/") -> float:
    """Space available to non-root users as a percentage of the filesystem size (as node exporter)."""
    out = host.check_output(f"df -Pk {path}")
    fields = out.splitlines()[-1].split()
    size, avail = float(fields[1]), float(fields[3])
    return 100.0 * avail / size if size else 0.0


def min_free_percent(run: Any) -> float:
    """The environment file's ``min_free_disk_percent`` (the uptime schema's key), else 10.

    The policy is not read for it: ``policy.yml`` has no such key (its schema rejects it), and a
    second source for one threshold is how the two drift apart."""
    if run.target.min_free_disk_percent is not None:
        return float(run.target.min_free_disk_percent)
    return DEFAULT_MIN_FREE_DISK_PERCENT


def node_exporter_running(host: Any) -> bool:
    for comm in NODE_EXPORTER_COMMS:
        if host.process.filter(comm=comm):
            return True
    return listening(host, NODE_EXPORTER_PORT)
