"""The ``revshare`` command line: parse, make one library call, print or write, map errors to
exit codes (docs/concepts.md#exit-codes-and-errors). A package of its own beside :mod:`revshare`, so that the library
never imports click."""

from .commands import main

__all__ = ["main"]
