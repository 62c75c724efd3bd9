"""An output never replaces an input or the run history: every output option of every command
(``--save``, ``-o``, ``--csv``, ``bench --json``) is refused, before any work, when it names the
same file as an input (data, test data, checkpoint, config, the data a config names) or a file
of the run history, however it is spelt (a link, ``./``, a hard link)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import run

from miniframe.cli import main
from miniframe.runs import RunStore, database_path


def refused(capsys, *argv) -> str:
    """Exit 2, one line on stderr saying an output never replaces an input, nothing on stdout
    (no work started)."""
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "an output never replaces an input" in lines[0], lines[0]
    assert out == ""
    return lines[0]


ROWS = "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(40))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A CSV file and a model trained on it (one epoch)."""
    folder = tmp_path_factory.mktemp("outputs")
    data = folder / "d.csv"
    data.write_text("x,y,c\n" + ROWS)
    model = folder / "m.safetensors"
    assert main(["train", "--preset", "quick", "--epochs", "1", "--data", str(data),
                 "--save", str(model), "--no-record"]) == 0  # fmt: skip
    return data, model


@pytest.fixture
def files(tmp_path, trained):
    """Copies of the data and the model in this test's folder, and their bytes."""
    data, model = tmp_path / "d.csv", tmp_path / "m.safetensors"
    data.write_bytes(trained[0].read_bytes())
    model.write_bytes(trained[1].read_bytes())
    return data, model, {p: p.read_bytes() for p in (data, model)}


def intact(saved: dict[Path, bytes]) -> None:
    for path, content in saved.items():
        assert path.read_bytes() == content, path


def test_predict_output_onto_its_input_or_its_model(capsys, tmp_path, files, monkeypatch):
    data, model, saved = files
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    hard = tmp_path / "hard.safetensors"
    os.link(model, hard)
    monkeypatch.chdir(tmp_path)
    for out in (data, "d.csv", "./d.csv", f"{tmp_path}/../{tmp_path.name}/d.csv", link):
        assert "data file" in refused(capsys, "predict", model, data, "-o", out)
    for out in (model, hard):
        assert "checkpoint" in refused(capsys, "predict", model, data, "--output", out)
    # the input given through the link, the output by its real name: the same file
    refused(capsys, "predict", model, link, "-o", data)
    intact(saved)


def test_train_save_onto_its_data_config_or_test_file(capsys, tmp_path, files):
    data, _, saved = files
    test = tmp_path / "t.csv"
    test.write_text("x,y,c\n" + ROWS)
    saved[test] = test.read_bytes()
    config = tmp_path / "c.toml"
    config.write_text(
        '[[layers]]\nkind = "linear"\nunits = 4\n[[layers]]\nkind = "relu"\n'
        '[[layers]]\nkind = "linear"\nunits = "classes"\n[data]\nname = "csv"\npath = "d.csv"\n'
    )
    saved[config] = config.read_bytes()
    t = ("train", "--epochs", "1", "--no-record")
    assert "data file" in refused(capsys, *t, "--data", data, "--save", data)
    assert "test data file" in refused(
        capsys, *t, "--data", data, "--test-data", test, "--save", test
    )
    assert "config file" in refused(capsys, *t, "--config", config, "--save", config)
    # the data file a config names (relative to the config's folder) is an input too
    assert "training data file" in refused(capsys, *t, "--config", config, "--save", data)
    intact(saved)


def test_no_output_replaces_the_run_history(capsys, tmp_path, files):
    data, model, saved = files
    assert main(["train", "--preset", "quick", "--epochs", "1"]) == 0  # a recorded run
    capsys.readouterr()
    history = database_path()
    with RunStore.open() as store:
        run_id = store.runs(last=1)[0].id
    for suffix in ("", "-wal", "-shm"):
        target = Path(f"{history}{suffix}")
        t = ("train", "--preset", "quick", "--epochs", "1")
        assert "run history" in refused(capsys, *t, "--save", target)
        assert "run history" in refused(capsys, *t, "--no-record", "--save", target)
        assert "run history" in refused(capsys, "runs", "export", run_id, "--csv", target)
        assert "run history" in refused(capsys, "predict", model, data, "-o", target)
        assert "run history" in refused(capsys, "bench", "--quick", "--json", target)
    link = tmp_path / "h.sqlite3"
    link.symlink_to(history)
    refused(capsys, "runs", "export", run_id, "--csv", link)
    code, out, _ = run(capsys, "runs", "list")
    assert code == 0 and "quick" in out  # the history is still there, readable
    intact(saved)


def test_an_output_elsewhere_is_still_written(capsys, tmp_path, files):
    data, model, _ = files
    out = tmp_path / "p.csv"
    code, _, err = run(capsys, "predict", model, data, "-o", out)
    assert code == 0, err
    assert out.read_text().startswith("x,y,c,predicted")
