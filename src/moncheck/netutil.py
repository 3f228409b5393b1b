"""Small network helpers shared by the service, smoke checks, the report and drills."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host_or_url: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1), given as a bare host
    (``127.0.0.1``, ``::1``) or as the host of a URL (``http://[::1]:9090/``)."""
    host = (urlsplit(host_or_url).hostname or "") if "://" in host_or_url else host_or_url
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
