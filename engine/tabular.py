"""Your own data's run: what ``miniframe train --data FILE.csv`` and the trainer's ``D`` train.

Two rules, stated once here and read by the command line and the trainer:

- **A file's features are standardised** (each minus its training mean, over its training
  standard deviation) unless the caller turns it off (``--no-standardize``, the picker's box):
  a CSV file's columns come in any units, and a network trained on raw ones (grams beside
  millimetres) trains badly and depends on the seed.
- **Without a preset or config, a file gets the tabular default** (:func:`tabular_spec`),
  sized to the file: one hidden layer of :data:`WIDTH` ReLU units, cross-entropy, He
  initialisation, Adam at lr 10⁻³ in batches of :data:`BATCH` rows, and weight decay
  λ = 1 / n (n training rows): strong where a few rows would be memorised, vanishing where
  there are many. The epochs give about :data:`STEPS` steps (≥ :data:`MIN_EPOCHS`, ≤
  :data:`MAX_EPOCHS`): small files train long enough to converge, big ones do not train for
  hours.

Why these, by measurement (``benchmarks/tabular_bench.py``, the README has the table): against
scikit-learn's ``make_pipeline(StandardScaler(), MLPClassifier())`` on seven public data sets
(4–64 features, 2–10 classes, 150–1,797 rows), each split in two, 5 seeds. The alternatives
measured and left: two hidden layers of 64 (no better, slower); batch min(200, n) as
scikit-learn (worse on iris and the cars' origin: too few steps); a fixed decay (10⁻²: worse
on the larger sets; 0: overfits the small ones); early stopping on a validation split of 10–20
% of the training rows with the best weights restored (``data.validation_fraction``,
``stop.patience``, ``stop.restore_best``: on these sizes the rows held out cost more than the
stopping gained, from +0.5 to −2.7 points, and the noisy choice of epoch widened the spread
over seeds to as much as ±3.8).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from .registry import CLASSES_UNITS, FILE_DATASET, LAYERS
from .shape import DataShape
from .spec import DataSpec, LayerSpec, RunSpec, SolverSpec

NAME = "tabular"
WIDTH = 100  # hidden ReLU units
BATCH = 32  # rows per step (fewer when the training set is smaller)
LR = 1e-3  # Adam's learning rate
STEPS = 20_000  # steps a run aims at
MIN_EPOCHS = 30
MAX_EPOCHS = 300
#: Files' features are standardised unless the caller says otherwise.
STANDARDIZE_FILES = True


def file_data(data: DataSpec, path: str | Path, **changes: Any) -> DataSpec:
    """``data`` reading the CSV file ``path``: the csv dataset, no centring (it maps the
    generated data's unit square), standardised (:data:`STANDARDIZE_FILES`); ``changes`` set
    other fields (``test_path``, ``label_column``, ``standardize``…)."""
    settings: dict[str, Any] = {"standardize": STANDARDIZE_FILES} | changes
    return dataclasses.replace(data, name=FILE_DATASET, path=str(path), center=False, **settings)


def tabular_spec(data: DataSpec, seed: int = 0, shape: DataShape | None = None) -> RunSpec:
    """The tabular default for ``data`` (a csv DataSpec, e.g. from :func:`file_data`), sized
    to its data: ``shape`` when given, else the file is read (a bad file raises its
    :class:`~.errors.CSVError`)."""
    probe = RunSpec(layers=[LayerSpec("linear", CLASSES_UNITS)], data=data, seed=seed)
    if shape is None:
        shape = probe.shape()
    n = shape.n_train
    batch = min(BATCH, n)
    epochs = min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(STEPS / math.ceil(n / batch))))
    return RunSpec(
        layers=[LayerSpec("linear", WIDTH), LayerSpec("relu"), LayerSpec("linear", CLASSES_UNITS)],
        loss="cross-entropy",
        solver=SolverSpec(name="adam", lr=LR, weight_decay=_decay(n)),
        data=data,
        init="he",
        epochs=epochs,
        batch_size=batch,
        seed=seed,
        name=NAME,
        description=(
            f"the default for a data file: {WIDTH} ReLU units, Adam, weight decay 1/n, sized to "
            f"{n:,} training rows"
        ),
    )


def with_file(spec: RunSpec, data: DataSpec) -> RunSpec:
    """A preset or config ``spec`` reading ``data`` (a csv DataSpec) instead of its own: its
    last Linear outputs one value per class of the file (``units = "classes"``)."""
    layers = list(spec.layers)
    for i in range(len(layers) - 1, -1, -1):
        kind = LAYERS.get(layers[i].kind)
        if kind is not None and kind.has_weights:  # the last layer with outputs of its own
            layers[i] = dataclasses.replace(layers[i], units=CLASSES_UNITS)
            break
    return spec.replace(data=data, layers=layers)


def _decay(n: int) -> float:
    """λ = 1 / n, rounded to 2 significant digits (a spec shows it)."""
    return float(f"{1.0 / n:.2g}")
