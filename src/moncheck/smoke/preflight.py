"""``python -m moncheck.smoke.preflight --env NAME``: can this job reach the environment?

Run by the scheduled workflows before smoke checks and the report, so that a job that cannot work
fails at once with a line that says why, instead of a DNS error or a 401 per check:

- the environment needs a self-hosted runner (``runner: self-hosted``) and this job is on a
  GitHub-hosted one (``--runner-environment``, the workflow's ``runner.environment``);
- a secret the environment file names (``*_env``) is not set, or a file it names is unreadable:
  each is named with the file and line that refers to it;
- host checks will be skipped (no SSH key): said, not a failure.

Exit 0 when the job can proceed, 2 otherwise (one line per problem).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from moncheck import httpauth
from moncheck.smoke import sshkeys
from moncheck.smoke.targets import Target, TargetError, resolve


def problems(target: Target, runner_environment: str | None, environ: dict[str, str] | None = None) -> list[str]:
    env = dict(os.environ if environ is None else environ)
    out = []
    if target.runner == "self-hosted" and runner_environment == "github-hosted":
        out.append(f"environment {target.environment!r} is reachable only from inside its network "
                   f"({target.source}: runner: self-hosted) but this job runs on a GitHub-hosted runner: "
                   "set the repository variable MONCHECK_RUNS_ON to the self-hosted runner's labels "
                   "(or the workflow input `runner`)")
    for _, auth in sorted(target.auth.items()):
        for secret in _secrets(auth):
            try:
                secret.read(env) if secret.kind == "env" else open(secret.ref, "rb").close()
            except (httpauth.AuthError, OSError):
                if secret.kind == "env":
                    out.append(f"missing secret {secret.ref}: the {secret.what} ({auth.source}); add it "
                               f"to the repository (or GitHub environment {target.environment!r}) secrets")
                else:
                    out.append(f"unreadable file {secret.ref}: the {secret.what} ({auth.source})")
    return out


def _secrets(auth: httpauth.HttpAuth) -> list[httpauth.Secret]:
    found = [auth.bearer_token, auth.password, auth.ca, auth.cert, auth.key,
             auth.username if isinstance(auth.username, httpauth.Secret) else None]
    return [s for s in found if s is not None] + [s for _, s in auth.headers]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m moncheck.smoke.preflight", description=__doc__.splitlines()[0])
    p.add_argument("--env", required=True, help="environment (monitoring/uptime/NAME.yml) or a .yml file")
    p.add_argument("--repo", type=Path, default=Path.cwd())
    p.add_argument("--runner-environment", choices=["github-hosted", "self-hosted"], default=None,
                   help="where this job runs (GitHub's runner.environment)")
    args = p.parse_args(argv)
    try:
        target = resolve(args.repo, args.env, {})
    except TargetError as e:
        print(f"moncheck preflight: error: {e}", file=sys.stderr)
        return 2
    found = problems(target, args.runner_environment)
    for line in found:
        print(f"moncheck preflight: error: {line}", file=sys.stderr)
    skip = sshkeys.key_reason(target)
    if skip:
        print(f"moncheck preflight: host checks will be skipped: {skip}", file=sys.stderr)
    if found:
        return 2
    auth = ", ".join(f"{k}: {v.summary()}" for k, v in sorted(target.auth.items())) or "no credentials"
    print(f"moncheck preflight: {target.environment} ready ({target.source}; {auth})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
