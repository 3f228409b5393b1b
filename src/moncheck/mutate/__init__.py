"""Mutation testing of alert and recording rules (``moncheck mutate``): operators over the
PromQL tree (``operators``), mutants of rules (``mutants``), which test groups observe them
(``scope``), the promtool runner (``runner``), the policy (``policy``) and scores (``report``)."""
