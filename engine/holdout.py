"""The validation rows: a stratified share of the *training* rows, held out to decide when to
stop, so that the test set decides nothing and stays an honest estimate.

With ``data.validation_fraction`` = f > 0, each class c of the n_c training rows gives
v_c = round(f · n_c) rows, at most n_c − 1 (a class keeps a training row), to the validation
set; should that leave it empty, one row of the largest class goes. The rows are drawn with
``random.Random("validation:<data seed>")``: the same data seed, the same split, and a stream
of its own (a CSV file's train/test split draws from ``random.Random(<data seed>)``). The test
rows are never among the candidates: the split only ever sees the training set.

No torch here: it works on label lists, so the tests and any reader can check it directly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from .errors import SpecError
from .plurals import plural


def validation_rows(
    labels: Sequence[int], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """(rows kept for training, validation rows): indices into ``labels``, each in order.

    SpecError when the training rows are too few to hold any out (fewer than 2 in every
    class)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction!r}")
    by_class: dict[int, list[int]] = {}
    for i, c in enumerate(labels):
        by_class.setdefault(int(c), []).append(i)
    rng = random.Random(f"validation:{seed}")
    held: list[int] = []
    for c in sorted(by_class):
        rows = by_class[c]
        v = min(math.floor(fraction * len(rows) + 0.5), len(rows) - 1)
        rng.shuffle(rows)
        held.extend(rows[:v])
    if not held:
        largest = max(sorted(by_class), key=lambda c: len(by_class[c]))
        if len(by_class[largest]) < 2:
            raise SpecError(
                f"data.validation_fraction: {plural(len(labels), 'training row')}, too few to "
                "hold any out for validation (each class keeps one for training); set it to 0"
            )
        held.append(by_class[largest][0])
    held.sort()
    chosen = set(held)
    return [i for i in range(len(labels)) if i not in chosen], held
