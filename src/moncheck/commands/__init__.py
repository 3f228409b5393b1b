"""Subcommands of ``moncheck``: one module each, exposing ``register(subparsers)``.

``register`` adds a subparser and sets ``func(args) -> int`` (the exit status) on it.
"""

# The order is the order of ``moncheck --help``; the CLI imports each module lazily.
COMMANDS = ("check", "init", "mutate", "up", "drill", "slo", "report")
