"""Reading JSON and TOML text, every failure one line: the one parser of run specs, config
and preset files, and a checkpoint's JSON header and metadata.

Besides a syntax error, a parser can fail on what it was never meant to be given: nesting a
hundred thousand levels deep (RecursionError) and an integer of more digits than Python
converts (over 4,300: a ValueError that is not a decode error). Each is a
:class:`DocumentError` whose message says which, for the caller to prefix with the file's
name. A TOML file that starts with a byte-order mark (as some Windows editors write them) is
read as if it had none.

Imports only the standard library; ``json`` is loaded on first use (the trainer's first frame
reads only TOML).
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable
from typing import Any

BOM = "\ufeff"


class DocumentError(ValueError):
    """Text that is not a readable JSON or TOML document; the message says why, in a line."""


def _digits_limit() -> int:
    return sys.get_int_max_str_digits() or 4300


def load_toml(text: str) -> dict[str, Any]:
    """The TOML document ``text`` (a leading byte-order mark dropped)."""
    result: dict[str, Any] = _parse(tomllib.loads, text.removeprefix(BOM), "TOML")
    return result


def load_json(text: str | bytes) -> Any:
    """The JSON document ``text``."""
    import json

    return _parse(json.loads, text, "JSON")


def _parse(loads: Callable[[Any], Any], text: str | bytes, kind: str) -> Any:
    """``loads(text)``, every failure a DocumentError (a decode error is a ValueError too)."""
    try:
        return loads(text)
    except RecursionError:
        raise DocumentError("nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, TOMLDecodeError, or int() past its digits
        if "digits" in str(e) and "Exceeds the limit" in str(e):
            raise DocumentError(_number_problem(e)) from None
        raise DocumentError(f"not valid {kind} ({e})") from None


def _number_problem(error: ValueError) -> str:
    if "digits" in str(error):
        return f"holds a number of more than {_digits_limit():,} digits, beyond any setting"
    return f"not readable ({str(error)[:200]})"
