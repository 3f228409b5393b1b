"""Host checks with pytest-testinfra: ports listen, disk has room, node exporter runs."""

import pytest

from moncheck.smoke import hosts as hosts_mod
from moncheck.smoke.retry import SmokeFailure


def test_service_ports_listen(smoke_target, smoke_hosts):
    for host, name in zip(smoke_hosts, smoke_target.hosts or ("local",)):
        ports = hosts_mod.ports_on(smoke_target, name)
        if not ports:
            pytest.skip(f"no target URL is served by host {name}")
        closed = [p for p in ports if not hosts_mod.listening(host, p)]
        if closed:
            raise SmokeFailure("service ports listen", name, f"not listening: {', '.join(map(str, closed))}")


def test_disk_free(smoke_run, smoke_hosts):
    minimum = hosts_mod.min_free_percent(smoke_run)
    for host, name in zip(smoke_hosts, smoke_run.target.hosts or ("local",)):
        free = hosts_mod.disk_free_percent(host, "/")
        if free <= minimum:
            raise SmokeFailure(f"disk free on / > {minimum:g}%", name, f"{free:.1f}% free")


def test_node_exporter_running(smoke_target, smoke_hosts):
    if not smoke_target.node_exporter:
        pytest.skip(f"environment {smoke_target.environment!r} does not run a node exporter")
    for host, name in zip(smoke_hosts, smoke_target.hosts or ("local",)):
        if not hosts_mod.node_exporter_running(host):
            raise SmokeFailure("node exporter running", name, "no node_exporter process and port 9100 closed")
