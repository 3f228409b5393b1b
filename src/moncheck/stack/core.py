"""The local stack: reference service, sink, Prometheus, Alertmanager (and node exporter) on loopback.

``with Stack(repo, speed=30) as s:`` starts everything with free ports and a temporary directory,
waits until each component is ready, and on exit, failure, exception, Ctrl-C or SIGTERM stops every
process (whole process groups) and removes the directory.
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from moncheck.drills import compress as cz
from moncheck.stack import config as cfg
from moncheck.stack.procs import Proc, StackError, free_port

ALERTMANAGER_NAMES = ("alertmanager", "prometheus-alertmanager")
NODE_EXPORTER_NAMES = ("prometheus-node-exporter", "node_exporter", "node-exporter")


def find_binary(names: tuple[str, ...]) -> str | None:
    for n in names:
        path = shutil.which(n)
        if path:
            return path
    return None


def missing_binaries() -> list[str]:
    """Required binaries that are not installed (for a clean skip / exit 2)."""
    out = []
    if not shutil.which("prometheus"):
        out.append("prometheus")
    if not find_binary(ALERTMANAGER_NAMES):
        out.append("alertmanager (or prometheus-alertmanager)")
    return out


@dataclass
class Ports:
    service: int
    control: int
    sink: int
    smtp: int
    prometheus: int
    alertmanager: int
    node: int | None


class Stack:
    """Context manager owning every process and the temporary directory of one local stack."""

    def __init__(self, repo: Path | str = ".", speed: float = 1.0, *, node_exporter: bool = True,
                 ready_timeout: float = 30.0, sink_module: str = "moncheck.stack.sink") -> None:
        self.repo = Path(repo).resolve()
        self.speed = float(speed)
        self.ready_timeout = ready_timeout
        self.sink_module = sink_module  # test seam: another sink speaking the same protocol
        self.node_binary = find_binary(NODE_EXPORTER_NAMES) if node_exporter else None
        self.dir: Path | None = None
        self.procs: dict[str, Proc] = {}
        self.ports: Ports | None = None
        self.derived: cfg.Derived | None = None
        self._old_sigterm: Any = None
        self.started_at = time.monotonic()
        self.uptime_interval = 10.0  # set from monitoring/uptime/local.yml at start

    # ---------------------------------------------------------------- URLs
    def _url(self, port: int | None) -> str:
        return f"http://127.0.0.1:{port}"

    @property
    def prometheus_url(self) -> str:
        return self._url(self.ports.prometheus)

    @property
    def alertmanager_url(self) -> str:
        return self._url(self.ports.alertmanager)

    @property
    def sink_url(self) -> str:
        return self._url(self.ports.sink)

    @property
    def service_url(self) -> str:
        return self._url(self.ports.service)

    @property
    def control_url(self) -> str:
        return self._url(self.ports.control)

    @property
    def node_url(self) -> str | None:
        return self._url(self.ports.node) if self.ports.node else None

    def urls(self) -> dict[str, str]:
        out = {"service": self.service_url, "fault control": self.control_url,
               "prometheus": self.prometheus_url, "alertmanager": self.alertmanager_url,
               "sink": self.sink_url, "sink smtp": f"127.0.0.1:{self.ports.smtp}"}
        if self.node_url:
            out["node exporter"] = self.node_url
        return out

    @property
    def dropped_jobs(self) -> dict[str, str]:
        return self.derived.dropped_jobs if self.derived else {}

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        missing = missing_binaries()
        if missing:
            raise StackError(f"missing binaries: {', '.join(missing)}")
        self._trap_sigterm()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _trap_sigterm(self) -> None:
        # SIGTERM becomes SystemExit so `finally`/`__exit__` run and nothing is left behind.
        if threading.current_thread() is threading.main_thread():
            def on_term(signum: int, frame: FrameType | None) -> None:
                raise SystemExit(128 + signum)
            self._old_sigterm = signal.signal(signal.SIGTERM, on_term)

    def _start(self) -> None:
        self.started_at = time.monotonic()  # `$__range` of the dashboard check
        self.dir = Path(tempfile.mkdtemp(prefix="moncheck-stack-"))
        node = free_port() if self.node_binary else None
        self.ports = p = Ports(free_port(), free_port(), free_port(), free_port(), free_port(),
                               free_port(), node)
        d = self.dir
        try:
            self.derived = cfg.write_prometheus(
                self.repo, d / "prometheus",
                cfg.Targets(service=f"127.0.0.1:{p.service}", prometheus=f"127.0.0.1:{p.prometheus}",
                            alertmanager=f"127.0.0.1:{p.alertmanager}",
                            node=f"127.0.0.1:{p.node}" if node else None),
                self.speed)
            am_config = cfg.write_alertmanager(self.repo, d / "alertmanager", self.sink_url,
                                               f"127.0.0.1:{p.smtp}", self.speed)
            self.uptime_interval = cfg.uptime_interval(self.repo, self.speed)
        except cz.CompressionError as e:
            raise StackError(f"cannot derive the stack configuration at speed {self.speed:g}:\n{e}") from None
        except Exception as e:  # noqa: BLE001 - a LoadError from yamlpos names file and line
            raise StackError(f"cannot derive the stack configuration: {e}") from None
        py = sys.executable
        self._add("sink", [py, "-m", self.sink_module, "--host", "127.0.0.1", "--port", str(p.sink),
                           "--smtp-port", str(p.smtp)], f"{self.sink_url}/notifications")
        self._add_service()
        if node:
            self._add("node-exporter", [self.node_binary, f"--web.listen-address=127.0.0.1:{node}"],
                      f"{self.node_url}/metrics")
        self._add("alertmanager", [
            find_binary(ALERTMANAGER_NAMES), f"--config.file={am_config}",
            f"--storage.path={d / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{p.alertmanager}", "--cluster.listen-address=",
        ], f"{self.alertmanager_url}/-/ready")
        self._add("prometheus", [
            shutil.which("prometheus"), f"--config.file={self.derived.config_path}",
            f"--storage.tsdb.path={d / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{p.prometheus}", "--web.enable-lifecycle",
        ], f"{self.prometheus_url}/-/ready")
        for proc in self.procs.values():
            proc.start()
        for proc in self.procs.values():
            proc.wait_ready(self.ready_timeout)
        self.wait_targets_up()

    def wait_targets_up(self, timeout: float | None = None) -> None:
        """Wait until Prometheus has scraped every target once (discovery applies after ~5s)."""
        import time

        import requests
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        down: list[str] = ["(no target yet)"]
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                data = requests.get(f"{self.prometheus_url}/api/v1/targets", timeout=2).json()["data"]
                targets = data["activeTargets"]
                down = [f"{t['labels'].get('job')} ({t['lastError'] or t['health']})"
                        for t in targets if t["health"] != "up"]
                if targets and not down:
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise StackError(f"Prometheus targets not up after the ready timeout: {', '.join(down)}")

    def _add(self, name: str, argv: list[str], ready: str, env: dict[str, str] | None = None) -> None:
        self.procs[name] = Proc(name, argv, self.dir / "logs" / f"{name}.log", ready, env)

    def _add_service(self) -> None:
        p = self.ports
        self._add("service", [
            sys.executable, "-m", "moncheck.service", "--host", "127.0.0.1", "--port", str(p.service),
            "--control-port", str(p.control),
            "--catalog", str(self.repo / "monitoring/catalog/metrics.yml"),
            # The seed's uptime monitor on itself, compressed like everything else, so that the
            # uptime_check metrics (UptimeCheckFailing, the uptime SLO) have samples in every window.
            "--uptime-interval", f"{self.uptime_interval:g}",
        ], f"{self.service_url}/metrics", env={"PROMETHEUS_DISABLE_CREATED_SERIES": "True"})

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            try:
                proc.stop()
            except Exception:  # noqa: BLE001, S110 - keep stopping the others
                pass
        self.procs.clear()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None

    # ---------------------------------------------------------------- drills
    def stop_service(self) -> None:
        """Stop the reference service (target-down drills); `start_service` brings it back."""
        self.procs["service"].stop()

    def start_service(self) -> None:
        proc = self.procs["service"]
        proc.start()
        proc.wait_ready(self.ready_timeout)

    def check_alive(self) -> None:
        """Raise StackError naming a component that died, with its log tail."""
        from moncheck.stack.procs import tail
        for name, proc in self.procs.items():
            if proc.popen is not None and not proc.alive():
                raise StackError(f"{name} exited with status {proc.popen.returncode}; "
                                 f"last lines of its log:\n{tail(proc.log)}")
