"""Validate the report's data with Great Expectations (1.x API, ephemeral context).

The suites live as code in ``monitoring/expectations/daily-report.yml``; see that file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moncheck import yamlpos

SUITE_FILE = "monitoring/expectations/daily-report.yml"


class SuiteError(Exception):
    """The suite file is invalid; the message names file and line."""


@dataclass(frozen=True)
class ExpectationSpec:
    type: str
    kwargs: dict[str, Any]
    why: str
    line: int


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    dataset: str
    expectations: tuple[ExpectationSpec, ...]


@dataclass
class Outcome:
    suite: str
    type: str
    column: str
    success: bool
    why: str
    detail: str
    where: str  # file:line of the expectation

    def text(self) -> str:
        return f"{self.suite}: {self.type}({self.column}) failed: {self.detail} ({self.why}; {self.where})"


def _plain(value: Any) -> Any:
    """LocDict/LocList -> dict/list (GX serialises its kwargs)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_suites(path: Path, display: str = SUITE_FILE) -> tuple[list[SuiteSpec], dict[str, float]]:
    try:
        doc = yamlpos.load(path, display)
    except yamlpos.LoadError as e:
        raise SuiteError(str(e)) from None
    return parse_suites(doc, display)


def parse_suites(doc: Any, display: str = SUITE_FILE) -> tuple[list[SuiteSpec], dict[str, float]]:
    """The suites of a loaded suite file (``yamlpos`` data, for its lines); SuiteError if bad."""
    if not isinstance(doc, dict) or not isinstance(doc.get("suites"), list):
        raise SuiteError(f"{display}:1: expected a mapping with a `suites` list")
    params = doc.get("parameters") or {}
    if not isinstance(params, dict) or not all(isinstance(v, (int, float)) for v in params.values()):
        raise SuiteError(f"{display}:{yamlpos.line_of(doc, 'parameters')}: parameters must map names to numbers")
    suites = []
    for s, line in zip(doc["suites"], yamlpos.item_lines(doc["suites"])):
        if not isinstance(s, dict) or not s.get("name") or not s.get("dataset"):
            raise SuiteError(f"{display}:{line}: each suite needs `name` and `dataset`")
        exps = s.get("expectations")
        if not isinstance(exps, list) or not exps:
            raise SuiteError(f"{display}:{yamlpos.line_of(s, 'expectations')}: suite {s['name']!r} has no expectations")
        specs = []
        for x, eline in zip(exps, yamlpos.item_lines(exps)):
            if not isinstance(x, dict) or not isinstance(x.get("type"), str) or not isinstance(x.get("kwargs"), dict):
                raise SuiteError(f"{display}:{eline}: an expectation needs `type` and a `kwargs` mapping")
            why = str((x.get("meta") or {}).get("why", ""))
            specs.append(ExpectationSpec(x["type"], _plain(x["kwargs"]), why, eline))
        suites.append(SuiteSpec(str(s["name"]), str(s["dataset"]), tuple(specs)))
    return suites, {str(k): float(v) for k, v in params.items()}


def validate(suites: list[SuiteSpec], frames: dict[str, Any], parameters: dict[str, Any],
             display: str = SUITE_FILE) -> list[Outcome]:
    """Run every suite against its data frame; one Outcome per expectation."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("moncheck-report")
    outcomes: list[Outcome] = []
    for suite_spec in suites:
        if suite_spec.dataset not in frames:
            raise SuiteError(f"{display}: suite {suite_spec.name!r}: unknown dataset {suite_spec.dataset!r} "
                             f"(known: {', '.join(sorted(frames))})")
        suite = gx.ExpectationSuite(name=suite_spec.name)
        for e in suite_spec.expectations:
            try:
                suite.add_expectation_configuration(ExpectationConfiguration(type=e.type, kwargs=e.kwargs))
            except Exception as exc:  # noqa: BLE001 - GX raises several types for a bad configuration
                raise SuiteError(f"{display}:{e.line}: invalid expectation {e.type}: {exc}") from None
        suite = ctx.suites.add(suite)
        frame = frames[suite_spec.dataset]
        batch_def = source.add_dataframe_asset(suite_spec.dataset).add_batch_definition_whole_dataframe("all")
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, expectation_parameters=parameters)
        by_type: dict[tuple[str, str], ExpectationSpec] = {
            (e.type, str(e.kwargs.get("column", ""))): e for e in suite_spec.expectations}
        for r in result.results:
            cfg = r.expectation_config
            assert cfg is not None  # GX fills it for every result of a suite run
            column = str(cfg.kwargs.get("column", ""))
            spec = by_type.get((cfg.type, column))
            outcomes.append(Outcome(
                suite_spec.name, cfg.type, column, bool(r.success),
                spec.why if spec else "", _detail(r, len(frame)),
                f"{display}:{spec.line if spec else 1}"))
    return outcomes


def _detail(r: Any, rows: int) -> str:
    info = r.exception_info or {}
    if info.get("raised_exception"):
        return f"error: {info.get('exception_message')}"
    res = r.result or {}
    if "unexpected_count" in res:
        examples = ", ".join(f"{v:g}" if isinstance(v, float) else str(v)
                             for v in (res.get("partial_unexpected_list") or [])[:3])
        return (f"{res['unexpected_count']} of {res.get('element_count', rows)} values unexpected"
                + (f" (e.g. {examples})" if examples else ""))
    return f"observed {res.get('observed_value')!r}"
