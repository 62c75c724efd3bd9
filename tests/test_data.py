"""Datasets (the disk task and the other toy problems) and the CSV loader."""

import math

import pytest
import torch

from miniframe.engine import GENERATED_DATASETS, CSVError, Dataset, load_csv, make_dataset
from miniframe.engine.data import DISK_CENTER, DISK_RADIUS, centre_inputs


def test_disk_radius_gives_half_the_square():
    assert math.isclose(math.pi * DISK_RADIUS**2, 0.5, rel_tol=1e-12)
    assert DISK_CENTER == (0.5, 0.5)
    assert DISK_RADIUS < 0.5  # the disk lies inside the unit square, so the area is exact


def test_disk_inside_fraction_is_one_half():
    """P(inside) = π r² = 1/2; on n points the fraction is within 5 binomial σ of it."""
    n = 200_000
    data = make_dataset("disk", n, seed=123)
    frac = data.y.double().mean().item()
    assert abs(frac - 0.5) < 5 * math.sqrt(0.25 / n)


def test_disk_labels_follow_the_geometric_rule():
    data = make_dataset("disk", 20_000, seed=1)
    x = data.x.double()
    d2 = (x[:, 0] - 0.5) ** 2 + (x[:, 1] - 0.5) ** 2
    r2 = DISK_RADIUS**2
    clear = (d2 - r2).abs() > 1e-6  # float32 rounding may flip points on the circle itself
    assert clear.float().mean() > 0.999
    expected = (d2 < r2).long()
    assert torch.equal(data.y[clear], expected[clear])
    assert ((x >= 0) & (x <= 1)).all()


def test_xor_labels_follow_the_quadrant_rule():
    data = make_dataset("xor", 5000, seed=2)
    x = data.x
    expected = ((x[:, 0] > 0.5) == (x[:, 1] > 0.5)).long()
    assert torch.equal(data.y, expected)
    assert abs(data.y.double().mean().item() - 0.5) < 5 * math.sqrt(0.25 / 5000)


@pytest.mark.parametrize("name", list(GENERATED_DATASETS))
@pytest.mark.parametrize("n", [1, 2, 7, 500])
def test_shapes_and_dtypes(name, n):
    data = make_dataset(name, n, noise=0.05, seed=3)
    assert isinstance(data, Dataset)
    assert data.x.shape == (n, 2) and data.x.dtype == torch.float32
    assert data.y.shape == (n,) and data.y.dtype == torch.int64
    assert len(data) == n
    assert set(data.y.tolist()) <= {0, 1}
    assert torch.isfinite(data.x).all()


@pytest.mark.parametrize("name", list(GENERATED_DATASETS))
def test_both_classes_present_and_roughly_balanced(name):
    data = make_dataset(name, 2000, seed=4)
    assert data.num_classes == 2
    frac = data.y.double().mean().item()
    assert 0.4 < frac < 0.6


@pytest.mark.parametrize("name", ["disk", "xor", "spirals", "moons"])
def test_noiseless_points_lie_in_unit_square(name):
    x = make_dataset(name, 3000, seed=5).x
    assert ((x >= 0) & (x <= 1)).all()


@pytest.mark.parametrize("name", list(GENERATED_DATASETS))
def test_deterministic_by_seed(name):
    a = make_dataset(name, 300, noise=0.1, seed=42)
    b = make_dataset(name, 300, noise=0.1, seed=42)
    c = make_dataset(name, 300, noise=0.1, seed=43)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)


@pytest.mark.parametrize("name", list(GENERATED_DATASETS))
def test_noise_changes_inputs(name):
    clean = make_dataset(name, 300, noise=0.0, seed=7)
    noisy = make_dataset(name, 300, noise=0.2, seed=7)
    assert not torch.allclose(clean.x, noisy.x)
    assert (noisy.x - clean.x).abs().mean() > 0.02


@pytest.mark.parametrize("name", ["disk", "xor", "spirals", "moons"])
def test_noise_jitters_inputs_but_keeps_labels(name):
    """Noise is added after labelling: the same points, the same labels, moved inputs."""
    clean = make_dataset(name, 300, noise=0.0, seed=8)
    noisy = make_dataset(name, 300, noise=0.05, seed=8)
    assert torch.equal(clean.y, noisy.y)
    diff = noisy.x - clean.x
    assert 0.03 < diff.std().item() < 0.07


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "circles", "n": 10}, "unknown dataset"),
        ({"name": "disk", "n": 0}, "size"),
        ({"name": "disk", "n": 10, "noise": -0.1}, "noise"),
        ({"name": "disk", "n": 10, "noise": math.nan}, "noise"),
    ],
)
def test_make_dataset_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(**kwargs)


def test_dataset_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        Dataset(torch.zeros(3, 2), torch.zeros(4, dtype=torch.int64))
    with pytest.raises(ValueError):
        Dataset(torch.zeros(3), torch.zeros(3, dtype=torch.int64))


def test_centre_inputs_maps_unit_square_to_symmetric_square():
    x = torch.tensor([[0.0, 1.0], [0.5, 0.25]])
    assert torch.equal(centre_inputs(x), torch.tensor([[-1.0, 1.0], [0.0, -0.5]]))


