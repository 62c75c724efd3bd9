"""CSV data files (engine/table.py): the format, the classes, the split, and every bad file
named by file, line and column."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading

import pytest

from miniframe.engine import (
    LIMITS,
    CSVError,
    DataSpec,
    LayerSpec,
    RunSpec,
    SpecError,
    clear_cache,
    csv_split,
    data_seed,
    label_column_chooser,
    read_table,
)
from miniframe.engine import table as table_mod


def split(spec):
    """The csv spec's rows: its data table split with its data seed."""
    return csv_split(spec.data, data_seed(spec))


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_spec(path, **data) -> RunSpec:
    """A small net on the CSV file ``path`` (``units = "classes"``: any number of classes)."""
    return RunSpec(
        layers=[LayerSpec("linear", 8), LayerSpec("relu"), LayerSpec("linear", "classes")],
        loss="cross-entropy",
        data=DataSpec(name="csv", path=str(path), **data),
        batch_size=1,
    )


IRISH = "a,b,c,species\n" + "".join(
    f"{i},{i % 3}.5,{-i}e-1,{name}\n"
    for i, name in enumerate(["setosa", "versicolor", "virginica"] * 4)
)


# ---- the format ---------------------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(tmp_path, delimiter):
    text = IRISH.replace(",", delimiter)
    table = read_table(write(tmp_path, text))
    assert table.delimiter == delimiter
    assert table.header == ("a", "b", "c", "species")
    assert table.n_rows == 12 and table.n_features == 3
    assert table.features[:3].tolist() == [0.0, 0.5, -0.0]


def test_header_is_a_row_without_numbers(tmp_path):
    table = read_table(write(tmp_path, "1,2,x\n3,4,y\n"))
    assert table.header is None and table.n_rows == 2
    assert table.columns == ("column 1", "column 2", "column 3")
    named = read_table(write(tmp_path, "x1,x2,label\n1,2,x\n"))
    assert named.header == ("x1", "x2", "label") and named.n_rows == 1


