"""Strict JSON for ``--json`` output: what any JSON parser accepts (Node's JSON.parse, Python's
with ``parse_constant`` refusing NaN): no NaN or Infinity tokens, which become ``null`` (the
line's ``status`` and ``message`` say why), and no ``-0.0``."""

from __future__ import annotations

import json
import math
from typing import Any


def strict(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None and -0.0 by 0.0, recursively."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else value + 0.0  # -0.0 + 0.0 == 0.0
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    return value


def json_line(obj: dict[str, Any]) -> str:
    """One line of strict JSON (``allow_nan=False`` backs :func:`strict` up)."""
    return json.dumps(strict(obj), allow_nan=False)


def epoch_record(summary: Any) -> dict[str, Any]:
    """An EpochSummary as a JSON object that always has ``status`` and ``message``."""
    record: dict[str, Any] = summary.to_json_dict()
    return record
