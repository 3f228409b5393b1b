"""Every static check, by its public id (ids never change: output, docs and suppressions use them)."""

from __future__ import annotations

from moncheck.checks import alertmanager, catalog, coverage, dashboards, misc, rules, ruletests, secrets, slo, workflows
from moncheck.checks.base import Check
from moncheck.mutate.operators import OPERATOR_IDS

CHECKS: list[Check] = [
    Check("schema/rules", rules.schema_rules),
    Check("schema/catalog", catalog.schema_catalog),
    Check("schema/uptime", misc.schema_uptime),
    Check("schema/dashboard", dashboards.schema_dashboard),
    Check("schema/routing-tests", alertmanager.schema_routing_tests),
    Check("schema/policy", misc.schema_policy),
    Check("schema/slo", misc.schema_slo),
    Check("schema/drill", misc.schema_drill),
    Check("promql/parse", rules.promql_parse),
    Check("promql/unknown-metric", rules.promql_unknown_metric),
    Check("promql/rate-on-non-counter", rules.promql_rate_on_non_counter),
    Check("promql/histogram-quantile", rules.promql_histogram_quantile),
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
]

# Ids emitted outside CHECKS: load errors, policy problems, tool wrappers.
OTHER_IDS = ["schema/yaml", "schema/json", "schema/unknown-file", "policy/suppression", "alertmanager/routing", "alertmanager/inhibition",
             "slo/query", "slo/catalog", "slo/bucket", "slo/unique", "slo/untested",
             # moncheck mutate (moncheck.mutate): one id per operator, plus score/timeout/baseline
             *(f"mutate/{op}" for op in (*OPERATOR_IDS, "score", "timeout", "baseline"))]
