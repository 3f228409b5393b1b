"""An authenticated local deployment: real Prometheus and Alertmanager behind ``--web.config.file``.

``with SecureStack(repo) as s:`` generates, in a private temporary folder, a CA, a server
certificate for 127.0.0.1 and a client certificate (``cryptography``), a password and its bcrypt
hash, and starts on loopback with free ports:

- the reference service (plain HTTP, as the local stack runs it);
- Prometheus with the repository's configuration and rules (as the local stack derives them) over
  TLS, requiring a client certificate signed by the CA *and* basic auth; it scrapes itself and
  Alertmanager with those credentials;
- Alertmanager with the repository's routing over TLS with basic auth.

``s.env_file(...)`` writes an environment file referencing the credentials (files and variable
names only). Every process stops and the folder is removed on exit, failure, Ctrl-C or SIGTERM.
This is what the end-to-end tests and ``bench/smoke_auth.py`` run smoke, report and
``slo report`` against.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any, Self

import yaml

from moncheck import atomic, httpauth, toolchain
from moncheck.stack import config as cfg
from moncheck.stack.procs import Proc, StackError, free_port, stop_all, tail

USER = "moncheck"
PASSWORD_ENV = "MONCHECK_SECURE_PASSWORD"  # the variable env files name for the password


def _certs(d: Path) -> dict[str, Path]:
    """CA, server (127.0.0.1, localhost) and client certificates, plus an unrelated CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write(stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        (d / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path = d / f"{stem}-key.pem"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)

    def ca(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        return cert, key

    def leaf(cn: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], server: bool) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer[0].subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                   else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        return b.sign(issuer[1], hashes.SHA256()), key

    the_ca = ca("moncheck test CA")
    other_ca = ca("some other CA")
    write("ca", *the_ca)
    write("other-ca", *other_ca)
    write("server", *leaf("127.0.0.1", the_ca, server=True))
    write("client", *leaf("moncheck smoke", the_ca, server=False))
    write("other-client", *leaf("moncheck smoke", other_ca, server=False))
    return {stem: d / f"{stem}.pem" for stem in ("ca", "other-ca", "server", "client", "other-client")}


class SecureStack:
    """Context manager owning the processes and the folder of one authenticated deployment."""

    def __init__(self, repo: Path | str = ".", speed: float = 15.0, ready_timeout: float = 30.0) -> None:
        self.repo = Path(repo).resolve()
        self.speed = speed  # time compression of the local stack: scrapes every second or so
        self.ready_timeout = ready_timeout
        self.dir: Path | None = None
        self.procs: list[Proc] = []
        self.password = secrets.token_urlsafe(18)
        self.ports: dict[str, int] = {}
        self.certs: dict[str, Path] = {}
        self._old_sigterm: Any = None

    @property
    def prometheus_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['prometheus']}"

    @property
    def alertmanager_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['alertmanager']}"

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['service']}"

    def __enter__(self) -> Self:
        self._old_sigterm = signal.signal(signal.SIGTERM, self._on_term)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        self.stop()
        raise SystemExit(128 + signum)

    def _web_config(self, d: Path, client_cert: bool) -> Path:
        import bcrypt

        hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=4)).decode()
        tls: dict[str, Any] = {"cert_file": str(self.certs["server"]), "key_file": str(d / "server-key.pem")}
        if client_cert:
            tls |= {"client_auth_type": "RequireAndVerifyClientCert", "client_ca_file": str(self.certs["ca"])}
        path = d / ("web-mtls.yml" if client_cert else "web.yml")
        atomic.write_text(path, yaml.safe_dump({"tls_server_config": tls, "basic_auth_users": {USER: hashed}}))
        return path

    def _client(self, d: Path, client_cert: bool) -> dict[str, Any]:
        """Prometheus' own HTTP client settings to reach a protected component."""
        (d / "password").write_text(self.password)
        (d / "password").chmod(0o600)
        tls: dict[str, Any] = {"ca_file": str(self.certs["ca"])}
        if client_cert:
            tls |= {"cert_file": str(self.certs["client"]), "key_file": str(d / "client-key.pem")}
        return {"scheme": "https", "tls_config": tls,
                "basic_auth": {"username": USER, "password_file": str(d / "password")}}

    def _start(self) -> None:
        self.dir = d = Path(tempfile.mkdtemp(prefix="moncheck-secure-"))
        d.chmod(0o700)
        self.certs = _certs(d)
        self.ports = {k: free_port() for k in ("service", "control", "prometheus", "alertmanager", "telemetry")}
        p = self.ports
        derived = cfg.write_prometheus(self.repo, d / "prometheus", cfg.Targets(
            service=f"127.0.0.1:{p['service']}", prometheus=f"127.0.0.1:{p['prometheus']}",
            alertmanager=f"127.0.0.1:{p['alertmanager']}", node=None), self.speed)
        prom_cfg = yaml.safe_load(derived.config_path.read_text(encoding="utf-8"))
        for job in prom_cfg.get("scrape_configs") or []:
            role = cfg.job_role(job)
            if role in ("prometheus", "alertmanager"):
                job.update(self._client(d, client_cert=role == "prometheus"))
        prom_cfg["alerting"]["alertmanagers"][0].update(self._client(d, client_cert=False))
        atomic.write_text(derived.config_path, yaml.safe_dump(prom_cfg, sort_keys=False))
        # Receivers point at a closed loopback port: nothing leaves the machine.
        am_config = cfg.write_alertmanager(self.repo, d / "alertmanager", "http://127.0.0.1:9",
                                           "127.0.0.1:9", self.speed)
        self.procs = [
            Proc("service", [sys.executable, "-m", "moncheck.service", "--host", "127.0.0.1",
                             "--port", str(p["service"]), "--control-port", str(p["control"]),
                             "--catalog", str(self.repo / "monitoring/catalog/metrics.yml")],
                 d / "service.log", f"{self.service_url}/metrics",
                 env={"PROMETHEUS_DISABLE_CREATED_SERIES": "True", **self.telemetry_env()}),
            # Error tracking and tracing of this deployment (Sentry envelopes, OTLP traces).
            Proc("telemetry", [sys.executable, "-m", "moncheck.stack.telemetry", "--port", str(p["telemetry"])],
                 d / "telemetry.log", f"{self.telemetry_url}/health"),
            Proc("alertmanager", [toolchain.binary("alertmanager"), f"--config.file={am_config}",
                                  f"--web.config.file={self._web_config(d, client_cert=False)}",
                                  f"--storage.path={d / 'alertmanager-data'}",
                                  f"--web.listen-address=127.0.0.1:{p['alertmanager']}",
                                  "--cluster.listen-address="],
                 d / "alertmanager.log", f"{self.alertmanager_url}/-/ready"),
            Proc("prometheus", [toolchain.binary("prometheus"), f"--config.file={derived.config_path}",
                                f"--web.config.file={self._web_config(d, client_cert=True)}",
                                f"--storage.tsdb.path={d / 'prometheus-data'}",
                                f"--web.listen-address=127.0.0.1:{p['prometheus']}"],
                 d / "prometheus.log", f"{self.prometheus_url}/-/ready"),
        ]
        for proc in self.procs:
            proc.start()
        self.procs[0].wait_ready(self.ready_timeout)
        self.procs[1].wait_ready(self.ready_timeout)
        for proc, target in zip(self.procs[2:], ("alertmanager", "prometheus")):
            self._wait(proc, self.right_auth(target))

    def _wait(self, proc: Proc, auth: httpauth.HttpAuth) -> None:
        session = httpauth.new_session(auth, {PASSWORD_ENV: self.password})
        deadline = time.monotonic() + self.ready_timeout
        last = ""
        while time.monotonic() < deadline:
            if not proc.alive():
                raise StackError(f"{proc.name} exited before it was ready:\n{tail(proc.log)}")
            try:
                r = session.get(proc.ready_url, timeout=1)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except Exception as e:  # noqa: BLE001 - any failure means "not yet"
                last = type(e).__name__
            time.sleep(0.1)
        raise StackError(f"{proc.name} not ready at {proc.ready_url} ({last}):\n{tail(proc.log)}")

    @property
    def telemetry_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['telemetry']}"

    def telemetry_env(self) -> dict[str, str]:
        """The DSN and OTLP endpoint of this deployment, as a deployed environment sets them."""
        from moncheck.stack.telemetry import service_env  # not at import: it runs as `python -m`

        return service_env(self.telemetry_url)

    def right_auth(self, target: str) -> httpauth.HttpAuth:
        """The credentials that work, as an environment file would reference them."""
        assert self.dir is not None
        mtls = target == "prometheus"
        return httpauth.HttpAuth(
            target, "<secure stack>", username=USER,
            password=httpauth.Secret("env", PASSWORD_ENV, f"{target} password"),
            ca=httpauth.Secret("file", str(self.certs["ca"]), f"{target} CA bundle"),
            cert=httpauth.Secret("file", str(self.certs["client"]), f"{target} client certificate") if mtls else None,
            key=httpauth.Secret("file", str(self.dir / "client-key.pem"), f"{target} client key") if mtls else None)

    def env_file(self, path: Path, *, ca: str = "ca", client: str = "client",
                 with_auth: bool = True) -> Path:
        """An environment file for this deployment; ``ca``/``client`` pick which generated
        certificates it references (``other-ca``, ``other-client`` for the failure cases)."""
        assert self.dir is not None
        doc: dict[str, Any] = {
            "environment": "secure", "service_url": self.service_url,
            "prometheus_url": self.prometheus_url, "alertmanager_url": self.alertmanager_url,
            "hosts": ["localhost"], "node_exporter": False,
            "checks": [{"name": "api_health", "url": "/health", "interval": 30, "timeout": 5,
                        "expected_status": 200}],
        }
        if with_auth:
            basic = {"username": USER, "password_env": PASSWORD_ENV}
            doc["auth"] = {
                "prometheus": {"basic_auth": basic, "ca_file": str(self.dir / f"{ca}.pem"),
                               "cert_file": str(self.dir / f"{client}.pem"),
                               "key_file": str(self.dir / f"{client}-key.pem")},
                "alertmanager": {"basic_auth": basic, "ca_file": str(self.dir / f"{ca}.pem")},
            }
        atomic.write_text(path, yaml.safe_dump(doc, sort_keys=False))
        return path

    def stop(self) -> None:
        stop_all(self.procs)
        self.procs = []
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None
