"""Set-up of a fetched toolchain: Debian packages of a newer suite, with apt's own tools.

``python -m moncheck.toolchain fetch [NAME]`` (``make setup`` runs it) does, for a toolchain of
``versions.yml`` with a ``fetch`` section:

1. Takes the Debian mirror from the machine's own apt sources (``/etc/apt/sources.list.d/*.sources``
   and ``/etc/apt/sources.list``) at run time; ``MONCHECK_DEBIAN_MIRROR`` overrides it.
2. Writes a private apt configuration under ``<home>/apt`` (its own sources list naming the newer
   suites with ``Signed-By`` the machine's Debian keyring, its own state, lists and cache), runs
   ``apt-get update`` (release signatures checked; any failed index is an error) and
   ``apt-get download`` of the pinned versions (package hashes checked against the signed index).
3. Unpacks each package with ``dpkg-deb -x`` into a staging folder, keeps the binaries, checks that
   each runs and reports the pinned upstream version, and renames the folder into place with a
   manifest. Nothing is installed system-wide and no service starts.

A second run finds the manifest matching the pins and does nothing (no network). Every failure is
one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moncheck import toolchain as tc_mod

SOURCES_DIR = Path("/etc/apt/sources.list.d")
SOURCES_LIST = Path("/etc/apt/sources.list")
APT_TIMEOUT_S = 600


class FetchError(Exception):
    """Set-up cannot fetch the toolchain; the message is the one line the user sees."""


@dataclass(frozen=True)
class Source:
    uri: str
    keyring: str
    origin: str  # the file it came from, for messages


def upstream(version: str) -> str:
    """``3.5.3`` of Debian version ``3.5.3+ds1-6`` (epoch, repack suffix and revision dropped)."""
    v = version.split(":", 1)[-1]
    v = v.rsplit("-", 1)[0] if "-" in v else v
    return re.split(r"[+~]", v, maxsplit=1)[0]


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    key = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if cur:
                stanzas.append(cur)
            cur, key = {}, ""
            continue
        if raw[0] in " \t" and key:
            cur[key] += "\n" + raw.strip()
            continue
        k, _, v = raw.partition(":")
        key = k.strip().lower()
        cur[key] = v.strip()
    if cur:
        stanzas.append(cur)
    return stanzas


def _is_debian_main(uri: str, suites: list[str], keyring: str) -> bool:
    """The main Debian archive: a plain codename suite (not -security/-updates/-backports) signed
    by the Debian archive keyring (or named as a Debian path)."""
    plain = any(s and "-" not in s and "/" not in s for s in suites)
    debian = "debian-archive" in keyring or uri.rstrip("/").endswith("/debian")
    return plain and debian and "security" not in uri


def machine_sources(sources_dir: Path = SOURCES_DIR, sources_list: Path = SOURCES_LIST) -> list[Source]:
    """The Debian archive entries of the machine's apt sources, in apt's reading order."""
    out: list[Source] = []
    if sources_list.is_file():
        for raw in sources_list.read_text(encoding="utf-8", errors="replace").splitlines():
            words = raw.split("#", 1)[0].split()
            if len(words) < 3 or words[0] != "deb":
                continue
            opts = ""
            if words[1].startswith("["):
                end = next((i for i, w in enumerate(words) if w.endswith("]")), 1)
                opts, words = " ".join(words[1:end + 1]), [words[0], *words[end + 1:]]
            m = re.search(r"signed-by=(\S+?)\]?(\s|$)", opts)
            keyring = m.group(1) if m else ""
            if len(words) >= 3 and _is_debian_main(words[1], [words[2]], keyring):
                out.append(Source(words[1], keyring, str(sources_list)))
    for f in sorted(sources_dir.glob("*.sources")) if sources_dir.is_dir() else []:
        for st in _deb822_stanzas(f.read_text(encoding="utf-8", errors="replace")):
            if "deb" not in st.get("types", "").split() or st.get("enabled", "yes").lower() == "no":
                continue
            keyring = st.get("signed-by", "")
            suites = st.get("suites", "").split()
            for uri in st.get("uris", "").split():
                if _is_debian_main(uri, suites, keyring):
                    out.append(Source(uri, keyring if keyring.startswith("/") else "", str(f)))
    return out


def pick_source(fetch: dict[str, Any]) -> Source:
    env = os.environ.get("MONCHECK_DEBIAN_MIRROR", "").strip()
    keyring = str(fetch.get("keyring") or "/usr/share/keyrings/debian-archive-keyring.gpg")
    if env:
        return Source(env, keyring, "MONCHECK_DEBIAN_MIRROR")
    found = machine_sources()
    if not found:
        raise FetchError(f"no Debian archive among the machine's apt sources ({SOURCES_DIR}/*.sources, "
                         f"{SOURCES_LIST}); set MONCHECK_DEBIAN_MIRROR=<Debian mirror URI>, or use "
                         "MONCHECK_TOOLCHAIN=2")
    src = found[0]
    return Source(src.uri, src.keyring or keyring, src.origin)


class PrivateApt:
    """apt-get/apt-cache with their own sources, state and cache under ``root``."""

    def __init__(self, root: Path, source: Source, suites: list[str], component: str) -> None:
        self.root = root
        self.source = source
        etc, state, cache = root / "etc", root / "state", root / "cache"
        for d in (etc / "sources.list.d", etc / "preferences.d", state / "lists" / "partial",
                  cache / "archives" / "partial"):
            d.mkdir(parents=True, exist_ok=True)
        (state / "status").touch()
        (etc / "sources.list.d" / "moncheck.sources").write_text(
            f"Types: deb\nURIs: {source.uri}\nSuites: {' '.join(suites)}\nComponents: {component}\n"
            f"Signed-By: {source.keyring}\n", encoding="utf-8")
        user = "root" if os.geteuid() == 0 else ""
        self.opts = [
            f"-oDir::Etc::sourcelist={os.devnull}", f"-oDir::Etc::sourceparts={etc / 'sources.list.d'}",
            f"-oDir::Etc::preferences={os.devnull}", f"-oDir::Etc::preferencesparts={etc / 'preferences.d'}",
            f"-oDir::State={state}", f"-oDir::State::status={state / 'status'}", f"-oDir::Cache={cache}",
            "-oDebug::NoLocking=1", "-oAcquire::Retries=2", "-oAcquire::http::Timeout=30",
            "-oAcquire::AllowInsecureRepositories=false", "-oAPT::Get::AllowUnauthenticated=false",
            "-oAcquire::Languages=none", "-oAcquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false",
            *([f"-oAPT::Sandbox::User={user}"] if user else []),
        ]

    def run(self, tool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([tool, "-q", *self.opts, *args], cwd=cwd, capture_output=True,
                                  text=True, errors="replace", timeout=APT_TIMEOUT_S, check=False,
                                  env={**os.environ, "LC_ALL": "C"})
        except FileNotFoundError:
            raise FetchError(f"{tool} is not installed: the fetched toolchain needs apt; use "
                             "MONCHECK_TOOLCHAIN=2 with prometheus/alertmanager on PATH") from None
        except subprocess.TimeoutExpired:
            raise FetchError(f"{tool} {args[0]} did not finish within {APT_TIMEOUT_S}s") from None

    def update(self, suites: list[str]) -> None:
        p = self.run("apt-get", "--error-on=any", "update")
        if p.returncode != 0:
            reason = _apt_reason(p.stdout + p.stderr)
            raise FetchError(f"cannot reach the Debian suite(s) {', '.join(suites)} on the mirror of "
                             f"{self.source.origin} with signatures checked ({reason}); fix the "
                             "network or MONCHECK_DEBIAN_MIRROR, or use MONCHECK_TOOLCHAIN=2")

    def versions(self, package: str) -> list[str]:
        p = self.run("apt-cache", "madison", package)
        return [parts[1].strip() for line in p.stdout.splitlines()
                if len(parts := line.split("|")) >= 3]


def _apt_reason(output: str) -> str:
    """The first error apt printed (an ``Err:`` line with the reason indented below it)."""
    lines = output.splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith(("Err:", "E:")):
            more = lines[i + 1].strip() if ln.startswith("Err:") and i + 1 < len(lines) else ""
            return " ".join(f"{ln} {more}".split())[:240]
    return " ".join((output.strip().splitlines() or ["apt-get failed"])[-1].split())[:240]


def _choose(apt: PrivateApt, package: str, pin: str) -> str:
    have = apt.versions(package)
    if pin in have:
        return pin
    same = [v for v in have if upstream(v) == upstream(pin)]
    if same:
        print(f"moncheck setup: {package} {pin} is gone from the suite; using {same[0]} "
              f"(same upstream version {upstream(pin)})", file=sys.stderr)
        return same[0]
    raise FetchError(f"{package} {pin} (pinned in {tc_mod.VERSIONS_FILE.name}) is not in the suite "
                     f"(it has: {', '.join(have) or 'none'}); update the pin")


def up_to_date(name: str, root: Path) -> bool:
    """The manifest of ``name`` matches the pins (same upstream versions) and every binary is there."""
    tc = tc_mod.spec()["toolchains"][name]
    m = tc_mod.manifest(name, root)
    if m is None:
        return False
    got = m.get("packages") or {}
    pins = tc["fetch"]["packages"]
    if any(upstream(str(got.get(p, ""))) != upstream(str(v)) for p, v in pins.items()):
        return False
    return all(os.access(root / name / rel, os.X_OK) for rel in tc["binaries"].values())


def fetch(name: str, root: Path) -> dict[str, Any]:
    """Fetch toolchain ``name`` into ``root/name``; the manifest written. Raises FetchError."""
    tc = tc_mod.spec()["toolchains"][name]
    f = tc["fetch"]
    suites = [str(s) for s in f["suites"]]
    source = pick_source(f)
    if not Path(source.keyring).is_file():
        raise FetchError(f"Debian keyring {source.keyring} is missing: install debian-archive-keyring")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        apt = PrivateApt(root / "apt", source, suites, str(f.get("component", "main")))
        apt.update(suites)
        chosen = {pkg: _choose(apt, pkg, str(pin)) for pkg, pin in f["packages"].items()}
        debs = staging / "debs"
        debs.mkdir()
        p = apt.run("apt-get", "download", *(f"{k}={v}" for k, v in chosen.items()), cwd=debs)
        if p.returncode != 0:
            raise FetchError(f"apt-get download failed: {_apt_reason(p.stdout + p.stderr)}")
        tree = staging / "tree"
        for deb in sorted(debs.glob("*.deb")):
            x = subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], capture_output=True, text=True, check=False)
            if x.returncode != 0:
                raise FetchError(f"dpkg-deb -x {deb.name} failed: {x.stderr.strip()[:200]}")
        out = staging / "out"
        versions = {}
        for tool, rel in tc["binaries"].items():
            src = tree / rel
            if not src.is_file():
                raise FetchError(f"{rel} is not in the packages {', '.join(chosen)}")
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), out / rel)
            versions[tool] = tc_mod.version_of(str(out / rel))
            if versions[tool] == "?":
                raise FetchError(f"{rel} from {', '.join(chosen)} does not run on this machine "
                                 "(`--version` failed)")
        manifest = {"name": name, "packages": chosen, "versions": versions, "suites": suites}
        (out / tc_mod.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        final = root / name
        if final.exists():
            shutil.rmtree(final)
        os.replace(out, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        # The indexes (tens of MB) are not needed once the binaries are in place.
        shutil.rmtree(root / "apt", ignore_errors=True)
    return manifest


def ensure(name: str, root: Path) -> str:
    """One status line; fetches only when the installed toolchain does not match the pins."""
    if up_to_date(name, root):
        m = tc_mod.manifest(name, root) or {}
        return f"moncheck setup: toolchain {name} ready ({_versions_text(m)})"
    m = fetch(name, root)
    return f"moncheck setup: toolchain {name} fetched into {root / name} ({_versions_text(m)})"


def _versions_text(m: dict[str, Any]) -> str:
    return ", ".join(f"{p} {v}" for p, v in (m.get("packages") or {}).items())
