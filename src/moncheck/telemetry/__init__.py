"""Errors, traces and logs as code: typed records of ``monitoring/{errors,tracing,logging}/``."""
