"""moncheck.stack: the local stack (reference service, Prometheus, Alertmanager, sink)."""

from moncheck.stack.core import Stack, missing_binaries
from moncheck.stack.procs import StackError

__all__ = ["Stack", "StackError", "missing_binaries"]
