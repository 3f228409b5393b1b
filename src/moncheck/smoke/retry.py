"""Bounded retries with backoff, and the one-line failure every smoke check raises.

A slow network gets a few more tries; a dead service fails within a known time:
at most ``attempts * timeout + sum(backoffs)`` seconds per check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from moncheck import httpauth

T = TypeVar("T")

DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF = 0.25  # first pause; doubles each retry (0.25, 0.5)
DEFAULT_TIMEOUT = 5.0


class SmokeFailure(AssertionError):
    """A failed check, reported on ONE line: what was checked, against what, and what came back."""

    def __init__(self, what: str, against: str, got: str) -> None:
        got = " ".join(str(got).split())  # one line, whatever the server sent
        if len(got) > 300:
            got = got[:297] + "..."
        super().__init__(f"{what} [{against}]: {got}")
        self.what, self.against, self.got = what, against, got


def budget(attempts: int, timeout: float, backoff: float = DEFAULT_BACKOFF) -> float:
    """Worst-case seconds a retried call can take."""
    return attempts * timeout + sum(backoff * 2**i for i in range(attempts - 1))


def retry(
    fn: Callable[[], T],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: float = DEFAULT_BACKOFF,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn`` up to ``attempts`` times, pausing ``backoff * 2**n`` between tries."""
    for n in range(attempts):
        try:
            return fn()
        except retry_on:
            if n == attempts - 1:
                raise
            sleep(backoff * 2**n)
    raise AssertionError("unreachable")  # pragma: no cover


def eventually(
    probe: Callable[[], T | None],
    *,
    within: float,
    interval: float = 0.25,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T | None:
    """Poll ``probe`` until it returns a truthy value or ``within`` seconds pass; last value."""
    deadline = clock() + within
    while True:
        value = probe()
        if value or clock() >= deadline:
            return value
        sleep(min(interval, max(0.0, deadline - clock())))


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    elapsed: float
    text: str

    def json(self) -> Any:
        import json

        return json.loads(self.text)


class _RetryableStatus(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


# Endpoints (scheme://host:port) that refused every try in this run: later checks against them
# try once, so a dead service costs one retry budget per run instead of one per check.
_dead: set[str] = set()



def http_get(
    url: str,
    what: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: float = DEFAULT_BACKOFF,
    expected_status: int | None = 200,
    auth: httpauth.HttpAuth | None = None,
) -> Response:
    """GET with timeout and retries (connection errors, timeouts and 5xx are retried), with the
    target's credentials and TLS settings (``auth``; the session never reads proxy variables).

    Raises SmokeFailure naming ``what``, the URL and what came back when the status is not
    ``expected_status`` after the last try; rejected or missing credentials and TLS failures
    are one line without any secret.
    """

    from urllib.parse import urlsplit

    parts = urlsplit(url)
    endpoint = f"{parts.scheme}://{parts.netloc}"
    known_dead = endpoint in _dead
    if known_dead:
        attempts = 1
    try:
        session = httpauth.session(auth)
    except httpauth.AuthError as e:
        raise SmokeFailure(what, url, f"credentials unavailable: {e}") from None

    def once() -> Response:
        start = time.monotonic()
        r = session.get(url, timeout=timeout)
        resp = Response(url, r.status_code, time.monotonic() - start, r.text)
        if expected_status is not None and resp.status != expected_status and resp.status >= 500:
            raise _RetryableStatus(resp)
        return resp

    try:
        resp = retry(once, attempts=attempts, backoff=backoff,
                     retry_on=(requests.RequestException, _RetryableStatus))
    except _RetryableStatus as e:
        resp = e.response
    except requests.Timeout:
        raise SmokeFailure(what, url, f"no response within {timeout:g}s ({attempts} tries)") from None
    except requests.exceptions.SSLError as e:
        raise SmokeFailure(what, url, httpauth.describe_failure(e)) from None
    except requests.ConnectionError as e:
        reason = _short_reason(e)
        _dead.add(endpoint)
        tries = "1 try, refused earlier in this run" if known_dead else f"{attempts} tries"
        raise SmokeFailure(what, url, f"cannot connect: {reason} ({tries})") from None
    except requests.RequestException as e:
        raise SmokeFailure(what, url, f"request failed: {e}") from None
    _dead.discard(endpoint)
    denied = httpauth.rejected(resp.status, auth) if resp.status != expected_status else None
    if denied:
        raise SmokeFailure(what, url, denied)
    if expected_status is not None and resp.status != expected_status:
        raise SmokeFailure(what, url, f"HTTP {resp.status}, expected {expected_status}: {resp.text[:120]}")
    return resp


def _short_reason(e: Exception) -> str:
    text = str(e)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if marker in text:
            return marker
    return text[:120]
