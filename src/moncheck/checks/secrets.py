"""No secrets in the repository (``secrets/inline``).

Every tracked file is scanned (``git ls-files``; every file when the repository is not a git
checkout; the given files in loose mode), in any encoding, with two kinds of detector:

- ``detect-secrets``' plugins (AWS, GitHub, GitLab, Slack, Stripe, JWTs, private keys,
  basic-auth URLs, keyword/value pairs, high-entropy strings, ...) on every line;
- our structural rules on parsed YAML and JSON (Prometheus, Alertmanager, Grafana provisioning,
  dashboards, workflows): a key that names a secret (``password``, ``bot_token``,
  ``basicAuthPassword``, ``httpHeaderValue1``, ``SLACK_TOKEN``...) must hold no literal value,
  only a reference (``*_file`` keys, ``$VAR``, ``${VAR}``, ``$__env{VAR}``, ``${{ secrets.X }}``);
  and on every other line: ``KEY=value`` assignments, ``Authorization:`` header values, URL
  user-info and query-string tokens.

Keys are judged by their parsed structure, so prose that mentions a key ("Auth token: refresh
failures above 5%", "the password: field") in a YAML or JSON string is not a secret; in prose
files (Markdown, text) only the token-shaped plugins run.

False positives are allowed by the hash of the value (sha1, as detect-secrets' baseline does):
``secrets: {allow: [{hash: <sha1>, reason: ...}]}`` in ``policies/policy.yml``; deliberate fakes
(test corpora) are excluded by ``secrets: {exclude: [<glob>, ...]}`` with a reason. A
suppression of ``secrets/inline`` must name the exact file and line.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moncheck import jsonpos, yamlpos
from moncheck.checks.base import Context
from moncheck.findings import Finding, error

CHECK = "secrets/inline"
MIN_SECRET = 4
"""Shorter values (`x`, `k`) are placeholders of tests and examples, not credentials."""
HINT = "reference a file (*_file: /etc/alertmanager/secrets/...) or an environment variable instead"

# ------------------------------------------------------------------------- file selection

_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache",
              ".mypy_cache", ".hypothesis", "build", "dist", ".tox"}
_PROSE = (".md", ".txt", ".rst", ".adoc")
_BINARY = (".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".zip", ".gz", ".tgz", ".whl", ".woff", ".woff2",
           ".ttf", ".pyc", ".so", ".db", ".sqlite")


def repo_files(root: Path) -> list[str]:
    """Tracked files of a git checkout at ``root``; every file (less caches) otherwise."""
    if (root / ".git").exists() or _inside_git(root):
        try:
            out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, timeout=60, check=True)
            return sorted(p for p in out.stdout.decode("utf-8", "replace").split("\0") if p)
        except (OSError, subprocess.SubprocessError):
            pass
    found = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in _SKIP_DIRS and not x.endswith(".egg-info")]
        found += [Path(d, f).relative_to(root).as_posix() for f in files]
    return sorted(found)


def _inside_git(root: Path) -> bool:
    return any((d / ".git").exists() for d in root.resolve().parents)


def decode_any(data: bytes) -> str | None:
    """Text of a file in any encoding (UTF-8, UTF-16 with or without BOM, else Latin-1, which
    maps every byte); None for binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    if b"\x00" in data:
        even, odd = data[0::2].count(0), data[1::2].count(0)
        if odd > len(data) * 0.3:
            return data.decode("utf-16-le", "replace")
        if even > len(data) * 0.3:
            return data.decode("utf-16-be", "replace")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# ------------------------------------------------------------------------- what is a secret key

# The secret word ends the name (`db_password`, `slack_token`, `basicAuthPassword`, `secret2`),
# so `secret_words`, `token_plugins`, `password_policy` are not secret-named.
_SECRET_WORDS = r"password|passwd|pwd|passphrase|secret|token|credentials?|apikey|bearer|privatekey|auth"
_SECRET_NAME = re.compile(
    rf"(^|_)({_SECRET_WORDS})\d*$"
    r"|(^|_)(api|access|secret|private|routing|service|user|auth|signing|encryption|integration|client|master|license|app)_key($|_)"
    r"|(^|_)(webhook|slack_api|hook)_url$"  # `api_url` is a secret only for Slack: its plugin finds those
    r"|^http_header_value\d*$|^authorization$|^dsn$|^connection_string$"
)
# Names that say the value is NOT the secret itself: a reference, a name, a shape.
_NOT_SECRET_SUFFIX = re.compile(
    r"_(file|files|path|dir|name|names|id|ids|type|ref|env|header|length|ttl|expiry|expires|endpoint|field|"
    r"url_file|count|total|seconds|timeout|enabled|required|policy|format|prefix|mode|template|label|labels|"
    r"username|user|email|from|identity|host|hostname|scheme|method|mechanism)$"
)
_NOT_SECRET_NAMES = {"token_url", "auth_url", "authorization_url", "auth_type", "auth_method", "author",
                     "authors", "authority", "authentication", "auth_provider", "oauth2", "basic_auth",
                     "authorization_header", "auth_header"}


