"""The per-epoch metrics of a run as CSV: one row per epoch summary, one column per field.

The columns are the fields of the engine's ``EpochSummary`` (read with
``dataclasses.fields``, so a field added there shows up here). A metric that was not
evaluated (None, after a stop) is an empty cell; -0.0 is written as 0.0.

Several seeds trained at once (the engine's ``ReplicaEpoch``: a list per metric, one value a
seed) give one row per epoch *and seed*, the ``seeds`` column becoming ``seed`` and each list
its seed's value: the long ("tidy") form that a spreadsheet filters and pandas groups by seed.
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
    """The records (EpochSummary or ReplicaEpoch dataclasses) as CSV text with a header row."""
    if not records:
        raise ValueError("no epochs to export")
    names = [f.name for f in dataclasses.fields(records[0])]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if "seeds" not in names:
        writer.writerow(names)
        for record in records:
            writer.writerow([cell(getattr(record, name)) for name in names])
        return buf.getvalue()
    writer.writerow(["seed" if name == "seeds" else name for name in names])
    for record in records:
        for k, seed in enumerate(record.seeds):
            writer.writerow([cell(_per_seed(record, name, k, seed)) for name in names])
    return buf.getvalue()


def _per_seed(record: Any, name: str, k: int, seed: int) -> Any:
    """Seed number ``k``'s value of a field: its seed, its item of a per-seed list (None for
    a metric not evaluated), or the field itself (epoch, seconds, status: the same for all)."""
    if name == "seeds":
        return seed
    value = getattr(record, name)
    return value[k] if isinstance(value, (list, tuple)) else value


def write_metrics_csv(path: Path, records: Sequence[Any]) -> None:
    """Per-epoch metrics as CSV, written atomically (temp file + rename) to ``path``."""
    # The engine's atomic writer (engine.files.write_atomic_text after the spec split).
    from miniframe.engine import write_atomic_text

    write_atomic_text(Path(path).expanduser(), metrics_csv(records))
