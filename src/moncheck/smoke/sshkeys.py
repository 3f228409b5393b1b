"""testinfra hosts for a target's host checks, with the SSH key from the environment.

The key (and optionally a known-hosts list) comes from the variables the environment file names
in ``ssh:`` (``key_env``, ``known_hosts_env``); the workflows map them from repository secrets.
They are written for the session only, into a private folder (mode 0700, files 0600) that is
removed afterwards. Without a known-hosts list, a host key is accepted on first use and pinned
for the rest of the session (``StrictHostKeyChecking=accept-new``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moncheck.smoke.targets import Target, is_local_host


class NoKey(Exception):
    """Remote hosts but no SSH key: the reason host checks are skipped."""


def _remote(target: Target) -> list[str]:
    return [h for h in target.hosts if not is_local_host(h)]


def key_reason(target: Target, environ: dict[str, str] | None = None) -> str | None:
    """Why host checks cannot run over SSH (None: they can, or every host is local)."""
    env = os.environ if environ is None else environ
    remote = _remote(target)
    if not remote:
        return None
    ssh = target.ssh
    if ssh is None or not ssh.key_env:
        return (f"{target.source}: hosts {', '.join(remote)} need an SSH key and the file names "
                "none (ssh: {key_env: VARIABLE})")
    if not env.get(ssh.key_env):
        return f"{ssh.key_env} is not set (the SSH key for {', '.join(remote)}, {ssh.source})"
    return None


def _spec(host: str, user: str | None, port: int | None) -> str:
    if "://" in host:
        return host
    netloc = f"{user}@{host}" if user else host
    return f"ssh://{netloc}{f':{port}' if port else ''}"


@contextmanager
def hosts(target: Target) -> Iterator[list[Any]]:
    """The testinfra hosts of ``target`` (local ones through the local backend)."""
    import testinfra

    reason = key_reason(target)
    if reason:
        raise NoKey(reason)
    names = target.hosts or ("local",)
    if not _remote(target):
        yield [testinfra.get_host("local://") for _ in names]
        return
    assert target.ssh is not None and target.ssh.key_env
    folder = Path(tempfile.mkdtemp(prefix="moncheck-ssh-"))
    try:
        folder.chmod(0o700)
        key = folder / "id"
        key.write_text(os.environ[target.ssh.key_env].strip() + "\n", encoding="utf-8")
        key.chmod(0o600)
        known = folder / "known_hosts"
        if target.ssh.known_hosts_env and os.environ.get(target.ssh.known_hosts_env):
            known.write_text(os.environ[target.ssh.known_hosts_env].strip() + "\n", encoding="utf-8")
            strict = "yes"
        else:
            strict = "accept-new"
        extra = (f"-o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking={strict} "
                 f"-o UserKnownHostsFile={shlex.quote(str(known))} -o ConnectTimeout=10")
        yield [testinfra.get_host("local://") if is_local_host(h) else
               testinfra.get_host(_spec(h, target.ssh.user, target.ssh.port),
                                  ssh_identity_file=str(key), ssh_extra_args=extra)
               for h in names]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
