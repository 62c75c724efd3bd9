"""Your own data with no flags, beside scikit-learn's MLP: the same files, splits and seeds.

    .venv/bin/python benchmarks/tabular_bench.py                    # every set found, 5 seeds
    .venv/bin/python benchmarks/tabular_bench.py --sets iris wine --seeds 3
    .venv/bin/python benchmarks/tabular_bench.py --test-fraction 0.3

Each public data set that an installed package ships (see ``tabular_data.py``: scikit-learn's
four, and the Palmer penguins, the Vega cars and Seattle's weather when ``palmerpenguins`` and
``vega_datasets`` are installed) is cut once into a training and a test file (stratified,
``--test-fraction`` of each class to the test file, default one half). Then, for seeds 0 … N−1:

- *miniframe*: the spec ``miniframe train --data train.csv --test-data test.csv --seed S``
  builds (the tabular default, no other flag), trained, its final test accuracy;
- *scikit-learn*: ``make_pipeline(StandardScaler(), MLPClassifier(random_state=S))`` with its
  defaults, fitted on the same training rows (as miniframe read them) and scored on the same
  test rows.

It prints mean ± std (min–max) of the test accuracy over the seeds for both, and the time each
took. A printed benchmark, not a test; scikit-learn is a test/bench dependency only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from tabular_data import load_sets, write_split

from miniframe.cli.args import Parser
from miniframe.cli.spec_args import add_spec_arguments, spec_from_args
from miniframe.engine import Run, RunSpec, csv_split, data_seed


def no_flags_spec(train: Path, test: Path, seed: int) -> RunSpec:
    """What ``miniframe train --data TRAIN --test-data TEST --seed SEED`` trains."""
    parser = Parser(prog="miniframe train")
    add_spec_arguments(parser)
    argv = ["--data", str(train), "--test-data", str(test), "--seed", str(seed)]
    return spec_from_args(parser.parse_args(argv))


def miniframe_accuracy(spec: RunSpec) -> float:
    """The final test accuracy, as ``miniframe train`` prints it (the restored weights' when
    the run put back its best epoch)."""
    run = Run(spec)
    *_, last = run.fit()
    final = run.trainer.best if run.trainer.restored is not None else last
    assert final is not None and final.test_acc is not None
    return final.test_acc


def sklearn_accuracy(spec: RunSpec, seed: int) -> float:
    """scikit-learn's MLP with its defaults, behind a StandardScaler, on the rows miniframe's
    spec reads (the same features, the same classes)."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = csv_split(spec.data, data_seed(spec))
    width = data.train.n_features
    x_train = np.asarray(data.train.features).reshape(-1, width)[data.train_rows]
    y_train = np.asarray(data.train.y)[data.train_rows]
    x_test = np.asarray(data.test.features).reshape(-1, width)[data.test_rows]
    y_test = np.asarray(data.test_y)
    model = make_pipeline(StandardScaler(), MLPClassifier(random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=200 is its default
        model.fit(x_train, y_train)
    return 100.0 * float((model.predict(x_test) == y_test).mean())


def spread(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.1f} ± {std:.1f} ({min(values):.1f}–{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", help="default: every set found")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--test-fraction", type=float, default=0.5)
    parser.add_argument("--split-seed", type=int, default=0, help="the train/test cut's seed")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as `miniframe train` (--threads 1)
    sets, missing = load_sets(args.sets)
    seeds = range(args.seeds)
    print(
        f"test accuracy %, mean ± std (min–max) over seeds {seeds.start}–{seeds.stop - 1}; each "
        f"set cut once into train/test files ({args.test_fraction:g} of each class to test, "
        f"cut seed {args.split_seed}); miniframe with no flags, scikit-learn "
        f"make_pipeline(StandardScaler(), MLPClassifier(random_state=seed)) with its defaults\n"
    )
    print("| data (features, classes, rows: train / test) | miniframe, no flags | scikit-learn "
          "MLP | mean difference | miniframe s | scikit-learn s |")  # fmt: skip
    print("|---|--:|--:|--:|--:|--:|")
    t_start = time.perf_counter()
    ahead = 0
    with tempfile.TemporaryDirectory(prefix="miniframe-tabular-") as folder:
        for data in sets:
            train, test = write_split(data, Path(folder), args.test_fraction, args.split_seed)
            specs = [no_flags_spec(train, test, s) for s in seeds]
            t0 = time.perf_counter()
            ours = [miniframe_accuracy(spec) for spec in specs]
            t1 = time.perf_counter()
            theirs = [sklearn_accuracy(spec, s) for spec, s in zip(specs, seeds, strict=True)]
            t2 = time.perf_counter()
            shape = specs[0].shape()
            diff = statistics.mean(ours) - statistics.mean(theirs)
            ahead += diff >= 0
            print(
                f"| {data.name} ({data.n_features}, {len(data.classes)}, "
                f"{shape.n_train:,} / {shape.n_test:,}) | {spread(ours)} | {spread(theirs)} | "
                f"{diff:+.1f} | {t1 - t0:.0f} | {t2 - t1:.0f} |",
                flush=True,
            )
    print(f"\nminiframe's mean ≥ scikit-learn's on {ahead} of {len(sets)} sets")
    for note in missing:
        print(f"left out: {note}")
    print(f"({time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
