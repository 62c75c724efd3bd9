"""The command line with your own data: train --data, evaluate --data, predict; k classes,
stop conditions and layer stats; every bad file is exit 2 with one line naming it."""

from __future__ import annotations

import csv
import json
import os

import pytest

from miniframe.cli import main

# Three well-separated classes in 3 features: any small net learns them in a few epochs.
ROWS = [
    (round(c * 3 + (i % 5) * 0.1, 2), round((i * 7 % 10) * 0.1, 2), round(c - (i % 3) * 0.1, 2),
     ["red", "green", "blue"][c])
    for i in range(30) for c in range(3)
]  # fmt: skip


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def bad_input(capsys, *argv) -> str:
    """Exit status 2 and exactly one line on stderr (returned), no traceback."""
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def colours(tmp_path):
    path = tmp_path / "colours.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["width", "height", "depth", "colour"])
        w.writerows(ROWS)
    return path


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


TRAIN = ("--preset", "quick", "--epochs", "30", "--batch-size", "8")


def test_train_on_a_csv_file_then_evaluate_and_predict(capsys, tmp_path, colours):
    model = tmp_path / "m.safetensors"
    code, out, _ = run(capsys, "train", *TRAIN, "--data", colours, "--standardize",
                       "--save", model)  # fmt: skip
    assert code == 0
    assert "Linear 3 → 25" in out and "Linear 25 → 3" in out
    assert "colours.csv (3 features, 3 classes, 72 train / 18 test), standardized" in out
    code, out, _ = run(capsys, "evaluate", model)  # its own test set
    assert code == 0 and "on 18 rows of" in out and "true \\ predicted" in out
    code, out, _ = run(capsys, "evaluate", model, "--data", colours, "--json")
    record = json.loads(out)
    assert record["n"] == 90 and record["classes"] == ["blue", "green", "red"]
    assert sum(map(sum, record["confusion"])) == 90
    assert record["test_acc"] == pytest.approx(
        100 * sum(record["confusion"][i][i] for i in range(3)) / 90
    )
    code, out, err = run(capsys, "predict", model, colours)
    assert code == 0
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["width", "height", "depth", "colour", "predicted", "p_blue", "p_green",
                       "p_red"]  # fmt: skip
    assert len(rows) == 91 and all(r[4] in ("blue", "green", "red") for r in rows[1:])
    assert all(abs(sum(float(p) for p in r[5:]) - 1) < 1e-4 for r in rows[1:])
    assert "accuracy against the file's labels" in err


def test_predict_without_labels_to_a_file(capsys, tmp_path, colours):
    model = tmp_path / "m.safetensors"
    run(capsys, "train", *TRAIN, "--data", colours, "--save", model)
    features = write(tmp_path, "f.csv", "".join(f"{a};{b};{c}\n" for a, b, c, _ in ROWS[:5]))
    out_path = tmp_path / "out.csv"
    code, out, err = run(capsys, "predict", model, features, "-o", out_path)
    assert code == 0 and out == "" and "wrote 5 rows" in err
    rows = list(csv.reader(out_path.read_text().splitlines()))
    assert rows[0][:3] == ["width", "height", "depth"] and rows[0][3] == "predicted"
    assert rows[1][:3] == [str(x) for x in ROWS[0][:3]]


def test_a_relative_data_path_in_a_config_file(capsys, tmp_path, colours, monkeypatch):
    config = write(
        tmp_path,
        "run.toml",
        'loss = "cross-entropy"\nepochs = 2\nbatch_size = 8\n[data]\nname = "csv"\n'
        'path = "colours.csv"\nlabel_column = "colour"\n'
        '[[layers]]\ntype = "linear"\nunits = "classes"\n',
    )
    monkeypatch.chdir(tmp_path.parent)
    code, out, _ = run(capsys, "train", "--config", config)
    assert code == 0 and "Linear 3 → 3" in out


