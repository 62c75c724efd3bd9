"""Real engine data for the map/legend/neurons/confusion widget tests: a small trained run on
3-class spirals, and iris (4 features, 3 classes) written out from scikit-learn's bundled file.

Imported as ``from map_helpers import ...`` (a name unique in the test tree, as tui_helpers).
Runs are cached per process: training one takes a fraction of a second.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Any

from miniframe.engine.spec import DataSpec, LayerSpec, RunSpec, SolverSpec

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def spirals_spec(classes: int = 3, epochs: int = 30) -> RunSpec:
    return RunSpec(
        layers=[
            LayerSpec("linear", 16), LayerSpec("relu"),
            LayerSpec("linear", 16), LayerSpec("tanh"),
            LayerSpec("linear", "classes"),
        ],
        loss="cross-entropy",
        solver=SolverSpec(name="adam", lr=0.02),
        data=DataSpec(name="spirals", n_train=300, n_test=150, classes=classes, center=True),
        init="he",
        epochs=epochs,
        batch_size=32,
        seed=1,
        name="spirals",
    )  # fmt: skip


@lru_cache(maxsize=4)
def trained_spirals(classes: int = 3, epochs: int = 30) -> Any:
    """A Run on k-arm spirals trained for ``epochs`` epochs."""
    from miniframe.engine.train import Run

    run = Run(spirals_spec(classes, epochs))
    for _ in run.fit():
        pass
    return run


def iris_csv(folder: Path) -> Path:
    """scikit-learn's bundled iris as plain CSV (header of feature names, named species)."""
    import sklearn

    source = Path(sklearn.__file__).parent / "datasets" / "data" / "iris.csv"
    with source.open(newline="") as f:
        rows = list(csv.reader(f))
    _, _, *classes = rows[0]
    target = folder / "iris.csv"
    with target.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow([*IRIS_FEATURES, "species"])
        out.writerows([*row[:-1], classes[int(row[-1])]] for row in rows[1:])
    return target


def iris_spec(path: Path, epochs: int = 40) -> RunSpec:
    return RunSpec(
        layers=[LayerSpec("linear", 12), LayerSpec("relu"), LayerSpec("linear", "classes")],
        loss="cross-entropy",
        solver=SolverSpec(name="adam", lr=0.03),
        data=DataSpec(name="csv", path=str(path), standardize=True),
        init="he",
        epochs=epochs,
        batch_size=16,
        seed=0,
        name="iris",
    )


def trained_iris(folder: Path, epochs: int = 40) -> Any:
    from miniframe.engine.train import Run

    run = Run(iris_spec(iris_csv(folder), epochs))
    for _ in run.fit():
        pass
    return run
