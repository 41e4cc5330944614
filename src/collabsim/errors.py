"""Errors raised for bad user input.

Every error a user can cause by writing a bad scenario or command line is a
:class:`InputError`. Its message is one line that names the file, the dotted key,
the bad value and what is allowed, so the CLI can print it without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InputError(ValueError):
    """Bad user input: a scenario file, an override, or a command-line value."""


def suggest(word: str, options: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest option, or ``""``.

    Args:
        word: What the user wrote.
        options: What would have been accepted.
    """
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def where(source: str | None, key: str) -> str:
    """Format the location prefix of an error message: ``file: key``."""
    return f"{source}: {key}" if source else key
