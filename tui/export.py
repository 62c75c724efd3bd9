"""The per-epoch metrics of a run as CSV: one row per epoch summary, one column per field.

The columns are the fields of the engine's ``EpochSummary`` (read with
``dataclasses.fields``, so a field added there shows up here). A metric that was not
evaluated (None, after a stop) is an empty cell; -0.0 is written as 0.0.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any


def cell(value: Any) -> Any:
    """A CSV cell: None → empty, -0.0 → 0.0, a status enum → its name."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value + 0.0  # -0.0 + 0.0 == +0.0; every other value is unchanged
    return value


def metrics_csv(records: Sequence[Any]) -> str:
    """The records (EpochSummary dataclasses) as CSV text with a header row."""
    if not records:
        raise ValueError("no epochs to export")
    names = [f.name for f in dataclasses.fields(records[0])]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    for record in records:
        writer.writerow([cell(getattr(record, name)) for name in names])
    return buf.getvalue()


def write_metrics_csv(path: Path, records: Sequence[Any]) -> None:
    """Per-epoch metrics as CSV, written atomically (temp file + rename) to ``path``."""
    # The engine's atomic writer (engine.files.write_atomic_text after the spec split).
    from miniframe.engine import write_atomic_text

    write_atomic_text(Path(path).expanduser(), metrics_csv(records))