def test_k_class_toy_data_and_mse(capsys):
    code, out, _ = run(capsys, "train", "--preset", "quick", "--dataset", "spirals",
                       "--classes", "4", "--loss", "mse", "--epochs", "2", "--json")  # fmt: skip
    assert code == 0
    assert json.loads(out.splitlines()[-1])["status"] == "finished"


def test_stop_flags_end_the_run_with_the_reason(capsys, colours):
    code, out, _ = run(capsys, "train", *TRAIN, "--epochs", "500", "--data", colours,
                       "--target-acc", "90", "--json")  # fmt: skip
    assert code == 0
    last = json.loads(out.splitlines()[-1])
    assert last["status"] == "finished" and last["epoch"] < 500
    assert last["message"].startswith("reached the target test accuracy")
    # unstandardised, the test loss stalls early (standardised it keeps falling past 1e-4)
    code, out, _ = run(capsys, "train", *TRAIN, "--epochs", "500", "--data", colours,
                       "--patience", "2", "--restore-best", "--no-standardize")  # fmt: skip
    assert code == 0 and "early stop: the test loss has not improved for 2 epochs" in out


def test_layer_stats_in_json(capsys, colours):
    code, out, _ = run(capsys, "train", *TRAIN, "--epochs", "2", "--data", colours, "--json",
                       "--layer-stats")  # fmt: skip
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert all(len(line["layer_stats"]) == 4 for line in lines)
    assert lines[0]["layer_stats"][0]["title"] == "Linear 3 → 25"
    code, out, _ = run(capsys, "train", *TRAIN, "--epochs", "2", "--json")
    assert "layer_stats" not in out
    code, out, _ = run(capsys, "train", *TRAIN, "--epochs", "1", "--layer-stats")
    assert "  Linear 2 → 25: |W| " in out and "dead" in out


def test_label_column_flag(capsys, tmp_path):
    path = write(tmp_path, "first.csv", "".join(
        f"{['a', 'b'][i % 2]},{i % 2 + i * 0.01},{i}\n" for i in range(40)
    ))  # fmt: skip
    code, out, _ = run(capsys, "train", *TRAIN, "--epochs", "1", "--data", path,
                       "--label-column", "1")  # fmt: skip
    assert code == 0 and "2 features, 2 classes" in out


# ---- bad data: exit 2, one line ------------------------------------------------------------------
BAD = {
    "bad-cell": ("a,b,label\n1,2,x\n3,oops,y\n", "bad-cell.csv:3: column 2 (b): 'oops' is not a "
                                                 "number"),
    "text-feature": ("name,b,label\nfoo,2,x\nbar,4,y\n", ":2: column 1 (name): 'foo' is not a "
                                                         "number"),
    "one-class": ("a,b,label\n1,2,x\n3,4,x\n", "only one class, 'x': a classifier needs at "
                                               "least 2"),
    "empty": ("", "empty.csv: the file is empty"),
    "header-only": ("a,b,label\n", "header-only.csv: no data rows"),
    "too-few": ("a,b,label\n1,2,x\n3,4,y\n5,6,y\n", "class 'x' has 1 row: too few rows for the "
                                                    "split"),
    "nan": ("a,b,label\n1,2,x\n3,nan,y\n", ":3: column 2 (b): 'nan' is not a finite number"),
    "inf": ("a,b,label\n1,2,x\n3,-inf,y\n", ":3: column 2 (b): '-inf' is not a finite number"),
    "ragged": ("a,b,label\n1,2,x\n3,4\n", ":3: 2 columns, but the header has 3"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD))
def test_bad_training_data(capsys, tmp_path, name):
    text, message = BAD[name]
    path = write(tmp_path, f"{name}.csv", text)
    line = bad_input(capsys, "train", *TRAIN, "--batch-size", "1", "--data", path)
    assert line.startswith("miniframe train: error: ") and message in line


