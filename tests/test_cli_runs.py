"""`miniframe runs` and the recording of `miniframe train`: list, show, compare, export, rm;
bad ids and metrics are one line and exit 2; an unusable database never stops training."""

from __future__ import annotations

import csv
import json

import pytest

from miniframe.cli import main
from miniframe.engine import RunSpec
from miniframe.runs import RunStatus, RunStore


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIFRAME_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def bad_input(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def train(capsys, *flags):
    code, out, err = run(capsys, "train", "--preset", "quick", "--epochs", "4", *flags)
    assert code == 0, err
    return out, err


def test_train_records_runs_and_list_shows_them(capsys, data_dir, tmp_path):
    train(capsys)
    train(capsys, "--lr", "0.01", "--save", str(tmp_path / "m.safetensors"))
    train(capsys, "--no-record")
    code, out, _ = run(capsys, "runs", "list")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["id", "started", "name"] and len(lines) == 3
    assert "finished" in lines[1] and "4/4" in lines[1] and "2-25-25-25-2 ReLU" in lines[1]
    code, out, _ = run(capsys, "runs", "list", "--json", "--last", "1")
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["id"] == 2 and row["spec"]["solver"]["lr"] == 0.01 and row["final"]["epoch"] == 4
    assert row["checkpoint"].endswith("m.safetensors") and row["status"] == "finished"
    assert (data_dir / "runs.sqlite3").exists()


def test_show_and_show_spec_round_trip(capsys):
    train(capsys, "--batch-size", "8")
    code, out, _ = run(capsys, "runs", "show", "1")
    assert code == 0 and out.startswith("run 1: quick — finished")
    assert "batch_size             8" in out and "epochs (4 recorded)" in out
    code, out, _ = run(capsys, "runs", "show", "1", "--spec")
    spec = RunSpec.from_toml(out)
    assert spec.batch_size == 8 and spec.epochs == 4


def test_compare_prints_differences_final_metrics_and_a_chart(capsys):
    train(capsys)
    train(capsys, "--lr", "0.01")
    code, out, _ = run(capsys, "runs", "compare", "1", "2", "--metric", "train_loss")
    assert code == 0
    assert "| solver.lr | 0.001 | 0.01 |" in out
    assert "| #1 | quick | finished | 4/4 |" in out
    assert "#1 quick lr=0.001" in out and "#2 quick lr=0.01" in out  # the chart's legend
    assert "train_loss" in out and "epoch" in out and "\x1b[" not in out  # no colour in a pipe
    code, out, _ = run(capsys, "runs", "compare", "1", "1")
    assert code == 0 and "no settings differ" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["runs", "show", "7"], "no run 7"),
        (["runs", "show", "x"], "run id: 'x' is not a whole number"),
        (["runs", "show", "0"], "run id must be ≥ 1"),
        (["runs", "compare", "1", "9"], "no run 9"),
        (["runs", "compare", "1", "--metric", "nope"], "unknown metric 'nope'; recorded: "),
        (["runs", "rm", "1", "5"], "no run 5"),
        (["runs", "export", "3", "--csv", "out.csv"], "no run 3"),
        (["runs", "list", "--sweep", "4"], "no sweep 4"),
        (["runs", "list", "--last", "0"], "--last"),
        (["runs"], "ACTION"),
    ],
)
def test_bad_ids_and_metrics_are_one_line(capsys, argv, expected):
    train(capsys)
    assert expected in bad_input(capsys, *argv)
    assert len(RunStore.open().runs()) == 1  # rm removed nothing


def test_export_writes_every_epoch_as_csv(capsys, tmp_path):
    train(capsys)
    target = tmp_path / "run.csv"
    code, out, _ = run(capsys, "runs", "export", "1", "--csv", str(target))
    assert code == 0 and "wrote 4 epochs" in out
    rows = list(csv.DictReader(target.open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert {"train_loss", "test_acc", "status", "samples_per_s"} <= set(rows[0])
    assert "folder" in bad_input(capsys, "runs", "export", "1", "--csv", str(tmp_path))


def test_rm_removes_runs_but_not_a_running_one(capsys):
    train(capsys)
    train(capsys)
    with RunStore.open() as store:
        live = store.start_run(RunSpec(), status=RunStatus.RUNNING)  # this process: alive
    assert "still running" in bad_input(capsys, "runs", "rm", "1", str(live))
    code, out, _ = run(capsys, "runs", "rm", "1", "2")
    assert code == 0 and "removed 2 runs" in out
    assert [r.id for r in RunStore.open().runs()] == [live]


def test_list_of_an_empty_history(capsys):
    code, out, err = run(capsys, "runs", "list")
    assert code == 0 and out == "" and "no runs recorded yet" in err


def test_an_unusable_database_is_one_warning_and_training_goes_on(capsys, data_dir):
    data_dir.mkdir()
    (data_dir / "runs.sqlite3").write_bytes(b"garbage " * 64)
    out, err = train(capsys)
    assert "final:" in out
    (line,) = err.strip().splitlines()
    assert line.startswith("miniframe train: warning: not recording this run: ")
    assert (data_dir / "runs.sqlite3").read_bytes() == b"garbage " * 64
    assert "not a usable SQLite database" in bad_input(capsys, "runs", "list")


def test_diverged_runs_are_recorded_as_diverged(capsys):
    code, _, _ = run(capsys, "train", "--preset", "vanilla", "--lr", "100", "--epochs", "3")
    assert code == 1
    (r,) = RunStore.open().runs()
    assert r.status == "diverged" and r.final["train_loss"] is None


def test_a_csv_run_records_its_data_settings(capsys, tmp_path):
    data = tmp_path / "two.csv"
    rows = [f"{c * 2 + (i % 4) * 0.1:.2f},{(i * 3 % 7) * 0.1:.2f},{c}" for i in range(30)
            for c in range(2)]  # fmt: skip
    data.write_text("x,y,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    train(capsys, "--data", str(data), "--standardize", "--test-fraction", "0.3")
    with RunStore.open() as store:
        (r,) = store.runs()
    d = r.spec["data"]
    assert (d["name"], d["path"], d["standardize"], d["test_fraction"]) == (
        "csv",
        str(data),
        True,
        0.3,
    )
    assert RunSpec.from_dict(r.spec).data.path == str(data)  # the stored spec loads back
    train(capsys, "--dataset", "blobs", "--classes", "3")
    code, out, _ = run(capsys, "runs", "list")
    assert code == 0
    csv_row, blobs_row = out.strip().splitlines()[1:]
    assert "two.csv" in csv_row and "2-25-25-25-2 ReLU" in csv_row
    assert "blobs×3" in blobs_row and "2-25-25-25-3 ReLU" in blobs_row


def test_restore_best_records_the_restored_epochs_metrics(capsys):
    """The run ends with the best epoch's weights, so those are its final metrics."""
    out, _ = train(capsys, "--epochs", "30", "--lr", "0.5", "--patience", "2", "--restore-best",
                   "--json")  # fmt: skip
    epochs = [json.loads(line) for line in out.splitlines()]
    best = min((e for e in epochs if e["test_loss"] is not None), key=lambda e: e["test_loss"])
    assert best["epoch"] < epochs[-1]["epoch"]  # it did restore an earlier epoch
    with RunStore.open() as store:
        (r,) = store.runs()
    assert r.final["epoch"] == best["epoch"] and r.final["test_loss"] == best["test_loss"]
    assert r.final["test_acc"] == best["test_acc"]
