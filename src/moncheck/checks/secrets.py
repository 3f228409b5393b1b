"""No inline secrets under monitoring/ (``secrets/inline``)."""

from __future__ import annotations

import re

from moncheck.checks.base import Context
from moncheck.findings import Finding, error

_SECRET_KEYS = (
    "password", "auth_password", "smtp_auth_password", "smtp_auth_secret", "auth_secret", "routing_key",
    "service_key", "api_key", "api_url", "slack_api_url", "bearer_token", "token", "auth_token",
    "secret", "client_secret", "webhook_url", "credentials", "access_key", "secret_key", "opsgenie_api_key",
)
_KEY = re.compile(
    r"""(?:^|[\s{,\-])["']?(""" + "|".join(_SECRET_KEYS) + r""")["']?\s*:\s*("[^"]*"|'[^']*'|[^\s,}#]+)?""", re.I
)
_PATTERNS = (
    (re.compile(r"https://hooks\.slack\.com/services/\S+"), "Slack webhook URL"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "Slack token"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"), "GitHub token"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "AWS access key"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "private key"),
    (re.compile(r"https://events\.pagerduty\.com/\S*[0-9a-f]{32}"), "PagerDuty key in URL"),
)
# Values that are not secrets: empty, references, placeholders of the local stack.
_SAFE = re.compile(r"""^(["']?)(|null|~|true|false|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|https?://(127\.0\.0\.1|localhost|\[::1\])([:/]\S*)?)\1$""")


# Cheap whole-file test first: most files mention no secret-like key nor pattern at all.
_TRIGGERS = (*_SECRET_KEYS, "hooks.slack", "xox", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "akia", "private key", "pagerduty")


def _scan(text: str, rel: str) -> list[Finding]:
    low = text.lower()
    if not any(t in low for t in _TRIGGERS):
        return []
    # Prose (runbooks) may name keys in passing: only literal secret patterns count there.
    keys = not rel.endswith((".md", ".txt"))
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        hit = next((what for rx, what in _PATTERNS if rx.search(line)), None)
        if hit is None and keys:
            for m in _KEY.finditer(line):
                value = m.group(2)
                if value and not _SAFE.match(value) and not value.startswith(("{", "[", "|", ">", "&", "*")):
                    hit = f"literal {m.group(1).lower()}"
                    break
        if hit:
            out.append(error("secrets/inline", rel, n, f"inline secret: {hit}",
                             "reference a file (*_file: /etc/alertmanager/secrets/...) or an environment variable instead"))
    return out


def secrets_inline(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for rel in ctx.inv.secret_scan:
        try:
            text = ctx.inv.abspath(rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out += _scan(text, rel)
    return sorted(set(out + _uptime_auth(ctx)))


def _uptime_auth(ctx: Context) -> list[Finding]:
    """The ``auth`` sections of environment files hold references only (``*_env``, ``*_file``,
    ``{env: ...}`` headers): any inline value there is a secret, whatever its key."""
    from moncheck.httpauth import inline_problems

    return [error("secrets/inline", doc.path, line, f"inline secret: {msg}",
                  "name an environment variable (*_env) or a file (*_file) instead")
            for doc in ctx.inv.uptime for line, msg in inline_problems(doc.data)]