def snake(key: str) -> str:
    """``basicAuthPassword`` / ``SLACK-TOKEN`` / ``httpHeaderValue1`` -> snake case."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key)
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


# Kubernetes/Helm names of a Secret object or of a key inside it (`existingSecretKey: password`,
# `configFromSecret: prometheus-config`, `secretProviderClass: vault`): the value is a name.
_SECRET_REFERENCE = re.compile(r"^existing_|_from_secret$|^secret_provider_class$")


def is_secret_key(key: str) -> bool:
    if "." in key:  # a dotted path (`tracingConfig.existingSecret.key`): its last two names
        key = "_".join(key.split(".")[-2:])
    k = snake(key)
    if not k or k in _NOT_SECRET_NAMES or _NOT_SECRET_SUFFIX.search(k) or _SECRET_REFERENCE.search(k):
        return False
    return bool(_SECRET_NAME.search(k))


# Values that are references or placeholders, never secrets. A `YOUR_KEY`-style value is not
# among them: under a secret-named key it marks where a secret is meant to be written inline (the
# seed's PagerDuty `routing_key`), which is the mistake itself.
_REFERENCE = re.compile(
    r"""^(?:\$\{\{.*\}\}|\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=?][^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*|\$__(?:env|file|vault)\{[^}]*\}"""
    r"""|\{\{.*\}\}|\{%.*%\}|<[^<>]*>|%\([a-z_]+\)s|\$\(.*\)|@[A-Za-z_]+@|(?:file|env|vault|secret|secrets)://\S*"""
    r"""|x{3,}|\*{3,}|\.{3}|redacted|null|none|~|true|false|.*\b(?:dummy|placeholder)\b.*)$""",
    re.IGNORECASE,
)
_LOCAL_URL = re.compile(r"^https?://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:/[^?@\s]*)?$")


def is_literal(value: Any) -> bool:
    """A value that would carry a secret: a non-empty scalar that is no reference."""
    if value is None or isinstance(value, (bool, dict, list)):
        return False
    text = str(value).strip().strip("'\"")
    if len(text) < MIN_SECRET:
        return False
    return not (_REFERENCE.match(text) or _LOCAL_URL.match(text))


# ------------------------------------------------------------------------- scanners


@dataclass(frozen=True)
class Hit:
    line: int
    what: str
    value: str

    @property
    def hash(self) -> str:
        return hashlib.sha1(self.value.encode("utf-8")).hexdigest()


# Mappings whose keys are label names, not configuration keys (`routing_key: myteam` is a label).
_LABEL_MAPS = {"labels", "annotations", "exp_labels", "exp_annotations", "external_labels", "match", "match_re",
               "group_by", "equal", "matchers", "source_match", "target_match", "source_match_re", "target_match_re"}


def _walk(node: Any) -> Iterator[tuple[str, Any, int]]:
    """(key, value, line of the key) of every configuration entry under ``node``, iteratively,
    not descending into label maps."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            for k, v in n.items():
                yield str(k), v, yamlpos.line_of(n, k)
                if str(k) not in _LABEL_MAPS:
                    stack.append(v)
        elif isinstance(n, list):
            stack.extend(n)


def structural(data: Any) -> list[Hit]:
    """Secret-named keys with literal values (or lists of them: ``params: {token: [x]}``) in a
    parsed YAML/JSON document."""
    out = []
    for key, v, line in _walk(data):
        if is_secret_key(key):
            out += [Hit(line, f"literal value of {key!r}", str(x)) for x in (v if isinstance(v, list) else [v])
                    if is_literal(x)][:1]
    return out


_ASSIGN = re.compile(r"""^\s*(?:export\s+|set\s+|-\s*)?["']?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?:=|:=|\s=\s)\s*(?P<value>.+?)\s*$""")
_AUTH_HEADER = re.compile(r"""\bAuthorization["']?\s*[:=]\s*["']?(?P<scheme>Basic|Bearer|Token|Bot|ApiKey)\s+(?P<value>[^\s"',;]+)""", re.IGNORECASE)
_URL_USERINFO = re.compile(r"""\b[a-z][a-z0-9+.-]*://(?P<user>[^\s:/?#@'"]+):(?P<value>[^\s@/?#'"]+)@""", re.IGNORECASE)
_URL_QUERY = re.compile(
    r"""[?&](?P<key>(?:access_|api_|auth_|private_)?(?:token|key|apikey|secret|password|passwd|sig|signature|code|auth)|x-amz-signature|x-goog-signature)=(?P<value>[^&\s'"#<>]{8,})""",
    re.IGNORECASE,
)


