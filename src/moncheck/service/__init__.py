"""GoCarbonTracker reference service: the seed's server side, instrumented from the metrics catalog.

Run with ``python -m moncheck.service --host 127.0.0.1 --port P --control-port C``. Faults are
injected through the loopback-only control port (see ``faults.py``).
"""
