"""The drills' panel check reads dashboards from the inventory and queries a real Prometheus.

Prometheus runs on loopback with no targets: ``vector(1)`` has data, ``up{job="none"}`` has none,
so exactly the second panel is reported, at the line of its query in the dashboard JSON.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from moncheck.drills.dashboards import check_live
from moncheck.stack.procs import Proc, free_port
from moncheck.tools import ToolMissing, find_binary

try:
    PROMETHEUS = find_binary("prometheus")
except ToolMissing as e:  # pragma: no cover
    if os.environ.get("CI"):
        raise
    pytest.skip(str(e), allow_module_level=True)

DASHBOARD = """\
{
  "title": "D",
  "uid": "d",
  "panels": [
    {"type": "stat", "title": "has data", "targets": [{"refId": "A", "expr": "vector(1)"}]},
    {"type": "row", "title": "r", "panels": [
      {"type": "timeseries", "title": "empty",
       "targets": [{"refId": "A", "expr": "sum(rate(up{job=\\"none\\"}[$__rate_interval]))"}]}
    ]}
  ]
}
"""


def test_panels_without_data_are_findings_at_their_query_line(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "monitoring/grafana/dashboards").mkdir(parents=True)
    (repo / "monitoring/grafana/dashboards/d.json").write_text(DASHBOARD)
    (repo / "monitoring/grafana/dashboards/broken.json").write_text('{"title": \n')
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text("global: {scrape_interval: 15s}\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = Proc("prometheus", [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'data'}",
                               f"--web.listen-address=127.0.0.1:{port}"], tmp_path / "prometheus.log", f"{url}/-/ready")
    try:
        proc.start()
        proc.wait_ready(60)
        found = check_live(SimpleNamespace(prometheus_url=url), repo, 1000, 30.0)
    finally:
        proc.stop()
    assert [(f.check, f.path, f.line) for f in found] == [
        ("drills/panel-data", "monitoring/grafana/dashboards/broken.json", 2),
        ("drills/panel-data", "monitoring/grafana/dashboards/d.json", 8),
    ]
    assert found[0].message.startswith("cannot read dashboard: ")
    assert found[1].message == ("dashboard 'D' panel 'empty': no data under drill traffic: "
                                'sum(rate(up{job="none"}[4s]))')