# ---- CSV ------------------------------------------------------------------------------------
def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("header", ["", "x1,x2,label\n"])
def test_csv_good_file(tmp_path, header):
    text = header + "0.1,0.2,0\n# a comment\n\n 0.5 , -0.75 , 1  \n3e-1,1,2 # trailing comment\n"
    data = load_csv(write(tmp_path, text))
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.int64
    expected_x = torch.tensor([[0.1, 0.2], [0.5, -0.75], [0.3, 1.0]], dtype=torch.float32)
    assert torch.equal(data.x, expected_x)
    assert data.y.tolist() == [0, 1, 2]


def test_csv_crlf_and_str_path(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(b"x,y,label\r\n0.5,0.5,1\r\n0.1,0.9,0\r\n")
    data = load_csv(str(path))
    assert data.y.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("0.1,0.2,0\n0.3,0.4\n", 2, "expected 3 values"),
        ("0.1,0.2,0\n0.3,0.4,1,5\n", 2, "expected 3 values"),
        ("x1,x2,label\n0.1,0.2,0\n\n0.3,abc,1\n", 4, "x2 must be a number"),
        ("0.1,0.2,0\nfoo,0.2,1\n", 2, "x1 must be a number"),
        ("0.1,0.2,0\n0.3,0.4,1.5\n", 2, "integer"),
        ("0.1,0.2,0\n0.3,0.4,one\n", 2, "integer"),
        ("# comment\n0.1,0.2,0\n0.3,0.4,-1\n", 3, "≥ 0"),
        ("0.1,0.2,0\n0.3,nan,1\n", 2, "finite"),
        ("0.1,0.2,0\ninf,0.3,1\n", 2, "finite"),
    ],
    ids=[
        "too-few",
        "too-many",
        "non-number",
        "non-number-x1",
        "float-label",
        "word-label",
        "negative-label",
        "nan",
        "inf",
    ],
)
def test_csv_malformed_rows_name_the_line(tmp_path, text, line, match):
    path = write(tmp_path, text)
    with pytest.raises(CSVError, match=match) as info:
        load_csv(path)
    assert f"{path}:{line}:" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "x1,x2,label\n"])
def test_csv_without_rows_is_rejected(tmp_path, text):
    with pytest.raises(CSVError, match="no data rows"):
        load_csv(write(tmp_path, text))


def test_csv_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(CSVError, match="cannot read") as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(CSVError, match="UTF-8"):
        load_csv(path)


def test_csv_header_only_allowed_on_first_content_line(tmp_path):
    """A non-numeric row after data is an error, not a second header."""
    path = write(tmp_path, "0.1,0.2,0\nx1,x2,label\n")
    with pytest.raises(CSVError, match=r":2:"):
        load_csv(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0.5,0..3,1\n0.1,0.2,0\n", "x2 must be a number, got '0..3'"),
        ("x1,0.2,label\n0.1,0.2,0\n", "x1 must be a number, got 'x1'"),  # not all names
    ],
    ids=["typo", "half-header"],
)
def test_csv_first_row_typo_is_an_error_not_a_header(tmp_path, text, match):
    """Only a row of names is a header; a first data row with a typo names its line."""
    path = write(tmp_path, text)
    with pytest.raises(CSVError, match=match) as info:
        load_csv(path)
    assert f"{path}:1:" in str(info.value)


@pytest.mark.parametrize("header", ["x1,x2,label", "a, b ,c", "\ufeffx,y,class"])
def test_csv_header_of_names_is_skipped(tmp_path, header):
    data = load_csv(write(tmp_path, f"{header}\n0.5,0.25,1\n"))
    assert data.y.tolist() == [1] and data.x.tolist() == [[0.5, 0.25]]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("1_0,0.2,0", "x1 must be a number, got '1_0'"),
        ("0.1,2_5.0,0", "x2 must be a number"),
        ("0.1,0.2,1_0", "label must be an integer, got '1_0'"),
        ("0.1,0.2,\u0661", "label must be an integer"),  # an Arabic-Indic digit: int() reads it
        ("0x1,0.2,0", "x1 must be a number"),
    ],
    ids=["underscore-x1", "underscore-x2", "underscore-label", "non-ascii-digit", "hex"],
)
def test_csv_rejects_what_only_python_reads_as_numbers(tmp_path, row, match):
    path = write(tmp_path, f"0.1,0.2,0\n{row}\n")
    with pytest.raises(CSVError, match=match) as info:
        load_csv(path)
    assert f"{path}:2:" in str(info.value)


@pytest.mark.parametrize("label", [str(2**63), str(10**30), "9" * 5000])
def test_csv_label_beyond_int64_names_the_line(tmp_path, label):
    path = write(tmp_path, f"0.1,0.2,0\n0.3,0.4,{label}\n")
    with pytest.raises(CSVError, match=r"2\*\*63") as info:
        load_csv(path)
    assert f"{path}:2:" in str(info.value)


def test_csv_largest_int64_label_is_accepted(tmp_path):
    data = load_csv(write(tmp_path, f"0.1,0.2,{2**63 - 1}\n"))
    assert data.y.tolist() == [2**63 - 1]


def test_csv_error_quotes_at_most_80_characters(tmp_path):
    """A 5 MB cell must not make a 5 MB message."""
    path = write(tmp_path, "0.1,0.2,0\n0.3," + "x" * 5_000_000 + ",1\n")
    with pytest.raises(CSVError) as info:
        load_csv(path)
    msg = str(info.value)
    assert f"{path}:2: x2 must be a number" in msg
    assert len(msg) < len(str(path)) + 200
    assert "5,000,000 characters" in msg
