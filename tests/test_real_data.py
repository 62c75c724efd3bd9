"""Real data through the command line: scikit-learn's bundled iris (4 features, 3 classes) and
breast-cancer (30 features, 2 classes) files, written out as plain CSV.

The bundled files start with an unusual line, ``n_samples,n_features,class names…``, and give
the class as its index: the conversion here turns them into a header of feature names and
named labels, as a user's file would have (the loader is not special-cased for them).
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest

from miniframe.cli import main

sklearn = pytest.importorskip("sklearn")  # the `test` extra installs it
BUNDLED = Path(sklearn.__file__).parent / "datasets" / "data"
IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def convert(source: str, target: Path, features: list[str], label: str) -> Path:
    """A bundled file as plain CSV: a header, then the features and the class's name."""
    with (BUNDLED / source).open(newline="") as f:
        rows = list(csv.reader(f))
    n_samples, n_features, *classes = rows[0]
    assert len(rows) - 1 == int(n_samples) and int(n_features) == len(features)
    with target.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow([*features, label])
        out.writerows([*row[:-1], classes[int(row[-1])]] for row in rows[1:])
    return target


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("real")


@pytest.fixture(scope="module")
def iris(folder) -> Path:
    return convert("iris.csv", folder / "iris.csv", IRIS_FEATURES, "species")


@pytest.fixture(scope="module")
def cancer(folder) -> Path:
    names = [f"feature_{i + 1}" for i in range(30)]
    return convert("breast_cancer.csv", folder / "breast_cancer.csv", names, "diagnosis")


def cli(capsys, *argv) -> tuple[str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_iris_with_the_quick_preset(capsys, iris, folder):
    """`miniframe train --preset quick --data iris.csv` just works: ≥ 93 % test accuracy."""
    model = folder / "iris.safetensors"
    out, _ = cli(capsys, "train", "--preset", "quick", "--data", iris, "--json", "--save", model)
    final = last_json(out)
    assert final["status"] == "finished" and final["epoch"] == 200
    assert final["test_acc"] >= 93.0, final
    # the saved model scores what the trained one did on the same 30 test rows
    out, _ = cli(capsys, "evaluate", model, "--json")
    evaluated = json.loads(out)
    assert evaluated["n"] == 30 and evaluated["test_acc"] == pytest.approx(final["test_acc"])
    assert evaluated["classes"] == ["setosa", "versicolor", "virginica"]


def test_iris_train_save_predict_round_trips(capsys, iris, folder):
    """predict's classes are the saved model's: they agree with evaluate's confusion matrix
    on the whole file, row by row with the model read back in-process."""
    import torch

    from miniframe.engine import class_probabilities, read_checkpoint, read_for_model

    model = folder / "iris-rt.safetensors"
    cli(capsys, "train", "--preset", "quick", "--data", iris, "--epochs", "100", "--save", model)
    predictions = folder / "predictions.csv"
    _, err = cli(capsys, "predict", model, iris, "-o", predictions)
    rows = list(csv.DictReader(predictions.open()))
    assert len(rows) == 150 and list(rows[0])[-4:] == [
        "predicted", "p_setosa", "p_versicolor", "p_virginica",
    ]  # fmt: skip
    out, _ = cli(capsys, "evaluate", model, "--data", iris, "--json")
    confusion = json.loads(out)["confusion"]
    classes = ["setosa", "versicolor", "virginica"]
    counts = [[0] * 3 for _ in classes]
    for r in rows:
        counts[classes.index(r["species"])][classes.index(r["predicted"])] += 1
    assert counts == confusion
    net, info = read_checkpoint(model)
    table = read_for_model(iris, info.shape, labels_required=True)
    x = torch.tensor(table.features).view(150, 4).float()
    mine = class_probabilities(net, info.transform, x).argmax(dim=1).tolist()
    assert [classes[c] for c in mine] == [r["predicted"] for r in rows]
    correct = sum(counts[i][i] for i in range(3))
    assert f"({correct}/150)" in err


LOGISTIC = """\
name = "breast-cancer-logistic"
loss = "cross-entropy"
init = "xavier"
epochs = 100
batch_size = 32

[solver]
name = "adam"
lr = 1e-2

[data]
name = "csv"
path = "breast_cancer.csv"   # relative to this file
standardize = true

[[layers]]
type = "linear"
units = "classes"
"""


def test_breast_cancer_standardized(capsys, cancer, folder):
    """30 standardised features, 2 classes: ≥ 95 % test accuracy, the mean over three seeds
    (each its own stratified split: 113 test rows, one error is 0.9 %)."""
    config = folder / "cancer.toml"
    config.write_text(LOGISTIC, encoding="utf-8")
    accuracies = []
    for seed in (0, 1, 2):
        out, _ = cli(capsys, "train", "--config", config, "--seed", seed, "--json")
        final = last_json(out)
        assert final["status"] == "finished"
        accuracies.append(final["test_acc"])
    assert statistics.mean(accuracies) >= 95.0, accuracies
    assert min(accuracies) >= 93.0, accuracies
