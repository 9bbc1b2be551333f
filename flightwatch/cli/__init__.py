"""The ``flightwatch`` command line: one module per command group, ``main`` wires them."""

from flightwatch.cli.main import main

__all__ = ["main"]
