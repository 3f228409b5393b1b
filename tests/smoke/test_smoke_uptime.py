"""Every uptime check of the environment answers its expected status within its timeout."""

from moncheck.smoke import checks


def test_uptime(smoke_target, uptime_check, record_property):
    resp = checks.uptime(smoke_target, uptime_check)
    record_property("url", resp.url)
    record_property("response_time_s", round(resp.elapsed, 4))
    record_property("status", resp.status)
