"""CSV files all the way: any line up to the file-size limit, values read and standardised in
float64 and cast to the model's float32 afterwards (checked: a value float32 cannot hold is
named by file, line and column; a feature whose spread vanishes in it, by column), and no
valid row refused because a sum of its values overflowed."""

from __future__ import annotations

import math

import pytest
import torch
from cli_helpers import bad_input, run

from miniframe.engine import CSVError, DataSpec, InputTransform, RunSpec, read_table
from miniframe.engine.data import model_inputs, table_dataset

T = ("train", "--preset", "quick", "--epochs", "1", "--no-record", "--batch-size", "4")


# ---- long lines -----------------------------------------------------------------------------
def test_a_wide_file_with_long_cells_is_read(tmp_path):
    """4,000 features of 35 characters: 140 KB lines, more than the csv module's default field
    limit while the delimiter is being chosen (the whole line is one field for ';')."""
    d = 4000
    cell = "0.12345678901234567890123456789012"
    rows = [",".join([cell] * d + [str(i % 2)]) for i in range(6)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(rows) + "\n")
    table = read_table(path)
    assert table.n_features == d and table.n_rows == 6 and table.classes == ("0", "1")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('x,y,c\n1,"' + "7" * 200_000 + '",0\n2,3,1\n', r"big\.csv:2: column 2 \(y\): '7777"),
        ("x,y,c\n1,2," + "a" * 300_000 + "\n2,3,b\n2,4,b\n", r"class 'aaaa.*has 1 row"),
        ("x;y;c\n1;" + "9" * 150_000 + "e-149990;0\n", r"no data rows|has 1 row|big\.csv"),
    ],
    ids=["200-KiB-number", "300-KiB-label", "150-KiB-exponent"],
)
def test_a_huge_field_is_read_or_refused_in_one_line(capsys, tmp_path, content, match):
    path = tmp_path / "big.csv"
    path.write_text(content)
    line = bad_input(capsys, *T, "--data", path)
    assert len(line) < 500, line  # the cell is quoted, cut short
    import re

    assert re.search(match, line), line


# ---- float64 all the way -----------------------------------------------------------------------
def timestamps(path, n=200, start=1.7e9):
    """One feature, a time near 1.7e9 s: class 0 in the first 5 s, class 1 20 s later. In
    float32, whose steps there are 128 s, the two classes are one value."""
    rows = [f"{start + 20 * (i % 2) + i % 5:.1f},{i % 2}" for i in range(n)]
    path.write_text("t,c\n" + "\n".join(rows) + "\n")
    return path


def test_timestamps_standardised_in_float64_are_learnable(capsys, tmp_path):
    path = timestamps(tmp_path / "t.csv")
    spec = RunSpec.from_dict(
        {
            "layers": [{"kind": "linear", "units": 1}, {"kind": "linear", "units": "classes"}],
            "data": {"name": "csv", "path": str(path), "standardize": True},
        }
    )
    from miniframe.engine import Run

    trained = Run(spec)
    x = trained.train_data.x
    assert x.dtype == torch.float32
    assert len(torch.unique(x)) == 10  # 5 readings per class, each still its own value
    raw = trained.preview().train.x
    assert raw.dtype == torch.float64
    # the model's inputs are the float64 standardisation, rounded once
    mean = torch.tensor(trained.transform.mean, dtype=torch.float64)
    std = torch.tensor(trained.transform.std, dtype=torch.float64)
    assert torch.equal(x, ((raw - mean) / std).float())
    code, out, err = run(capsys, "train", "--preset", "quick", "--epochs", "30", "--no-record",
                             "--data", path, "--standardize", "--json")  # fmt: skip
    assert code == 0, err
    import json

    assert json.loads(out.splitlines()[-1])["test_acc"] == 100.0


def test_timestamps_without_standardising_are_refused_by_column(capsys, tmp_path):
    path = timestamps(tmp_path / "t.csv")
    line = bad_input(capsys, *T, "--data", path, "--no-standardize")  # (files default to it)
    assert f"{path}: column 1 (t): its values vary by" in line
    assert "float32 holds only in steps of 128" in line and "--standardize" in line


