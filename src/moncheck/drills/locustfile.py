"""Locust scenarios against the reference service (run by the drill runner as a subprocess).

The runner passes the class names to run on the command line and sets each class's weight
with ``MONCHECK_WEIGHTS`` (``ApiUser=3,AnalyticsUser=1``). Each user's pace is ``MONCHECK_RATE`` requests per second (constant throughput; 0 = as fast as possible).
"""

from __future__ import annotations

import os
import random
import time

from locust import HttpUser, between, constant_throughput, task

RATE = float(os.environ.get("MONCHECK_RATE", "1"))
PAGES = ["/", "/dashboard", "/emissions", "/reports/42", "/companies/3"]


def _wait():
    return constant_throughput(RATE) if RATE > 0 else between(0, 0)


def _ms() -> int:
    return int(time.time() * 1000)


WEIGHTS = {k: int(v) for k, v in (p.split("=") for p in os.environ.get("MONCHECK_WEIGHTS", "").split(",") if p)}


class ApiUser(HttpUser):
    """Browses the API as the web app does (reads, some writes, health checks)."""

    wait_time = _wait()

    @task(6)
    def companies(self) -> None:
        self.client.get("/api/companies")

    @task(4)
    def company(self) -> None:
        cid = random.randint(1, 5)
        self.client.get(f"/api/companies/{cid}", name="/api/companies/:id")
        self.client.get(f"/api/companies/{cid}/emissions", name="/api/companies/:id/emissions")

    @task(3)
    def reads(self) -> None:
        self.client.get(random.choice(["/api/emission-factors", "/api/reports", "/api/targets",
                                       "/api/analytics/summary", "/api/settings"]))

    @task(2)
    def create_emission(self) -> None:
        self.client.post("/api/emissions", json={"company_id": "1", "kg_co2e": 12.5})

    @task(1)
    def session(self) -> None:
        self.client.post("/api/auth/login", json={})
        self.client.post("/api/auth/logout", json={"session_seconds": random.randint(60, 3600)})

    @task(1)
    def health(self) -> None:
        # /health answers 503 when unhealthy: that is data, not a Locust failure.
        with self.client.get("/health", catch_response=True) as r:
            r.success()


class AnalyticsUser(HttpUser):
    """The browser's beacons: good web vitals, page timings, informational logs."""

    wait_time = _wait()

    @task(3)
    def vitals(self) -> None:
        self.client.post("/api/analytics/web-vitals", json={
            "metric": random.choice(["LCP", "FCP", "TTFB", "INP"]), "value": random.uniform(200, 900),
            "rating": "good", "page": random.choice(PAGES), "timestamp": _ms()})

    @task(2)
    def page_performance(self) -> None:
        self.client.post("/api/analytics/page-performance", json={
            "page": random.choice(PAGES), "firstByte": 80, "domContentLoaded": 600,
            "loadComplete": 1200, "timestamp": _ms()})

    @task(1)
    def slow_render(self) -> None:
        self.client.post("/api/analytics/slow-render", json={
            "componentId": random.choice(["EmissionsChart", "CompanyTable", "Dashboard"]),
            "phase": "update", "actualDuration": random.uniform(20, 80), "timestamp": _ms()})

    @task(1)
    def logs(self) -> None:
        self.client.post("/api/logs", json={"logs": [
            {"level": "info", "message": "page shown", "timestamp": _ms(), "url": "/dashboard"}]})


class PoorVitalsUser(HttpUser):
    """A release that made pages slow: Largest Contentful Paint rated poor."""

    wait_time = _wait()

    @task
    def poor_lcp(self) -> None:
        self.client.post("/api/analytics/web-vitals", json={
            "metric": "LCP", "value": random.uniform(4500, 9000), "rating": "poor",
            "page": random.choice(PAGES), "timestamp": _ms()})


class FrontendErrorUser(HttpUser):
    """A broken frontend build: browsers report errors."""

    wait_time = _wait()

    @task
    def error_logs(self) -> None:
        self.client.post("/api/logs", json={"logs": [
            {"level": "error", "message": "TypeError: x is undefined", "timestamp": _ms(),
             "url": random.choice(PAGES)} for _ in range(5)]})


for _cls in (ApiUser, AnalyticsUser, PoorVitalsUser, FrontendErrorUser):
    _cls.weight = WEIGHTS.get(_cls.__name__, 1)