# Webhook URLs whose path is the credential (a placeholder path too: the URL belongs in a file).
_WEBHOOK_URL = re.compile(
    r"https://(?:hooks\.slack\.com/services|discord(?:app)?\.com/api/webhooks|[a-z0-9-]+\.webhook\.office\.com/webhookb2"
    r"|outlook\.office\.com/webhook)/[^\s'\"]+"
)


def _strip_quotes(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    return v.split(" #", 1)[0].strip()


def line_rules(text: str, assignments: bool) -> list[Hit]:
    """Authorization headers, URL credentials and tokens on any line; ``KEY=value``
    assignments when ``assignments`` (env, ini, shell, templates: files we do not parse)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if "uthorization" in line or "UTHORIZATION" in line:
            for m in _AUTH_HEADER.finditer(line):
                if is_literal(m.group("value")) and len(m.group("value")) >= 8:
                    out.append(Hit(n, f"literal Authorization: {m.group('scheme')} value", m.group("value")))
        if "://" in line:
            for m in _WEBHOOK_URL.finditer(line):
                out.append(Hit(n, "webhook URL (its path is the credential)", m.group(0)))
            for m in _URL_USERINFO.finditer(line):
                if is_literal(m.group("value")):
                    out.append(Hit(n, "password in a URL (user:password@)", m.group("value")))
            for m in _URL_QUERY.finditer(line) if "=" in line else ():
                if is_literal(m.group("value")):
                    out.append(Hit(n, f"token in a URL query string ({m.group('key')}=)", m.group("value")))
        if (assignments and "=" in line and _CANDIDATE_WORD.search(line) and (m2 := _ASSIGN.match(line))
                and is_secret_key(m2.group("key"))):
            value = _strip_quotes(m2.group("value"))
            if is_literal(value):
                out.append(Hit(n, f"literal value of {m2.group('key')!r}", value))
    return out


_TOKEN_PLUGINS_ONLY = {"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String"}


# Lines any detector could fire on: a secret-ish word, credentials in a URL, or a long run of
# token characters with both letters and digits. detect-secrets costs ~0.2 ms a line (every
# plugin on every line); most lines of a monitoring repository are none of these.
_CANDIDATE_WORD = re.compile(r"pass|pwd|secret|token|key|auth|credential|bearer|private|://[^\s/]*@", re.IGNORECASE)
_LONG_RUN = re.compile(r"[A-Za-z0-9+/=_.-]{16,}")
_DIGIT, _LETTER = re.compile(r"\d"), re.compile(r"[A-Za-z]")


def _candidate(line: str) -> bool:
    if _CANDIDATE_WORD.search(line):
        return True
    return any(_DIGIT.search(m) and _LETTER.search(m) for m in _LONG_RUN.findall(line))


def plugin_hits(text: str, rel: str, parsed: bool) -> list[Hit]:
    """detect-secrets' plugins on every candidate line (call inside ``detector_settings()``).
    In prose, only token-shaped detectors count; in parsed files, keyword pairs count on
    comment lines only (the parse judges keys)."""
    from detect_secrets.core.scan import _process_line_based_plugins

    lines = text.splitlines()
    candidates = [(n, line) for n, line in enumerate(lines, 1) if _candidate(line)]
    if parsed:
        # Outside comments only the token-format plugins count here (see below); a line none of
        # their own patterns matches cannot give one, so detect-secrets (~0.2 ms a line) skips it.
        # 10,000 generated alerts: 11.9 s -> see bench/gate.py.
        formats = _token_formats()
        if formats is not None:
            candidates = [(n, line) for n, line in candidates
                          if line.lstrip().startswith(("#", "//")) or any(rx.search(line) for rx in formats)]
    out = []
    if candidates:
        for s in _process_line_based_plugins(candidates, filename=rel):
            if rel.endswith(_PROSE) and s.type in _TOKEN_PLUGINS_ONLY:
                continue
            # In parsed files the parse judges keys and values; keyword pairs and bare entropy
            # (trace ids, digests, uids) count only in comments, which the parse does not see.
            if (parsed and s.type in _TOKEN_PLUGINS_ONLY
                    and not lines[s.line_number - 1].lstrip().startswith(("#", "//"))):
                continue
            value = _whole(s.type, s.secret_value or "", lines[s.line_number - 1])
            if s.type == "Secret Keyword" and not (is_literal(value) and _keyword_is_secret(lines[s.line_number - 1])):
                continue
            out.append(Hit(s.line_number, s.type, value))
    return out


# `key: value` in YAML (also commented out, also a list item), for detect-secrets' keyword pairs.
_YAML_PAIR = re.compile(r"""^\s*(?:#+\s*)*(?:-\s+)?["']?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)["']?\s*:\s""")


def _keyword_is_secret(line: str) -> bool:
    """detect-secrets' keyword detector fires on any key containing a secret word; where the line
    is a key/value pair, our own key judgement decides, so that ``secretName: chart-tls``,
    ``existingSecretKey: password`` or ``configFromSecret: x`` (names of Kubernetes Secrets and of
    their keys, the commonest lines of Helm values files) are not taken for the secret itself."""
    m = _YAML_PAIR.match(line) or _ASSIGN.match(line.lstrip("# "))
    if m is None:
        return True
    key = m.group("key").rsplit(".", 1)[-1]
    return is_secret_key(key)


def _token_formats() -> list[re.Pattern[str]] | None:
    """The patterns of every enabled plugin that is not a keyword or entropy detector (call
    inside ``detector_settings()``); None when one of them has no patterns to prefilter with."""
    from detect_secrets.settings import get_plugins

    by_flags: dict[int, list[re.Pattern[str]]] = {}
    for plugin in get_plugins():
        if getattr(plugin, "secret_type", None) in _TOKEN_PLUGINS_ONLY:
            continue
        denylist = getattr(plugin, "denylist", None)
        if not denylist:
            return None
        for rx in denylist:
            by_flags.setdefault(rx.flags, []).append(rx)
    out: list[re.Pattern[str]] = []
    for flags, rxs in by_flags.items():  # one alternation per flag set: one scan of the line each
        try:
            out.append(re.compile("|".join(f"(?:{rx.pattern})" for rx in rxs), flags))
        except re.error:  # e.g. a group name used twice: keep them apart
            out += rxs
    return out


def _whole(kind: str, value: str, line: str) -> str:
    """The whole token a regex plugin matched: some report only a capture group (the GitHub
    detector gives ``ghp``), whose hash would allow-list every token of that kind."""
    from detect_secrets.settings import get_plugins

    for plugin in get_plugins():
        if getattr(plugin, "secret_type", None) == kind:
            for rx in getattr(plugin, "denylist", ()):
                for m in rx.finditer(line):
                    if value in m.group(0):
                        return m.group(0)
    return value


@contextmanager
def detector_settings() -> Iterator[None]:
    """detect-secrets' default plugins and filters, less the public-IP detector (addresses are
    not secrets), the file-existence filter (we hand it text, not paths) and the inline
    ``pragma: allowlist secret`` (only the hashed allow list, with a reason, allows a value)."""
    from detect_secrets.settings import default_settings

    with default_settings() as settings:
        settings.disable_plugins("IPPublicDetector")
        settings.disable_filters("detect_secrets.filters.common.is_invalid_file",
                                 "detect_secrets.filters.allowlist.is_line_allowlisted")
        yield


def _parse(text: str, rel: str, loaded: dict[str, Any] | None = None) -> tuple[bool, list[Hit]]:
    """(parsed, structural hits) of a YAML, JSON or Python file; (False, []) for other files
    and for bad syntax (the line rules then judge every line). ``loaded``: documents the
    inventory already parsed, by path."""
    if loaded and rel in loaded:
        return True, structural(loaded[rel])
    try:
        if rel.endswith(".json"):
            return True, structural(jsonpos.loads(text, rel))
        if rel.endswith((".yml", ".yaml")):
            return True, [h for d in yamlpos.loads_all(text, rel) for h in structural(d)]
        if rel.endswith(".py"):
            return True, python_hits(text) if _PY_TRIGGER.search(text) else []
    except (yamlpos.LoadError, SyntaxError, ValueError, RecursionError):
        pass
    return False, []


# A secret-named name bound to a string literal, somewhere: only then is the module parsed.
_PY_TRIGGER = re.compile(r"""(?i)(password|passwd|secret|token|key|auth|credentials?)\d*["']?\s*[:=]\s*[rbuf]*["']""")


def python_hits(text: str) -> list[Hit]:
    """Secret-named names and keyword arguments bound to string literals (dict keys are not
    judged: in code they are mostly label names and payload fields)."""
    out = []
    for node in ast.walk(ast.parse(text)):
        pairs: list[tuple[str, ast.AST, int]] = []
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
                if name and node.value is not None:
                    pairs.append((name, node.value, node.lineno))
        elif isinstance(node, ast.Call):
            pairs += [(k.arg, k.value, k.value.lineno) for k in node.keywords if k.arg]
        for name, value, line in pairs:
            if (isinstance(value, ast.Constant) and isinstance(value.value, str) and is_secret_key(name)
                    and is_literal(value.value)):
                out.append(Hit(line, f"literal value of {name!r}", value.value))
    return out


def scan_text(text: str, rel: str, loaded: dict[str, Any] | None = None) -> list[Hit]:
    """Every secret of one file's text (call inside ``detector_settings()``), one per line."""
    parsed, hits = _parse(text, rel, loaded)
    hits += line_rules(text, assignments=not parsed and not rel.endswith(_PROSE))
    hits += plugin_hits(text, rel, parsed)
    best: dict[int, Hit] = {}
    for h in hits:  # one finding per line: the first detector's words
        best.setdefault(h.line, h)
    return [best[k] for k in sorted(best)]


# ------------------------------------------------------------------------- the check


def _policy_section(ctx: Context) -> dict[str, Any]:
    data = ctx.inv.policy.data if ctx.inv.policy is not None else None
    return yamlpos.as_dict(yamlpos.as_dict(data).get("secrets"))


def _files(ctx: Context) -> list[str]:
    if ctx.inv.mode != "repo":
        return list(ctx.inv.secret_scan)
    excluded = [str(yamlpos.as_dict(g).get("glob")) for g in yamlpos.as_list(_policy_section(ctx).get("exclude"))]
    return [f for f in repo_files(ctx.inv.root) if not any(fnmatch.fnmatchcase(f, g) for g in excluded)]


def secrets_inline(ctx: Context) -> list[Finding]:
    allowed = {str(yamlpos.as_dict(a).get("hash", "")).lower() for a in yamlpos.as_list(_policy_section(ctx).get("allow"))}
    out: list[Finding] = []
    loaded = _loaded(ctx)
    with detector_settings():
        for rel in _files(ctx):
            out += _scan_file(ctx, rel, allowed, loaded)
    # The auth-section rule says what to write instead; a line it reports is not reported twice.
    auth = _uptime_auth(ctx)
    at = {(f.path, f.line) for f in auth}
    return sorted(set([f for f in out if (f.path, f.line) not in at] + auth))


def _uptime_auth(ctx: Context) -> list[Finding]:
    """The ``auth`` sections of environment files hold references only (``*_env``, ``*_file``,
    ``{env: ...}`` headers): any inline value there is a secret, whatever its key."""
    from moncheck.httpauth import inline_problems

    return [error(CHECK, doc.path, line, f"inline secret: {msg}",
                  "name an environment variable (*_env) or a file (*_file) instead")
            for doc in ctx.inv.uptime for line, msg in inline_problems(doc.data)]


def _loaded(ctx: Context) -> dict[str, Any]:
    """Single-document artifacts the inventory parsed already (path -> data)."""
    inv = ctx.inv
    docs: list[Any] = [*inv.rule_tests, *inv.uptime, *inv.drills, *inv.provisioning, *inv.expectations,
                       *(d for d in (inv.alertmanager, inv.routing_tests, inv.prometheus, inv.policy) if d)]
    out = {d.path: d.data for d in docs}
    out.update({f.path: f.data for f in inv.rule_files})
    if inv.catalog is not None:
        out[inv.catalog.path] = inv.catalog.data
    return out


def _scan_file(ctx: Context, rel: str, allowed: set[str], loaded: dict[str, Any]) -> list[Finding]:
    if rel.lower().endswith(_BINARY):
        return []
    try:
        data = yamlpos.read_bytes(ctx.inv.abspath(rel), rel)
    except yamlpos.LoadError:
        return []  # not a regular file, or too large: the loaders report artifacts
    text = decode_any(data)
    out = []
    if text is not None:
        for h in scan_text(text, rel, loaded):
            if h.hash in allowed:
                continue
            out.append(error(CHECK, rel, h.line, f"inline secret: {h.what} (sha1 {h.hash})",
                             f"{HINT}; a false positive: allow its sha1 under `secrets: allow:` in policies/policy.yml"))
    return out
