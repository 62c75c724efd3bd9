"""Your own data by default: the tabular default, standardisation of files, and the validation
split that the stop conditions watch (never the test rows)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
import torch

from miniframe.cli import main
from miniframe.cli.args import Parser
from miniframe.cli.spec_args import add_spec_arguments, spec_from_args
from miniframe.engine import (
    DataShape,
    DataSpec,
    LayerSpec,
    Run,
    RunSpec,
    SolverSpec,
    SpecError,
    StopSpec,
    file_data,
    tabular_spec,
)
from miniframe.engine.holdout import validation_rows

sklearn = pytest.importorskip("sklearn")  # the `test` extra installs it
BUNDLED = Path(sklearn.__file__).parent / "datasets" / "data"


def bundled_split(source: str, folder: Path, test_share: float = 0.5) -> tuple[Path, Path]:
    """A file scikit-learn ships (first line ``n_samples,n_features,class names…``, rows of
    features and the class index) as a training and a test file with a header and named
    classes: every second row of each class (by a seeded shuffle) to the test file."""
    with (BUNDLED / source).open(newline="") as f:
        rows = list(csv.reader(f))
    _, n_features, *classes = rows[0]
    header = [f"f{i + 1}" for i in range(int(n_features))] + ["class"]
    data = [[*r[:-1], classes[int(r[-1])]] for r in rows[1:]]
    random.Random(0).shuffle(data)
    seen: dict[str, int] = {}
    train, test = [], []
    for r in data:
        seen[r[-1]] = seen.get(r[-1], 0) + 1
        (test if seen[r[-1]] % round(1 / test_share) == 0 else train).append(r)
    paths = folder / f"{source}-train.csv", folder / f"{source}-test.csv"
    for path, part in zip(paths, (train, test), strict=True):
        with path.open("w", newline="") as f:
            csv.writer(f).writerows([header, *part])
    return paths


def spec_of(*argv: str | Path) -> RunSpec:
    parser = Parser(prog="t")
    add_spec_arguments(parser)
    return spec_from_args(parser.parse_args([str(a) for a in argv]))


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def shape(n_train: int, n_inputs: int = 4, n_classes: int = 3) -> DataShape:
    names = tuple(str(i) for i in range(n_classes))
    features = tuple(f"f{i}" for i in range(n_inputs))
    return DataShape(n_inputs, n_classes, names, features, n_train, 10)


# ---- the default on real data, with no flags -------------------------------------------------
def test_wine_with_no_flags_beats_a_coin_by_far(capsys, tmp_path):
    """scikit-learn's wine file (13 features, 3 classes), split in two: `miniframe train --data
    train.csv --test-data test.csv` alone trains the tabular default, standardised, and
    scores ≥ 95 % on the 89 test rows (scikit-learn's MLP scores 99 % here)."""
    train, test = bundled_split("wine_data.csv", tmp_path)
    code, out, err = cli(capsys, "train", "--data", train, "--test-data", test, "--json",
                         "--no-record")  # fmt: skip
    assert code == 0, err
    last = json.loads(out.splitlines()[-1])
    assert last["status"] == "finished" and last["test_acc"] >= 95.0, last
    code, out, _ = cli(capsys, "train", "--data", train, "--test-data", test, "--epochs", "1",
                       "--no-record")  # fmt: skip
    assert "training tabular: [Linear 13 → 100, ReLU, Linear 100 → 3]" in out
    assert "standardized" in out


def test_breast_cancer_with_no_flags_over_three_seeds(capsys, tmp_path):
    """30 features, 2 classes, 285 test rows: ≥ 94 % for every seed, and the seeds agree within
    2 points (a narrow spread is part of a good default)."""
    train, test = bundled_split("breast_cancer.csv", tmp_path)
    scores = []
    for seed in (0, 1, 2):
        code, out, err = cli(capsys, "train", "--data", train, "--test-data", test, "--seed",
                             seed, "--epochs", "100", "--json", "--no-record")  # fmt: skip
        assert code == 0, err
        scores.append(json.loads(out.splitlines()[-1])["test_acc"])
    assert min(scores) >= 94.0 and max(scores) - min(scores) <= 2.0, scores


# ---- the default's sizing ------------------------------------------------------------------------
def test_the_tabular_default_is_sized_to_the_data(tmp_path):
    data = file_data(DataSpec(), tmp_path / "unused.csv")
    small, big, huge = (tabular_spec(data, shape=shape(n)) for n in (20, 900, 200_000))
    assert small.batch_size == 20 and big.batch_size == 32 == huge.batch_size
    assert small.solver.weight_decay == pytest.approx(1 / 20)
    assert big.solver.weight_decay == pytest.approx(1 / 900, rel=0.01)
    assert huge.solver.weight_decay == pytest.approx(1 / 200_000, rel=0.01)
    assert small.epochs == big.epochs == 300  # ~20,000 steps, at most 300 epochs
    assert huge.epochs == 30  # 6,250 steps an epoch: at least 30 epochs, not 300
    for spec in (small, big, huge):
        assert spec.data.standardize and spec.loss == "cross-entropy"
        assert [layer.kind for layer in spec.layers] == ["linear", "relu", "linear"]
        spec.validate(shape(spec.batch_size * 2))


# ---- flags ----------------------------------------------------------------------------------
@pytest.fixture
def iris_files(tmp_path) -> tuple[Path, Path]:
    return bundled_split("iris.csv", tmp_path, test_share=1 / 3)


def test_data_flags_and_the_preset_or_config(iris_files, tmp_path):
    """--data alone: the tabular default; with --preset or --config: theirs, reading the file.
    Either way standardised unless --no-standardize; the generated datasets stay unstandardised
    unless --standardize; the flags override the default's settings."""
    train, _ = iris_files
    spec = spec_of("--data", train)
    assert spec.name == "tabular" and spec.data.standardize and not spec.data.center
    assert not spec_of("--data", train, "--no-standardize").data.standardize
    quick = spec_of("--preset", "quick", "--data", train)
    assert quick.name == "quick" and quick.data.standardize and quick.layers[0].units == 25
    assert quick.layers[-1].units == "classes" and quick.shape().n_classes == 3
    assert not spec_of("--preset", "quick", "--data", train, "--no-standardize").data.standardize
    config = tmp_path / "mine.toml"
    config.write_text(
        'name = "mine"\nloss = "cross-entropy"\n[[layers]]\ntype = "linear"\nunits = 2\n',
        encoding="utf-8",
    )
    mine = spec_of("--config", config, "--data", train)
    assert mine.name == "mine" and mine.data.standardize
    assert mine.layers == [LayerSpec("linear", "classes")]  # one output per class of the file
    disk = spec_of("--preset", "quick")
    assert not disk.data.standardize and disk.data.center
    assert spec_of("--preset", "quick", "--standardize").data.standardize
    assert not spec_of("--preset", "quick", "--standardize").data.center
    over = spec_of("--data", train, "--epochs", "7", "--lr", "0.01", "--weight-decay", "0",
                   "--batch-size", "5", "--seed", "3")  # fmt: skip
    assert (over.epochs, over.solver.lr, over.solver.weight_decay) == (7, 0.01, 0.0)
    assert (over.batch_size, over.seed) == (5, 3)
    held = spec_of("--data", train, "--validation-fraction", "0.25")
    assert held.data.validation_fraction == 0.25


def test_bad_validation_fractions_are_one_line(capsys, iris_files):
    train, _ = iris_files
    for bad in ("1", "-0.1", "abc"):
        code, _, err = cli(capsys, "train", "--data", train, "--validation-fraction", bad)
        assert code == 2 and err.count("\n") == 1 and "validation fraction" in err, err


# ---- the validation split --------------------------------------------------------------------
def test_validation_rows_are_a_stratified_share_of_the_training_rows():
    labels = [0] * 50 + [1] * 30 + [2] * 3
    kept, held = validation_rows(labels, 0.2, seed=4)
    assert sorted(kept + held) == list(range(len(labels))) and not set(kept) & set(held)
    counts = [sum(labels[i] == c for i in held) for c in range(3)]
    assert counts == [10, 6, 1]
    assert validation_rows(labels, 0.2, seed=4) == (kept, held)  # seeded
    assert validation_rows(labels, 0.2, seed=5) != (kept, held)
    kept, held = validation_rows([0, 0, 1], 0.1, seed=0)  # none by rounding: one row goes
    assert held in ([0], [1]) and sorted(kept + held) == [0, 1, 2]
    with pytest.raises(SpecError, match="too few to hold any out"):
        validation_rows([0, 1], 0.4, seed=0)  # each class keeps its one row


def write_rows(path: Path, rows: list[list[float]]) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["row_id", "x", "label"])
        out.writerows(rows)
    return path


def csv_spec(train: Path, test: Path | None = None, **stop: object) -> RunSpec:
    data = file_data(DataSpec(), train, test_path=str(test) if test else None,
                     validation_fraction=0.25, standardize=False)  # fmt: skip
    return RunSpec(
        layers=[LayerSpec("linear", 8), LayerSpec("relu"), LayerSpec("linear", "classes")],
        loss="cross-entropy", solver=SolverSpec("adam", lr=0.01), data=data, init="he",
        epochs=40, batch_size=8, stop=StopSpec(**stop),  # type: ignore[arg-type]
    )  # fmt: skip


def separable(ids: range, rng: random.Random) -> list[list[float]]:
    return [[i, x, int(x > 0)] for i in ids for x in [rng.uniform(-1, 1)]]


@pytest.mark.parametrize("with_test_file", [False, True], ids=["split", "test file"])
def test_the_validation_rows_come_from_the_training_rows_only(tmp_path, with_test_file):
    """Every row has its own id: the validation set's ids are training ids, never test ids,
    and together with the rows trained on they are exactly the training rows."""
    rng = random.Random(0)
    train = write_rows(tmp_path / "train.csv", separable(range(0, 120), rng))
    test = write_rows(tmp_path / "test.csv", separable(range(1000, 1060), rng))
    run = Run(csv_spec(train, test if with_test_file else None))
    assert run.validation_data is not None
    sets = {"train": run.train_data, "val": run.validation_data, "test": run.test_data}
    ids = {name: set(d.x[:, 0].round().long().tolist()) for name, d in sets.items()}
    assert ids["val"] and not ids["val"] & ids["test"] and not ids["val"] & ids["train"]
    training_rows = set(range(0, 120)) - (set() if with_test_file else ids["test"])
    assert ids["train"] | ids["val"] == training_rows
    assert len(ids["val"]) == round(0.25 * len(training_rows))


def test_the_stop_conditions_never_read_the_test_set(tmp_path):
    """Patience and restore-best watch the validation loss: with the test file's labels all
    flipped (a test loss that rises as the model learns), the run stops at the same epoch and
    ends with the same weights; only the test numbers differ."""
    rng = random.Random(1)
    train = write_rows(tmp_path / "train.csv", separable(range(200), rng))
    test_rows = separable(range(1000, 1100), rng)
    test = write_rows(tmp_path / "test.csv", test_rows)
    flipped = write_rows(tmp_path / "flipped.csv", [[i, x, 1 - y] for i, x, y in test_rows])
    ends = []
    for file in (test, flipped):
        run = Run(csv_spec(train, file, patience=3, restore_best=True).replace(epochs=300))
        *_, last = run.fit()
        assert last.val_loss is not None and "validation loss" in last.message
        ends.append((last.epoch, run.trainer.restored, [p.clone() for p, _ in run.model.param()]))
    (e1, r1, w1), (e2, r2, w2) = ends
    assert (e1, r1) == (e2, r2) and e1 < 300
    assert all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True))


def test_validation_numbers_reach_the_json_and_the_printed_line(capsys, iris_files):
    train, test = iris_files
    code, out, err = cli(capsys, "train", "--data", train, "--test-data", test, "--epochs", "3",
                         "--validation-fraction", "0.2", "--json", "--no-record")  # fmt: skip
    assert code == 0, err
    record = json.loads(out.splitlines()[-1])
    assert record["val_acc"] is not None and record["val_loss"] is not None
    code, out, _ = cli(capsys, "train", "--data", train, "--epochs", "3", "--no-record")
    assert code == 0 and "val_acc" not in out
    code, out, _ = cli(capsys, "train", "--data", train, "--test-data", test, "--epochs", "3",
                       "--validation-fraction", "0.2", "--no-record")  # fmt: skip
    assert code == 0 and " val " in out