def test_comments_blank_lines_quotes_bom_and_crlf(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(
        b'\xef\xbb\xbf"x","y","label"\r\n# a comment\r\n\r\n1,2,"a, b"\r\n 3 , 4 ,c\r\n'
    )
    table = read_table(path)
    assert table.header == ("x", "y", "label")
    assert table.labels == ["a, b", "c"] and table.features.tolist() == [1, 2, 3, 4]
    assert table.lines.tolist() == [4, 5]  # lines of the file, comments and blanks counted


@pytest.mark.parametrize(
    ("label_column", "features", "label"),
    [(None, ("a", "b", "c"), "species"), (-1, ("a", "b", "c"), "species"),
     ("species", ("a", "b", "c"), "species"), (1, ("b", "c", "species"), "a"),
     ("b", ("a", "c", "species"), "b"), (-4, ("b", "c", "species"), "a")],
)  # fmt: skip
def test_label_column_by_name_or_1_based_position(tmp_path, label_column, features, label):
    path = write(tmp_path, IRISH.replace("setosa", "1").replace("versicolor", "2")
                                .replace("virginica", "3"))  # fmt: skip
    table = read_table(path, label_column_chooser(label_column, path))
    assert table.feature_names == features and table.label_name == label


def test_string_classes_are_sorted_as_text(tmp_path):
    table = read_table(write(tmp_path, "x,label\n1,b\n2,a\n3,B\n4,a\n"))
    assert table.classes == ("B", "a", "b")  # code-point order
    assert table.y.tolist() == [2, 1, 0, 1]


def test_integer_classes_are_sorted_numerically(tmp_path):
    table = read_table(write(tmp_path, "x,label\n1,10\n2,9\n3,-1\n4,09\n"))
    assert table.classes == ("-1", "9", "10")  # numerically; "09" is class 9
    assert table.y.tolist() == [2, 1, 0, 1]


def test_mixed_labels_are_text(tmp_path):
    table = read_table(write(tmp_path, "x,label\n1,10\n2,9\n3,cat\n"))
    assert table.classes == ("10", "9", "cat")


def test_a_table_is_read_once_while_unchanged(tmp_path):
    clear_cache()
    path = write(tmp_path, IRISH)
    spec = csv_spec(path)
    first = split(spec)
    assert split(spec) is first
    path.write_text(IRISH + "9,9,9,virginica\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's grain
    again = split(spec)
    assert again is not first and again.train.n_rows == 13


# ---- the split ----------------------------------------------------------------------------------
def test_split_is_stratified_and_seeded(tmp_path):
    rows = "".join(f"{i},{i * 2},{'abc'[i % 3] if i < 90 else 'a'}\n" for i in range(100))
    path = write(tmp_path, "x,y,label\n" + rows)
    data = split(csv_spec(path, test_fraction=0.2))
    counts = {c: 0 for c in range(3)}
    for i in data.test_rows:
        counts[data.train.y[i]] += 1
    assert counts == {0: 8, 1: 6, 2: 6}  # round(0.2 · n_c) of each class: 40, 30, 30 rows
    assert sorted(data.train_rows + data.test_rows) == list(range(100))
    assert data.shape.n_train == 80 and data.shape.n_test == 20
    same = split(csv_spec(path, test_fraction=0.2))
    other = split(csv_spec(path, test_fraction=0.2, seed=1))
    assert same.test_rows == data.test_rows and other.test_rows != data.test_rows


def test_every_class_is_on_both_sides_of_a_split(tmp_path):
    path = write(tmp_path, "x,label\n1,a\n2,a\n3,b\n4,b\n5,b\n6,b\n7,b\n8,b\n9,b\n")
    data = split(csv_spec(path, test_fraction=0.01))
    assert {data.train.y[i] for i in data.test_rows} == {0, 1}
    assert {data.train.y[i] for i in data.train_rows} == {0, 1}


def test_a_test_file_gives_the_test_set(tmp_path):
    train = write(tmp_path, IRISH, "train.csv")
    test = write(tmp_path, "a,b,c,species\n1,1,1,virginica\n2,2,2,setosa\n3,3,3,versicolor\n",
                 "test.csv")  # fmt: skip
    data = split(csv_spec(train, test_path=str(test)))
    assert data.shape.n_train == 12 and data.shape.n_test == 3
    assert data.test_y.tolist() == [2, 0, 1]


def test_the_shape_comes_from_the_file(tmp_path):
    spec = csv_spec(write(tmp_path, IRISH))
    shape = spec.shape()
    assert (shape.n_inputs, shape.n_classes) == (3, 3)
    assert shape.class_names == ("setosa", "versicolor", "virginica")
    assert shape.feature_names == ("a", "b", "c") and shape.label_name == "species"
    assert spec.layer_widths() == [(3, 8), (8, 8), (8, 3)]


def test_a_relative_path_in_a_spec_file_is_relative_to_it(tmp_path, monkeypatch):
    folder = tmp_path / "specs"
    folder.mkdir()
    write(folder, IRISH, "iris.csv")
    (folder / "run.toml").write_text(
        'loss = "cross-entropy"\nbatch_size = 1\n[data]\nname = "csv"\npath = "iris.csv"\n'
        '[[layers]]\ntype = "linear"\nunits = "classes"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # not the spec's folder
    spec = RunSpec.load(folder / "run.toml")
    assert spec.data.path == str(folder / "iris.csv")
    assert spec.n_classes == 3


# ---- bad data: named by file, line and column ---------------------------------------------------
@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b,label\n1,2,x\n3,oops,y\n", r"data.csv:3: column 2 \(b\): 'oops' is not a number"),
        ("name,b,label\nfoo,2,x\nbar,4,y\n", r":2: column 1 \(name\): 'foo' is not a number "
                                             r"\(the labels are column 3"),
        ("a,b,label\n1,2,x\n3,nan,y\n", r":3: column 2 \(b\): 'nan' is not a finite number"),
        ("a,b,label\n1,2,x\n-inf,4,y\n", r":3: column 1 \(a\): '-inf' is not a finite number"),
        ("a,b,label\n1,2,x\n3,,y\n", r":3: column 2 \(b\): empty"),
        ("1,2,x\n3,1_0,y\n", r":2: column 2: '1_0' is not a number"),
        ("1,2,x\n3,\u0664,y\n", r":2: column 2: '\u0664' is not a number"),
        ("a,b,label\n1,2,x\n3,4\n", r":3: 2 columns, but the header has 3"),
        ("1,2,x\n3,4,y,5\n", r":2: 4 columns, but the first row has 3"),
        ("a,b,label\n1,2,x\n3,4, \n", r":3: column 3 \(label\): the label is empty"),
        ("a,b,label\n1,2,x\n3,4,x\n", r"only one class, 'x': a classifier needs at least 2"),
        ("", r"data.csv: the file is empty"),
        ("\n# nothing\n", r"data.csv: the file is empty"),
        ("a,b,label\n", r"data.csv: no data rows"),
        ("a,b,label\n1,2,x\n3,4,y\n5,6,y\n", r"class 'x' has 1 row: too few rows for the split"),
        ("label\nx\ny\n", r"at least one feature column"),
        ('a,b,label\n1,2,"x\n', r"data.csv:\d+: not valid CSV"),
    ],
    ids=["non-number", "text-feature", "nan", "inf", "empty-cell", "underscore", "arabic-digit",
         "short-row", "long-row", "empty-label", "one-class", "empty-file", "only-comments",
         "header-only", "too-few-rows", "no-features", "bad-quote"],
)  # fmt: skip
def test_bad_files_are_named_by_file_line_and_column(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(CSVError, match=match) as info:
        csv_spec(path).validate()
    assert str(path) in str(info.value)
    assert isinstance(info.value, SpecError)  # whoever reports spec errors reports these


def test_a_class_missing_from_the_test_file(tmp_path):
    train = write(tmp_path, "a,label\n1,x\n2,y\n3,z\n", "train.csv")
    test = write(tmp_path, "a,label\n1,x\n2,x\n3,z\n", "test.csv")
    with pytest.raises(CSVError, match=r"test.csv: class 'y' of the training data has no row"):
        csv_spec(train, test_path=str(test)).validate()


def test_a_test_label_the_training_data_lack(tmp_path):
    train = write(tmp_path, "a,label\n1,x\n2,y\n", "train.csv")
    test = write(tmp_path, "a,label\n1,x\n2,y\n3,w\n", "test.csv")
    with pytest.raises(CSVError, match=r"test.csv:4: column 2 \(label\): the label 'w' is not "
                                       r"one of the training data's classes"):  # fmt: skip
        csv_spec(train, test_path=str(test)).validate()


def test_a_test_file_of_another_width(tmp_path):
    train = write(tmp_path, "a,b,label\n1,2,x\n2,3,y\n", "train.csv")
    test = write(tmp_path, "a,label\n1,x\n2,y\n", "test.csv")
    with pytest.raises(CSVError, match=r"test.csv: 2 columns .* the training data have 3"):
        csv_spec(train, test_path=str(test)).validate()


def test_too_many_classes_suggest_the_wrong_column(tmp_path):
    rows = "".join(f"{i},{i}\n" for i in range(LIMITS.max_classes + 1))  # row ids as labels
    with pytest.raises(CSVError, match=r"257 distinct values; the limit is 256 classes \(is it "
                                       r"the label column\?"):  # fmt: skip
        csv_spec(write(tmp_path, rows)).validate()


@pytest.mark.parametrize(
    "labels",
    [
        [f"{(i - 150) / 7919:.4f}" for i in range(300)],  # too many classes
        ["-0.0171", "0.25", "0.25", "1.5", "1.5"],  # a class of one row
        ["3.5", "3.5", "2e-3"],  # an exponent
    ],
    ids=["too-many", "one-row", "exponent"],
)
def test_a_numeric_label_column_says_so_and_how_to_choose_another(tmp_path, labels):
    rows = "".join(f"{i},{i % 3},{label}\n" for i, label in enumerate(labels))
    with pytest.raises(CSVError) as e:
        csv_spec(write(tmp_path, "a,b,y\n" + rows)).validate()
    message = str(e.value)
    assert "the label column (column 3 (y)) holds numbers such as" in message
    assert "look like a measured value, not a class" in message and "--label-column" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("label_column", "match"),
    [("nope", r"no column is named 'nope'; the header has 'a', 'b'"),
     (5, r"label_column 5 is not a column of a file with 3 columns"),
     (-4, r"label_column -4 is not a column")],
)  # fmt: skip
def test_a_label_column_that_is_not_there(tmp_path, label_column, match):
    with pytest.raises(CSVError, match=match):
        csv_spec(write(tmp_path, "a,b,label\n1,2,x\n3,4,y\n"), label_column=label_column).validate()


def test_a_name_needs_a_header(tmp_path):
    with pytest.raises(CSVError, match="no header row: give the column's position"):
        csv_spec(write(tmp_path, "1,2,x\n3,4,y\n"), label_column="label").validate()


def test_a_file_beyond_the_size_limit_is_refused_with_it(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as f:  # sparse: the size is what is checked, before any read
        f.truncate(LIMITS.max_csv_bytes + 1)
    with pytest.raises(CSVError, match=f"too large for a CSV data file \\(limit "
                                       f"{LIMITS.max_csv_bytes:,}\\)"):  # fmt: skip
        csv_spec(path).validate()


def test_special_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    result: list[BaseException] = []
    reader = threading.Thread(target=lambda: _capture(result, csv_spec(fifo).validate))
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert isinstance(result[0], CSVError) and "FIFO" in str(result[0])
    with pytest.raises(CSVError, match="is a folder"):
        csv_spec(tmp_path).validate()
    with pytest.raises(CSVError, match="no such file"):
        csv_spec(tmp_path / "missing.csv").validate()


def _capture(result: list[BaseException], call) -> None:
    try:
        call()
    except BaseException as e:  # handed to the test
        result.append(e)


def test_binary_files_are_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CSVError, match="not a UTF-8 text file"):
        csv_spec(path).validate()
    path.write_bytes(b"a,b\x00,c\n")
    with pytest.raises(CSVError, match="NUL"):
        csv_spec(path).validate()


def test_a_long_cell_is_quoted_short(tmp_path):
    path = write(tmp_path, "a,label\n1,x\n" + "9" * 10 + "x" * 100_000 + ",y\n")
    with pytest.raises(CSVError) as info:
        csv_spec(path).validate()
    assert len(str(info.value)) < len(str(path)) + 300 and "100,010 characters" in str(info.value)


# ---- spec fields --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "match"),
    [({"name": "csv"}, "data.path: a csv dataset needs the path"),
     ({"name": "disk", "path": "x.csv"}, "data.path: only the csv dataset reads a file"),
     ({"name": "disk", "label_column": 2}, "data.label_column: only the csv dataset"),
     ({"name": "csv", "path": "x.csv", "center": True}, "data.center: centring maps the unit"),
     ({"name": "disk", "center": True, "standardize": True}, "choose center or standardize"),
     ({"name": "csv", "path": "x.csv", "label_column": 0}, "a column number counts from 1"),
     ({"name": "csv", "path": "x.csv", "label_column": True}, "a column name or a 1-based"),
     ({"name": "csv", "path": "x.csv", "test_fraction": 1.0}, r"test fraction must be in \(0, 1\)"),
     ({"name": "csv", "path": ""}, "data.path: must be the path of a CSV file"),
     ({"name": "disk", "classes": 3}, "data.classes: the disk dataset has 2 classes"),
     ({"name": "blobs", "classes": 9}, r"data.classes: classes must be ≤ 8")],
)  # fmt: skip
def test_data_fields_are_checked(data, match):
    raw = {"layers": [{"type": "linear", "units": "classes"}], "batch_size": 1, "data": data}
    with pytest.raises(SpecError, match=match):
        RunSpec.from_dict(raw)


def test_data_fields_round_trip(tmp_path):
    path = write(tmp_path, IRISH)
    spec = csv_spec(path, label_column="species", standardize=True, test_fraction=0.25, seed=7)
    spec.validate()
    assert RunSpec.from_toml(spec.to_toml()) == spec
    assert RunSpec.from_json(spec.to_json()) == spec
    assert "seed = 7" in spec.to_toml()
    unset = dataclasses.replace(spec.data, seed=None, label_column=None)
    assert "label_column" not in spec.replace(data=unset).to_toml()


def test_table_reading_imports_no_torch(tmp_path):
    path = write(tmp_path, IRISH)
    code = (
        "import sys\n"
        "from miniframe.engine import DataSpec, LayerSpec, RunSpec\n"
        f"spec = RunSpec(layers=[LayerSpec('linear', 'classes')], batch_size=1, loss='mse',"
        f" data=DataSpec(name='csv', path={str(path)!r}))\n"
        "spec.validate(); print(spec.shape().n_classes)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"
    assert table_mod.LIMITS is LIMITS