@pytest.mark.parametrize(
    ("cell", "standardize", "match"),
    [
        ("1e300", False, r"d\.csv:4: column 2 \(b\): 1e\+300 is beyond float32's range"),
        ("-4e38", False, r"d\.csv:4: column 2 \(b\): -4e\+38 is beyond float32's range"),
        ("1e300", True, r"d\.csv: column 2 \(b\): its (mean|std) .* beyond float32's range"),
    ],
)
def test_a_value_beyond_float32_is_named(capsys, tmp_path, cell, standardize, match):
    rows = ["a,b,c"] + [f"{i},{i % 3},{i % 2}" for i in range(40)]
    rows[3] = f"2,{cell},0"
    path = tmp_path / "d.csv"
    path.write_text("\n".join(rows) + "\n")
    extra = ("--standardize",) if standardize else ("--no-standardize",)
    import re

    line = bad_input(capsys, *T, "--data", path, *extra)
    assert re.search(match, line), line
    assert "diverged" not in line and "learning rate" not in line


def test_a_spread_that_vanishes_in_float32_is_named(capsys, tmp_path):
    rows = [f"{1 + i * 1e-12!r},{i % 2}" for i in range(20)]
    path = tmp_path / "tiny.csv"
    path.write_text("x,c\n" + "\n".join(rows) + "\n")
    line = bad_input(capsys, *T, "--data", path, "--no-standardize")
    assert "column 1 (x): its values vary by" in line
    # standardised in float64, the same feature is fine
    code, _, err = run(capsys, *T, "--data", path, "--standardize")
    assert code == 0, err
    # a spread of 1e-300 is still > 0 in float64, but a float32 model cannot divide by it
    rows = [f"{i * 1e-300!r},{i % 2}" for i in range(20)]
    path.write_text("x,c\n" + "\n".join(rows) + "\n")
    line = bad_input(capsys, *T, "--data", path, "--standardize")
    assert "column 1 (x): its std" in line and "not > 0 in float32" in line


def test_predict_names_a_value_beyond_float32_in_new_rows(capsys, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b,c\n" + "".join(f"{i % 5},{i % 3},{i % 2}\n" for i in range(30)))
    model = tmp_path / "m.safetensors"
    code, _, err = run(capsys, *T, "--data", data, "--save", model, "--no-standardize")
    assert code == 0, err
    new = tmp_path / "new.csv"
    new.write_text("a,b\n1,2\n3,5e39\n")
    line = bad_input(capsys, "predict", model, new)
    assert f"{new}:3: column 2 (b): 5e+39 is beyond float32's range" in line
    line = bad_input(capsys, "evaluate", model, "--data", data.with_name("e.csv"))
    assert "no such file" in line


def test_a_row_whose_sum_overflows_is_read(tmp_path):
    """1e308 + 1e308 overflows float64, each value does not: the row is valid data."""
    path = tmp_path / "big.csv"
    path.write_text("a,b,c\n1e308,1e308,0\n-1.7e308,1.7e308,1\n1,2,0\n")
    table = read_table(path)
    assert list(table.features) == [1e308, 1e308, -1.7e308, 1.7e308, 1.0, 2.0]
    # …and then what the model cannot take is named by its place, never "not finite"
    data = table_dataset(table)
    with pytest.raises(CSVError, match=r"big\.csv:2: column 1 \(a\): 1e\+308 is beyond float32"):
        model_inputs(data.x, InputTransform(), data.origin)
    path.write_text("a,b,c\n1e308,inf,0\n")
    with pytest.raises(CSVError, match=r"big\.csv:2: column 2 \(b\): 'inf' is not a finite"):
        read_table(path)


def test_standardising_never_overflows():
    x = torch.tensor([[1e308, -3.0], [1.5e308, 5.0], [1.7e308, 4.0]], dtype=torch.float64)
    with pytest.raises(CSVError, match=r"feature 1: its mean 1\.4e\+308 is beyond float32's"):
        InputTransform.standardize_from(x)
    t = InputTransform.standardize_from(x[:, 1:])
    assert t.mean == (2.0,) and math.isclose(t.std[0], math.sqrt(38 / 3))


def test_csv_data_spec_keeps_float64_until_the_model(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,c\n0.1,0\n0.2,1\n0.30000000000000004,0\n0.4,1\n")
    from miniframe.engine import build_raw_data

    spec = RunSpec.from_dict(
        {"layers": [{"kind": "linear", "units": "classes"}],
         "batch_size": 1, "data": {"name": "csv", "path": str(path), "test_fraction": 0.5}}
    )  # fmt: skip
    train, test = build_raw_data(spec)
    assert train.x.dtype == torch.float64 and 0.30000000000000004 in torch.cat((train.x, test.x))
    assert DataSpec  # the spec type the files are described with