def test_a_class_missing_from_the_test_file(capsys, tmp_path):
    train = write(tmp_path, "train.csv", "a,label\n1,x\n2,y\n")
    test = write(tmp_path, "test.csv", "a,label\n1,x\n")
    line = bad_input(capsys, "train", *TRAIN, "--batch-size", "1", "--data", train,
                     "--test-data", test)  # fmt: skip
    assert "test.csv: class 'y' of the training data has no row in the test file" in line


def test_a_file_beyond_the_size_limit(capsys, tmp_path):
    from miniframe.engine import LIMITS

    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.truncate(LIMITS.max_csv_bytes + 1)
    line = bad_input(capsys, "train", "--data", path)
    assert (
        f"67,108,865 bytes is too large for a CSV data file (limit {LIMITS.max_csv_bytes:,})"
        in (line)
    )


def test_special_and_missing_files(capsys, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "is a FIFO (named pipe), not a CSV data file" in bad_input(
        capsys, "train", "--data", fifo
    )
    assert "no such file" in bad_input(capsys, "train", "--data", tmp_path / "none.csv")
    assert "empty data file name" in bad_input(capsys, "train", "--data", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--dataset", "disk", "--data", "x.csv"), "--data reads a CSV file; it cannot go with"),
        (("--test-data", "x.csv"), "--test-data goes with CSV data: give --data FILE.csv"),
        (("--label-column", "2"), "--label-column goes with CSV data"),
        (("--label-column", "0"), "columns count from 1"),
        (("--classes", "9"), "classes must be ≤ 8"),
        (("--classes", "3"), "--classes 3: the disk dataset has 2 classes"),
        (("--target-acc", "0"), "target test accuracy must be a positive number"),
        (("--patience", "0"), "patience must be ≥ 1"),
        (("--test-fraction", "1"), "test fraction must be in (0, 1)"),
    ],
)
def test_bad_data_flags(capsys, argv, message):
    assert message in bad_input(capsys, "train", *argv)


def test_a_file_that_does_not_fit_the_model(capsys, tmp_path, colours):
    model = tmp_path / "m.safetensors"
    run(capsys, "train", *TRAIN, "--epochs", "1", "--data", colours, "--save", model)
    wide = write(tmp_path, "wide.csv", "1,2,3,4,5\n")
    narrow = write(tmp_path, "narrow.csv", "1,2,3\n")
    unknown = write(tmp_path, "unknown.csv", "1,2,3,purple\n")
    line = bad_input(capsys, "predict", model, wide)
    assert "wide.csv: 5 columns, but the model was trained on 3 features: give 3 features and " in (
        line
    )
    line = bad_input(capsys, "evaluate", model, "--data", narrow)
    assert "narrow.csv: 3 columns: the model's 3 features, but no column for the labels" in line
    line = bad_input(capsys, "evaluate", model, "--data", unknown)
    assert "unknown.csv:1: column 4: the label 'purple' is not one of the model's classes" in line
    line = bad_input(capsys, "evaluate", model, "--dataset", "disk")
    assert "this model was trained on a CSV file: give --data FILE.csv" in line


def test_predict_checks_the_output_before_the_work(capsys, tmp_path, colours):
    model = tmp_path / "m.safetensors"
    run(capsys, "train", *TRAIN, "--epochs", "1", "--data", colours, "--save", model)
    line = bad_input(capsys, "predict", model, colours, "-o", tmp_path / "nope" / "out.csv")
    assert "does not exist" in line


def test_evaluate_of_a_csv_model_whose_file_is_gone(capsys, tmp_path, colours):
    model = tmp_path / "m.safetensors"
    run(capsys, "train", *TRAIN, "--epochs", "1", "--data", colours, "--save", model)
    colours.unlink()
    assert "colours.csv: no such file" in bad_input(capsys, "evaluate", model)
    code, _, _ = run(capsys, "predict", model, write(tmp_path, "f.csv", "1,2,3\n"))
    assert code == 0  # predict needs only the checkpoint
