"""moncheck: proves monitoring-as-code right (rules, routing, dashboards, SLOs, drills)."""

__version__ = "0.1.0"
