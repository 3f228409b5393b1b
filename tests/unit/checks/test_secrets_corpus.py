"""``secrets/inline`` against a corpus of ways to commit a secret and of benign texts.

``tests/fixtures/bad/secrets/cases.yml`` lists each secret with its file and line (receiver
keys, camelCase Grafana keys, URL user-info and query tokens, Authorization headers, JWTs, AWS,
GitHub, Slack, private keys, YAML anchors and block scalars, comments, ``KEY=value`` files,
dot-directories, Latin-1 and UTF-16 files, workflows); the benign files must give nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from moncheck import policy as policy_mod
from moncheck.checks.base import Context
from moncheck.checks.secrets import secrets_inline
from moncheck.inventory import Inventory, load_repo

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "tests/fixtures/bad/secrets"
CASES = yaml.safe_load((CORPUS / "cases.yml").read_text())


def scan(root: Path, files: list[str]) -> set[tuple[str, int]]:
    ctx = Context(Inventory(root=root, mode="loose", secret_scan=files), policy_mod.Policy())
    found = secrets_inline(ctx)
    assert all(f.check == "secrets/inline" for f in found)
    return {(f.path, f.line) for f in found}


@pytest.fixture(scope="module")
def corpus_findings() -> set[tuple[str, int]]:
    files = sorted({c["file"] for c in CASES["secrets"]})
    return scan(CORPUS, files)


@pytest.mark.parametrize("case", CASES["secrets"], ids=[c["id"] for c in CASES["secrets"]])
def test_secret_is_caught_at_its_line(case: dict, corpus_findings: set[tuple[str, int]]) -> None:
    assert (case["file"], case["line"]) in corpus_findings


def test_no_finding_on_a_line_without_a_secret(corpus_findings: set[tuple[str, int]]) -> None:
    expected = {(c["file"], c["line"]) for c in CASES["secrets"]}
    assert corpus_findings - expected == set()


@pytest.mark.parametrize("name", CASES["benign"])
def test_benign_text_is_not_a_secret(name: str) -> None:
    assert scan(CORPUS, [name]) == set()


def test_this_repository_has_no_secret() -> None:
    """Every tracked file of this repository (fake secrets excluded by policy, allowed by hash)."""
    inv = load_repo(ROOT)
    ctx = Context(inv, policy_mod.from_data(inv.policy.data if inv.policy else None, "policies/policy.yml"))
    assert [f.text() for f in secrets_inline(ctx)] == []


def test_every_tracked_file_is_scanned(tmp_path: Path) -> None:
    """Tracked files anywhere (dot-directories, workflows, scripts) are scanned; untracked
    files of a git checkout are not."""
    for rel in (".hidden/creds.yml", "workflow.yml", "deploy.sh"):
        dest = tmp_path / (".github/workflows/deploy.yml" if rel == "workflow.yml" else rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, dest)
    (tmp_path / "untracked.env").write_text("API_SECRET=NotTrackedSecret1\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", ".hidden", ".github", "deploy.sh"], check=True)
    inv = load_repo(tmp_path)
    found = {(f.path, f.line) for f in secrets_inline(Context(inv, policy_mod.Policy()))}
    assert found == {(".hidden/creds.yml", 2), (".hidden/creds.yml", 3), (".github/workflows/deploy.yml", 7), (".github/workflows/deploy.yml", 8),
                     (".github/workflows/deploy.yml", 13), (".github/workflows/deploy.yml", 14),
                     ("deploy.sh", 2), ("deploy.sh", 3), ("deploy.sh", 4), ("deploy.sh", 5), ("deploy.sh", 6)}


def test_allow_list_by_hash(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("password: NotReallySecret1\napi_key: StillSecret12345\n")
    base = scan(tmp_path, ["a.yml"])
    assert base == {("a.yml", 1), ("a.yml", 2)}
    ctx = Context(Inventory(root=tmp_path, mode="loose", secret_scan=["a.yml"]), policy_mod.Policy())
    sha = next(f.message for f in secrets_inline(ctx) if f.line == 1).rsplit("sha1 ", 1)[1].rstrip(")")
    inv = Inventory(root=tmp_path, mode="loose", secret_scan=["a.yml"])
    from moncheck.inventory import YamlDoc

    inv.policy = YamlDoc("policies/policy.yml", {"secrets": {"allow": [{"hash": sha, "reason": "a test value"}]}})
    assert {(f.path, f.line) for f in secrets_inline(Context(inv, policy_mod.Policy()))} == {("a.yml", 2)}
