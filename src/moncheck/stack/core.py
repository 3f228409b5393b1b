"""The local stack: reference service, sink, Prometheus, Alertmanager (and node exporter) on loopback.

``with Stack(repo, speed=30) as s:`` starts everything with free ports and a temporary directory,
waits until each component is ready, and on exit, failure, exception, Ctrl-C (also twice) or
SIGTERM stops every process (whole process groups) and removes the directory. Each process also
dies with moncheck (parent-death signal), and the directory's ``stack.json`` lets the next start
remove what a SIGKILLed run left (``moncheck.stack.leftovers``).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from moncheck import toolchain
from moncheck.drills import compress as cz
from moncheck.stack import config as cfg
from moncheck.stack import leftovers, signals
from moncheck.stack.procs import Proc, StackError, free_port, signal_group

PORT_RETRIES = 3
NODE_EXPORTER_NAMES = ("prometheus-node-exporter", "node_exporter", "node-exporter")


def find_binary(names: tuple[str, ...]) -> str | None:
    """A helper binary outside the toolchain (node exporter) on PATH."""
    return toolchain.on_path(*names)


def missing_binaries() -> list[str]:
    """Required binaries the selected toolchain lacks, each with why (for a clean skip / exit 2)."""
    out = []
    for tool in ("prometheus", "alertmanager"):
        try:
            toolchain.binary(tool)
        except toolchain.ToolMissing as e:
            out.append(str(e))
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
    telemetry: int = 0  # Sentry envelopes + OTLP traces receiver (moncheck.stack.telemetry)


class Stack:
    """Context manager owning every process and the temporary directory of one local stack."""

    def __init__(self, repo: Path | str = ".", speed: float = 1.0, *, node_exporter: bool = True,
                 ready_timeout: float = 30.0, sink_module: str = "moncheck.stack.sink") -> None:
        self.repo = Path(repo).resolve()
        self.speed = float(speed)
        self.ready_timeout = ready_timeout
        self.sink_module = sink_module  # test seam: another sink speaking the same protocol
        self.node_binary = find_binary(NODE_EXPORTER_NAMES) if node_exporter else None
        self.node_absent = ("prometheus-node-exporter is not installed" if node_exporter
                            else "no node exporter on this stack (not asked for)")
        self.dir: Path | None = None
        self.procs: dict[str, Proc] = {}
        self.ports: Ports | None = None
        self.derived: cfg.Derived | None = None
        self._held = False
        self.marker: leftovers.Marker | None = None
        self.reaped: list[str] = []  # leftovers of killed runs removed at start (for the caller to print)
        self.started_at = time.monotonic()
        self.uptime_interval = 10.0  # set from monitoring/uptime/local.yml at start

    # ---------------------------------------------------------------- URLs
    def _url(self, port: int | None) -> str:
        return f"http://127.0.0.1:{port}"

    @property
    def _p(self) -> Ports:
        if self.ports is None:
            raise StackError("the stack is not started")
        return self.ports

    @property
    def prometheus_url(self) -> str:
        return self._url(self._p.prometheus)

    @property
    def alertmanager_url(self) -> str:
        return self._url(self._p.alertmanager)

    @property
    def sink_url(self) -> str:
        return self._url(self._p.sink)

    @property
    def telemetry_url(self) -> str:
        return self._url(self._p.telemetry)

    @property
    def service_url(self) -> str:
        return self._url(self._p.service)

    @property
    def control_url(self) -> str:
        return self._url(self._p.control)

    @property
    def node_url(self) -> str | None:
        return self._url(self._p.node) if self._p.node else None

    def urls(self) -> dict[str, str]:
        out = {"service": self.service_url, "fault control": self.control_url,
               "prometheus": self.prometheus_url, "alertmanager": self.alertmanager_url,
               "sink": self.sink_url, "sink smtp": f"127.0.0.1:{self._p.smtp}", "telemetry": self.telemetry_url}
        if self.node_url:
            out["node exporter"] = self.node_url
        return out

    @property
    def dropped_jobs(self) -> dict[str, str]:
        return self.derived.dropped_jobs if self.derived else {}

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        missing = missing_binaries()
        if missing:
            raise StackError(f"missing binaries: {', '.join(missing)}")
        signals.hold()
        self._held = True
        try:
            self.reaped = leftovers.reap()
            for attempt in range(PORT_RETRIES):
                try:
                    self._start()
                    break
                except StackError as e:
                    if "address already in use" not in str(e).lower() or attempt == PORT_RETRIES - 1:
                        raise
                    # Another program took a port between pick and bind: start afresh.
                    self._stop_processes()
                    if self.dir is not None:
                        shutil.rmtree(self.dir, ignore_errors=True)
        except BaseException:
            self.stop()
            raise

    def load(self, traffic: Any, seconds: float, *, workers: int = 0, allow_remote: bool = False) -> Any:
        """A bounded Locust run against the service, working in the stack's directory and recorded
        in its marker (so it goes with the stack, whatever happens)."""
        from moncheck.drills.locust_proc import LocustRun
        return LocustRun(self.service_url, traffic, seconds, workers=workers, allow_remote=allow_remote,
                         parent=self.dir, track=self.track)

    def track(self, name: str, popen: subprocess.Popen[bytes]) -> None:
        """Record a process started for this stack (Locust) in its marker, for ``leftovers.reap``."""
        if self.marker is not None:
            self.marker.add(name, popen.pid)

    def _start(self) -> None:
        self.started_at = time.monotonic()  # `$__range` of the dashboard check
        self.marker = leftovers.make_dir()
        self.dir = self.marker.dir
        node = free_port() if self.node_binary else None
        self.ports = p = Ports(free_port(), free_port(), free_port(), free_port(), free_port(),
                               free_port(), node)
        d = self.dir
        try:
            self.derived = cfg.write_prometheus(
                self.repo, d / "prometheus",
                cfg.Targets(service=f"127.0.0.1:{p.service}", prometheus=f"127.0.0.1:{p.prometheus}",
                            alertmanager=f"127.0.0.1:{p.alertmanager}",
                            node=f"127.0.0.1:{p.node}" if node else None, node_absent=self.node_absent),
                self.speed)
            am_config = cfg.write_alertmanager(self.repo, d / "alertmanager", self.sink_url,
                                               f"127.0.0.1:{p.smtp}", self.speed)
            self.uptime_interval = cfg.uptime_interval(self.repo, self.speed)
        except cz.CompressionError as e:
            raise StackError(f"cannot derive the stack configuration at speed {self.speed:g}:\n{e}") from None
        except Exception as e:  # noqa: BLE001 - a LoadError from yamlpos names file and line
            raise StackError(f"cannot derive the stack configuration: {e}") from None
        py = sys.executable
        node_bin = self.node_binary
        self._add("sink", [py, "-m", self.sink_module, "--host", "127.0.0.1", "--port", str(p.sink),
                           "--smtp-port", str(p.smtp)], f"{self.sink_url}/notifications")
        p.telemetry = free_port()
        self._add("telemetry", [py, "-m", "moncheck.stack.telemetry", "--port", str(p.telemetry)],
                  f"{self.telemetry_url}/health")
        self._add_service()
        if node:
            self._add("node-exporter", [str(node_bin), f"--web.listen-address=127.0.0.1:{node}"],
                      f"{self.node_url}/metrics")
        self._add("alertmanager", [
            toolchain.binary("alertmanager"), f"--config.file={am_config}",
            f"--storage.path={d / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{p.alertmanager}", "--cluster.listen-address=",
        ], f"{self.alertmanager_url}/-/ready")
        self._add("prometheus", [
            toolchain.binary("prometheus"), f"--config.file={self.derived.config_path}",
            f"--storage.tsdb.path={d / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{p.prometheus}", "--web.enable-lifecycle",
            "--enable-feature=exemplar-storage",  # trace ids of the latency histogram (drills)
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
        marker = self.marker
        assert self.dir is not None
        self.procs[name] = Proc(name, argv, self.dir / "logs" / f"{name}.log", ready, env,
                                on_started=lambda p: marker.add(p.name, p.popen.pid) if marker else None)

    def _add_service(self) -> None:
        from moncheck.stack.telemetry import service_env  # not at import: it runs as `python -m`
        p = self._p
        self._add("service", [
            sys.executable, "-m", "moncheck.service", "--host", "127.0.0.1", "--port", str(p.service),
            "--control-port", str(p.control),
            "--catalog", str(self.repo / "monitoring/catalog/metrics.yml"),
            # The seed's uptime monitor on itself, compressed like everything else, so that the
            # uptime_check metrics (UptimeCheckFailing, the uptime SLO) have samples in every window.
            "--uptime-interval", f"{self.uptime_interval:g}",
        ], f"{self.service_url}/metrics",
            env={"PROMETHEUS_DISABLE_CREATED_SERIES": "True", **service_env(self.telemetry_url)})

    def stop(self) -> None:
        """Stop every process and remove the directory, whatever interrupts it.

        A signal during the stop (only the first one raises, see ``moncheck.stack.signals``) or
        any other exception does not skip a component: the interrupted one is killed outright,
        the others are stopped, the directory is removed, then the exception is raised again.
        """
        pending = self._stop_processes()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            self.marker = None
        if self._held:
            self._held = False
            signals.release()
        if pending is not None and not isinstance(pending, Exception):
            raise pending  # KeyboardInterrupt / SystemExit: the caller still stops

    def _stop_processes(self) -> BaseException | None:
        """Stop every component; the first exception met on the way is returned, not raised."""
        pending: BaseException | None = None
        for proc in reversed(list(self.procs.values())):
            try:
                proc.stop()
            except BaseException as e:  # noqa: BLE001 - keep stopping the others, whatever happened
                pending = pending or e
                if proc.popen is not None:
                    signal_group(proc.popen.pid, signal.SIGKILL)
                    try:
                        proc.popen.wait(5)
                    except BaseException:  # noqa: BLE001, S110 - SIGKILLed: the kernel reaps it with us
                        pass
                    proc.popen = None
        self.procs.clear()
        return pending

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
        if signals.interrupted():  # a parallel run's worker: the main thread is unwinding
            raise StackError("interrupted")
        for name, proc in self.procs.items():
            if proc.popen is not None and not proc.alive():
                raise StackError(f"{name} exited with status {proc.popen.returncode}; "
                                 f"last lines of its log:\n{tail(proc.log)}")

