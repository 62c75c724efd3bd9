"""The engine's errors, at the bottom of its imports: every other module may raise them.

Each is a :class:`ValueError` whose message names what is wrong (the file, the field, the line)
and says why; the CLI and the trainer show the message and lose nothing. They live here, apart
from the modules that raise them, so that ``spec``, ``table`` and ``files`` share them without
importing each other (``registry → errors → spec → table → shape → build → train``).

This module imports nothing.
"""


class FileError(ValueError):
    """A path that cannot be read or written as asked; the message names it and says why."""


class SpecError(ValueError):
    """A run spec (or preset file) that cannot describe a run; the message says why."""


class CSVError(SpecError):
    """A data file that cannot be read as asked; the message names the file, and the line and
    column when there is one. A :class:`SpecError`: a spec whose data are bad is a bad spec,
    and everything that reports spec errors reports these."""
