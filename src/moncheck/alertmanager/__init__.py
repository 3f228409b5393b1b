"""One model of Alertmanager: matchers, the routing tree, grouping, inhibition and the
routing-tests format. Checks, the amtool wrapper's fallback, drills and smoke all use it.

Semantics follow Alertmanager (``pkg/labels``, ``dispatch/route.go``, ``inhibit/inhibit.go``); the
differential tests compare it with the real amtool and Alertmanager of both toolchains (0.25, 0.33).
"""

from moncheck.alertmanager.config import Config, parse_config
from moncheck.alertmanager.inhibit import (
    InhibitRule,
    inhibited,
    inhibiting_rule,
    muted_by,
    parse_inhibit_rules,
)
from moncheck.alertmanager.matchers import (
    Matcher,
    MatcherError,
    parse_matcher,
    parse_matchers,
)
from moncheck.alertmanager.routes import Route, parse_route
from moncheck.alertmanager.routing_tests import CHECK as ROUTING_TESTS_CHECK
from moncheck.alertmanager.routing_tests import (
    BadCase,
    Case,
    InhibitCase,
    RouteCase,
    parse_routing_tests,
    run_case,
)

__all__ = [
    "ROUTING_TESTS_CHECK",
    "BadCase",
    "Case",
    "Config",
    "InhibitCase",
    "InhibitRule",
    "Matcher",
    "MatcherError",
    "Route",
    "RouteCase",
    "inhibited",
    "inhibiting_rule",
    "muted_by",
    "parse_config",
    "parse_inhibit_rules",
    "parse_matcher",
    "parse_matchers",
    "parse_route",
    "parse_routing_tests",
    "run_case",
]
