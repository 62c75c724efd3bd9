"""Public tabular data sets that installed packages ship as files, written out as plain CSV.

No download: each set is read from a file inside an installed package. scikit-learn (the
``test`` extra) ships iris, wine, breast cancer and digits; ``palmerpenguins`` and
``vega_datasets``, when installed (``pip install --no-deps palmerpenguins vega_datasets``:
only their data files are read, never their pandas code), add the Palmer penguins, the cars
of the Vega examples (their origin from 6 measurements) and Seattle's weather (its type from
4 measurements). A set whose package is missing is left out, and the benchmark says so.

:func:`write_split` cuts a set into a training and a test file (stratified, seeded), as a
user holding two files would have them: ``miniframe train --data train.csv --test-data
test.csv``.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Rows = list[list[str]]  # the header first, then the rows; the label is the last column


@dataclass(frozen=True)
class TabularSet:
    """A data set as CSV text rows (header first, label last) and where it came from."""

    name: str
    source: str
    rows: Rows

    @property
    def n_features(self) -> int:
        return len(self.rows[0]) - 1

    @property
    def classes(self) -> list[str]:
        return sorted({r[-1] for r in self.rows[1:]})

    @property
    def n_rows(self) -> int:
        return len(self.rows) - 1

    def describe(self) -> str:
        return (
            f"{self.name} ({self.n_features} features, {len(self.classes)} classes, "
            f"{self.n_rows:,} rows)"
        )


def _package_dir(name: str) -> Path | None:
    """An installed package's folder, found without importing it (None if not installed)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _sklearn_bundled(file: str, names: list[str] | None = None) -> Rows | None:
    """A file of scikit-learn's ``datasets/data``: its first line is ``n_samples,n_features,
    class names…``, its rows the features and the class index."""
    folder = _package_dir("sklearn")
    if folder is None:
        return None
    path = folder / "datasets" / "data" / file
    opener = gzip.open if file.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        lines = list(csv.reader(f))
    if file.startswith("digits"):  # no count line; 64 pixels then the digit
        width = len(lines[0]) - 1
        header = [f"pixel_{i}" for i in range(width)]
        return [[*header, "digit"]] + [[c.split(".")[0] for c in row] for row in lines if row]
    _, n_features, *classes = lines[0]
    header = names or [f"feature_{i + 1}" for i in range(int(n_features))]
    label = [classes[int(row[-1])] if classes else row[-1] for row in lines[1:]]
    return [[*header, "class"]] + [[*row[:-1], y] for row, y in zip(lines[1:], label, strict=True)]


def _numeric_rows(records: list[dict[str, object]], features: list[str], label: str) -> Rows:
    """Records with every feature a number and a label; the others (missing values) dropped."""
    rows: Rows = [[*features, label]]
    for r in records:
        values = [r.get(k) for k in features]
        y = r.get(label)
        cells = [str(v).strip() if v is not None else "" for v in values]
        if y in (None, "", "NA") or any(c in ("", "NA", "nan", "None") for c in cells):
            continue
        try:
            [float(c) for c in cells]
        except ValueError:
            continue
        rows.append([*cells, str(y)])
    return rows


def _penguins() -> Rows | None:
    folder = _package_dir("palmerpenguins")
    if folder is None:
        return None
    with (folder / "data" / "penguins.csv").open(newline="") as f:
        records = list(csv.DictReader(f))
    features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    return _numeric_rows(records, features, "species")  # type: ignore[arg-type]


def _vega(file: str, features: list[str], label: str) -> Rows | None:
    folder = _package_dir("vega_datasets")
    if folder is None:
        return None
    path = folder / "_data" / file
    if file.endswith(".json"):
        records = json.loads(path.read_text(encoding="utf-8"))
    else:
        with path.open(newline="") as f:
            records = list(csv.DictReader(f))
    return _numeric_rows(records, features, label)


IRIS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CARS = ["Miles_per_Gallon", "Cylinders", "Displacement", "Horsepower", "Weight_in_lbs",
        "Acceleration"]  # fmt: skip
WEATHER = ["precipitation", "temp_max", "temp_min", "wind"]

#: Every set: name, package, loader.
SETS: dict[str, tuple[str, Callable[[], Rows | None]]] = {
    "iris": ("scikit-learn", lambda: _sklearn_bundled("iris.csv", IRIS)),
    "wine": ("scikit-learn", lambda: _sklearn_bundled("wine_data.csv")),
    "breast_cancer": ("scikit-learn", lambda: _sklearn_bundled("breast_cancer.csv")),
    "digits": ("scikit-learn", lambda: _sklearn_bundled("digits.csv.gz")),
    "penguins": ("palmerpenguins", _penguins),
    "cars_origin": ("vega_datasets", lambda: _vega("cars.json", CARS, "Origin")),
    "seattle_weather": (
        "vega_datasets",
        lambda: _vega("seattle-weather.csv", WEATHER, "weather"),
    ),
}


def load_sets(names: list[str] | None = None) -> tuple[list[TabularSet], list[str]]:
    """The sets asked for (default: all) that can be read here, and a note per missing one."""
    found, missing = [], []
    for name in names or list(SETS):
        source, load = SETS[name]
        rows = load()
        if rows is None:
            missing.append(f"{name}: needs {source} (pip install --no-deps {source})")
        else:
            found.append(TabularSet(name, source, rows))
    return found, missing


def write_split(
    data: TabularSet, folder: Path, test_fraction: float, seed: int
) -> tuple[Path, Path]:
    """``data`` as ``NAME-train.csv`` and ``NAME-test.csv`` in ``folder``: ``test_fraction`` of
    each class (at least one row) in the test file, drawn with ``random.Random(seed)``."""
    header, rows = data.rows[0], data.rows[1:]
    by_class: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_class.setdefault(r[-1], []).append(i)
    rng = random.Random(seed)
    test: set[int] = set()
    for label in sorted(by_class):
        members = by_class[label]
        rng.shuffle(members)
        k = min(max(round(test_fraction * len(members)), 1), len(members) - 1)
        test.update(members[:k])
    paths = (folder / f"{data.name}-train.csv", folder / f"{data.name}-test.csv")
    for path, keep in zip(paths, (False, True), strict=True):
        with path.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(r for i, r in enumerate(rows) if (i in test) == keep)
    return paths
