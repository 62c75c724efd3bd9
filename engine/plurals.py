"""Counted nouns in messages: ``1 run``, ``2 runs``, ``1 process``, ``0 classes``.

Every message that counts something says it through :func:`plural` (or :func:`agree`, for a
noun whose number comes before it some other way: ``unknown keys a, b``), so no message reads
``1 runs`` or hedges with ``run(s)``. English's rules for the nouns we count: ``-s``; ``-es``
after s, x, z, ch and sh (but ``epochs``: a hard ch); ``-ies`` after a consonant and y. A noun
they get wrong passes its plural form.

This module imports nothing.
"""

from __future__ import annotations

__all__ = ["agree", "plural"]

#: Words the rules get wrong, by their singular.
_EXCEPTIONS = {"epoch": "epochs"}


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """``n`` and ``noun``, the noun's plural unless ``n`` is 1 (or −1): ``plural(1, "seed")``
    is ``"1 seed"``, ``plural(3, "grid point")`` is ``"3 grid points"``."""
    return f"{n} {agree(n, noun, plural_form)}"


def agree(n: int, noun: str, plural_form: str | None = None) -> str:
    """``noun`` as the number ``n`` needs it: itself for 1, else its plural (``plural_form``
    or the rules' plural of its last word: ``"worker process"`` → ``"worker processes"``)."""
    if abs(n) == 1:
        return noun
    if plural_form is not None:
        return plural_form
    head, _, last = noun.rpartition(" ")
    lower = last.lower()
    if lower in _EXCEPTIONS:
        return f"{head} {_EXCEPTIONS[lower]}" if head else _EXCEPTIONS[lower]
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if len(lower) > 1 and lower.endswith("y") and lower[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"
