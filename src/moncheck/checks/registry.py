"""Every static check, by its public id (ids never change: output, docs and suppressions use them)."""

from __future__ import annotations

from moncheck.checks import (
    alertmanager,
    catalog,
    coverage,
    dashboards,
    exprs,
    misc,
    rules,
    ruletests,
    secrets,
    slo,
    telemetry,
    workflows,
)
from moncheck.checks.base import Check
from moncheck.mutate.operators import CHECK_IDS

CHECKS: list[Check] = [
    Check("schema/rules", rules.schema_rules),
    Check("schema/catalog", catalog.schema_catalog),
    Check("schema/uptime", misc.schema_uptime),
    Check("schema/dashboard", dashboards.schema_dashboard),
    Check("schema/routing-tests", alertmanager.schema_routing_tests),
    Check("schema/policy", misc.schema_policy),
    Check("schema/slo", misc.schema_slo),
    Check("schema/drill", misc.schema_drill),
    Check("schema/provisioning", misc.schema_provisioning),
    Check("schema/expectations", misc.schema_expectations),
    Check("promql/parse", rules.promql_parse),
    Check("promql/unknown-metric", rules.promql_unknown_metric),
    Check("promql/rate-on-non-counter", rules.promql_rate_on_non_counter),
    Check("promql/histogram-quantile", rules.promql_histogram_quantile),
    Check("promql/impossible-match", exprs.promql_impossible_match),
    Check("promql/count-zero", exprs.promql_count_zero),
    Check("promql/regex-anchors", exprs.promql_regex_anchors),
    Check("promql/regex-literal", exprs.promql_regex_literal),
    Check("alerts/no-comparison", exprs.alerts_no_comparison),
    Check("alerts/value-humanize", exprs.alerts_value_humanize),
    Check("alerts/required-labels", rules.alerts_required_labels),
    Check("alerts/required-annotations", rules.alerts_required_annotations),
    Check("alerts/template", rules.alerts_template),
    Check("alerts/severity", rules.alerts_severity),
    Check("alerts/team", rules.alerts_team),
    Check("alerts/unrouted", alertmanager.alerts_unrouted),
    Check("alerts/runbook", rules.alerts_runbook),
    Check("alerts/name", rules.alerts_name),
    Check("alerts/for", rules.alerts_for),
    Check("alerts/untested", coverage.alerts_untested),
    Check("tests/exact-float", ruletests.tests_exact_float),
    Check("secrets/inline", secrets.secrets_inline),
    Check("catalog/high-cardinality", catalog.catalog_high_cardinality),
    Check("dashboards/uid", dashboards.dashboards_uid),
    Check("dashboards/datasource-variable", dashboards.dashboards_datasource_variable),
    Check("dashboards/deprecated-panel", dashboards.dashboards_deprecated_panel),
    Check("dashboards/query", dashboards.dashboards_query),
    Check("workflows/schema", workflows.workflows_schema),
    Check("slo/spec", slo.slo_spec),
    Check("slo/stale", slo.slo_stale),
    Check("drills/coverage", slo.drills_coverage),
    Check("drills/receivers", slo.drills_receivers),
    # errors, traces, logs, browser budgets (monitoring/{errors,tracing,logging,lighthouse}/)
    Check("schema/errors", telemetry.schema_errors),
    Check("schema/tracing", telemetry.schema_tracing),
    Check("schema/logging", telemetry.schema_logging),
    Check("schema/lighthouse", telemetry.schema_lighthouse),
    Check("errors/filter", telemetry.errors_filter),
    Check("telemetry/sample-rate", telemetry.telemetry_sample_rate),
    Check("tracing/attributes", telemetry.tracing_attributes),
    Check("dashboards/exemplar", telemetry.dashboards_exemplar),
    Check("logging/correlation", telemetry.logging_correlation),
    Check("logging/forbidden-field", telemetry.logging_forbidden_field),
    Check("logging/levels", telemetry.logging_levels),
    Check("lighthouse/budget", telemetry.lighthouse_budget),
]

# Ids of the tool wrappers (moncheck.tools), run by the gate after CHECKS.
TOOL_IDS = ["promtool/check-rules", "promtool/check-config", "promtool/test-rules", "amtool/check-config",
            "amtool/routing-tests"]

# Organisation rules: they run only when the policy file lists them under `enable:` (correctness
# first: without a policy, only findings that are bugs are reported).
OPT_IN = frozenset({
    "alerts/required-labels", "alerts/required-annotations", "alerts/severity", "alerts/team", "alerts/for",
    "alerts/runbook", "alerts/untested", "alerts/unrouted", "drills/coverage", "catalog/high-cardinality",
    "dashboards/deprecated-panel", "dashboards/datasource-variable",
})

# Ids emitted outside CHECKS and the tools: load errors, policy problems, SLO detail ids.
OTHER_IDS = ["schema/yaml", "schema/json", "schema/unknown-file", "schema/templated", "policy/suppression",
             "slo/query", "slo/catalog", "slo/bucket", "slo/unique", "slo/untested", "slo/windows", "repo/missing",
             # Fire-drill findings (moncheck.drills.dashboards, .content): reported by drills, not the gate.
             "drills/panel-data", "drills/notification",
             # moncheck mutate (moncheck.mutate): one id per operator, plus score/timeout/baseline
             *CHECK_IDS.values(), "mutate/score", "mutate/timeout", "mutate/baseline"]


def known_ids() -> frozenset[str]:
    """Every public check id: what findings say, docs/checks/ documents and suppressions accept."""
    return frozenset([c.id for c in CHECKS] + TOOL_IDS + OTHER_IDS)
