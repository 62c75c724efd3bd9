"""The `miniframe` command line: smoke runs, JSON output, checkpoints, and bad input → exit 2."""

import json
import subprocess
import sys

import pytest

from miniframe.__main__ import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_progress_and_final_accuracy(capsys):
    code, out, _ = run(capsys, "train", "--preset", "quick", "--epochs", "20")
    assert code == 0
    assert "epoch 10/20" in out and "epoch 20/20" in out
    final = [line for line in out.splitlines() if line.startswith("final:")]
    assert len(final) == 1 and "train accuracy" in final[0] and "test accuracy" in final[0]


def test_train_json_prints_one_object_per_epoch(capsys):
    code, out, _ = run(capsys, "train", "--preset", "quick", "--epochs", "3", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert set(rows[0]) == {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"}
    assert all(0.0 <= r["test_acc"] <= 100.0 for r in rows)
    assert rows[-1]["test_acc"] > 50.0  # percent, not a fraction


def test_overrides_reach_the_run(capsys):
    code, out, _ = run(
        capsys, "train", "--preset", "vanilla", "--epochs", "1", "--lr", "0.01",
        "--batch-size", "50", "--solver", "sgd", "--momentum", "0.9", "--loss", "cross-entropy",
        "--init", "he", "--seed", "3",
    )  # fmt: skip
    assert code == 0
    first = out.splitlines()[0]
    for part in ("lr=0.01", "momentum=0.9", "batch=50", "loss=cross-entropy", "init=he", "seed=3"):
        assert part in first


def test_save_then_evaluate(tmp_path, capsys):
    ckpt = tmp_path / "m.safetensors"
    code, out, _ = run(capsys, "train", "--epochs", "30", "--save", str(ckpt), "--json")
    assert code == 0 and ckpt.exists()
    trained_test_acc = json.loads(out.splitlines()[-1])["test_acc"]
    code, out, _ = run(capsys, "evaluate", str(ckpt), "--json", "--seed", "1")
    assert code == 0
    result = json.loads(out)
    assert result["dataset"] == "disk" and result["n"] == 1000
    # A fresh test set of the same task: the accuracy is close to the run's own test accuracy.
    assert abs(result["test_acc"] - trained_test_acc) < 5.0


def test_config_file(tmp_path, capsys):
    from miniframe.engine.spec import load_preset

    cfg = tmp_path / "run.toml"
    load_preset("quick").replace(epochs=2, name="mine").save(cfg)
    code, out, _ = run(capsys, "train", "--config", str(cfg))
    assert code == 0 and out.startswith("training mine")


def test_divergence_is_reported_not_raised(capsys):
    code, _, err = run(capsys, "train", "--preset", "vanilla", "--lr", "100", "--epochs", "3")
    assert code == 1
    assert "diverged" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--preset", "nope"], "unknown preset 'nope'"),
        (["train", "--lr", "abc"], "--lr"),
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--batch-size", "0"], "--batch-size"),
        (["train", "--epochs", "x"], "--epochs"),
        (["train", "--preset", "vanilla", "--batch-size", "5000"], "larger than the training"),
        (["train", "--config", "/no/such/file.toml"], "no such file"),
        (["train", "--loss", "hinge"], "--loss"),
        (["evaluate", "/no/such.safetensors"], "no such file"),
        (["reproduce", "--seeds", "0"], "--seeds"),
        (["reproduce", "--presets", "nope"], "unknown preset"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    with pytest.raises(SystemExit) as exc:
        sys.exit(main(argv))
    assert exc.value.code == 2
    _, err = capsys.readouterr()
    assert needle in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_malformed_config_and_checkpoint(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("layers = [ {type = 'linear', units = 25 }, {type = 'conv'} ]\n")
    code, _, err = run(capsys, "train", "--config", str(bad))
    assert code == 2 and "unknown layer type 'conv'" in err
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    code, _, err = run(capsys, "evaluate", str(junk))
    assert code == 2 and str(junk) in err


def test_python_dash_m_and_console_script():
    out = subprocess.run(
        [sys.executable, "-m", "miniframe", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("miniframe ")
    bad = subprocess.run(
        [sys.executable, "-m", "miniframe", "train", "--lr", "abc"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
