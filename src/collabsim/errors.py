"""Errors raised for bad user input.

Every error a user can cause by writing a bad scenario or command line is a
:class:`InputError`. Its message is one line that names the file, the dotted key,
the bad value and what is allowed, so the CLI can print it without a traceback.
"""

from __future__ import annotations

import difflib
import re
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


# Control characters, and invisible marks that reorder or split text (a regex class body).
CONTROL = r"\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{CONTROL}]")


def visible(text: str) -> str:
    r"""``text`` safe for a terminal: control characters and escape sequences made visible.

    Every C0/C1 control character (ESC, BEL, CR, newline...), and the invisible
    direction and line-separator marks, is shown as a Python escape (``\x1b``,
    ``\u202e``), so a name can neither drive the terminal nor forge an output line.
    """
    return _INVISIBLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
