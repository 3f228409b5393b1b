"""Every check is total: no document the schemas allow (nor any shape of the artifacts that
have no schema) makes a check raise. Hypothesis generates documents from our own JSON schemas
(``hypothesis-jsonschema``), writes each into a copy of this repository, and runs every static
check on it; an exception or an ``internal error`` finding fails the property."""

from __future__ import annotations

import json
import shutil
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from moncheck import policy as policy_mod
from moncheck.checks.base import Context, Skip
from moncheck.checks.registry import CHECKS
from moncheck.inventory import load_repo

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "policies" / "schemas"
# workflows/schema runs check-jsonschema (a subprocess per call) on files no example changes.
RUN = [c for c in CHECKS if c.id != "workflows/schema"]
SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

# schema kind -> the file of the repository a generated document replaces
TARGETS = {
    "rules": "monitoring/prometheus/rules/service.yml",
    "catalog": "monitoring/catalog/metrics.yml",
    "dashboard": "monitoring/grafana/dashboards/system-overview.json",
    "drill": "monitoring/drills/high-error-rate.yml",
    "policy": "policies/policy.yml",
    "routing-tests": "monitoring/alertmanager/routing-tests.yml",
    "slo": "monitoring/slos/gocarbon-api.yml",
    "uptime": "monitoring/uptime/local.yml",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("repo")
    for part in ("monitoring", "policies", "tests/rules"):
        shutil.copytree(ROOT / part, dest / part)
    return dest


def run_checks(repo: Path) -> list[str]:
    """Problems: exceptions escaping a check, and internal-error findings."""
    inv = load_repo(repo)
    pol = policy_mod.from_data(inv.policy.data if inv.policy else None, inv.policy.path if inv.policy else None)
    ctx = Context(inv, pol)
    problems = []
    for check in RUN:
        try:
            found = check.fn(ctx)
        except Skip:
            continue
        except Exception:  # noqa: BLE001 - the property under test
            problems.append(f"{check.id} raised:\n{traceback.format_exc()}")
            continue
        problems += [f.text() for f in found if "internal error" in f.message or f.path == "moncheck"]
    return problems


def _write(repo: Path, rel: str, doc: Any) -> None:
    text = json.dumps(doc, default=str) if rel.endswith(".json") else yaml.safe_dump(doc, allow_unicode=True)
    (repo / rel).write_text(text)


def _check_with(repo: Path, rel: str, doc: Any) -> None:
    path = repo / rel
    original = path.read_bytes()
    try:
        _write(repo, rel, doc)
        problems = run_checks(repo)
    finally:
        path.write_bytes(original)
    assert not problems, f"{rel} =\n{json.dumps(doc, indent=1, default=str)[:2000]}\n" + "\n".join(problems)


def _schema(kind: str) -> dict[str, Any]:
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    schema.pop("$id", None)  # a relative $id makes hypothesis-jsonschema look refs up remotely
    return schema


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_no_schema_valid_document_makes_a_check_raise(kind: str, repo: Path) -> None:
    assert (repo / TARGETS[kind]).is_file(), TARGETS[kind]

    @SETTINGS
    @given(from_schema(_schema(kind)))
    def prop(doc: Any) -> None:
        _check_with(repo, TARGETS[kind], doc)

    prop()


# Beyond the schemas: the repository's own files with one node (any mapping value or list item,
# at any depth) replaced by any value, so that `static_configs: 5`, `tests: 5`, `targets: 5` or
# `match: [severity]` are among the inputs, also for the artifacts promtool and amtool judge.
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False),
                     st.text(max_size=12), st.sampled_from(["severity", "critical", "up == 0", "5m", "{{ $x"]))
_WRONG = st.sampled_from([5, "x", None, True, 1.5, [], {}, ["severity"], {"x": 1}, [5], [None], [{"x": [5]}]])
_ANY = st.recursive(_SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), kids, max_size=3)),
                    max_leaves=8)
MUTATED = {
    **TARGETS,
    "prometheus": "monitoring/prometheus/prometheus.yml",
    "alertmanager": "monitoring/alertmanager/alertmanager.yml",
    "rule-test": "tests/rules/service.test.yml",
}


def _slots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Path of every mapping value and list item under ``node`` that holds a mapping or a list
    (where a wrong type breaks code that iterates), first items of lists only (siblings are
    read by the same code)."""
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else list(enumerate(node))[:1] if isinstance(node, list) else ()
    for k, v in items:
        if isinstance(v, (dict, list)):
            out.append((*path, k))
            out += _slots(v, (*path, k))
    return out


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replaced(doc[head], rest, value)}
    return [_replaced(x, rest, value) if i == head else x for i, x in enumerate(doc)]


@pytest.mark.parametrize("kind", sorted(MUTATED))
def test_no_single_node_mutation_makes_a_check_raise(kind: str, repo: Path) -> None:
    rel = MUTATED[kind]
    text = (repo / rel).read_text()
    original = json.loads(text) if rel.endswith(".json") else yaml.safe_load(text)
    slots = _slots(original)

    @SETTINGS
    @given(st.sampled_from(slots), st.one_of(_WRONG, _ANY))
    def prop(path: tuple[Any, ...], value: Any) -> None:
        _check_with(repo, rel, _replaced(original, path, value))

    prop()
