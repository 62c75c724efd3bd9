"""The `miniframe` command line: smoke runs, strict JSON output, checkpoints, the preset store,
and bad input: exit 2 with one line naming the problem, never a traceback."""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as st_save

from miniframe.cli import main
from miniframe.engine import LIMITS, load_preset, save_user_preset
from miniframe.engine import checkpoint as ckpt


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def strict_json(line: str) -> dict:
    """Parse as a strict parser would: NaN, Infinity and -Infinity are not JSON."""

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    value = json.loads(line, parse_constant=refuse)
    assert isinstance(value, dict)
    return value


def bad_input(capsys, *argv) -> str:
    """Run with bad input: exit status 2 and exactly one line on stderr, which is returned."""
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ---- it works -----------------------------------------------------------------------------------
def test_train_prints_progress_and_final_accuracy(capsys):
    code, out, _ = run(capsys, "train", "--preset", "quick", "--epochs", "20")
    assert code == 0
    assert "epoch 10/20" in out and "epoch 20/20" in out
    final = [line for line in out.splitlines() if line.startswith("final:")]
    assert len(final) == 1 and "train accuracy" in final[0] and "test accuracy" in final[0]
    assert "-0.0" not in out


def test_train_json_is_strict_and_carries_status(capsys):
    code, out, _ = run(capsys, "train", "--preset", "quick", "--epochs", "3", "--json")
    assert code == 0
    rows = [strict_json(line) for line in out.splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "status",
            "message"} <= set(rows[0])  # fmt: skip
    assert [r["status"] for r in rows] == ["running", "running", "finished"]
    assert all(0.0 <= r["test_acc"] <= 100.0 for r in rows)
    assert rows[-1]["test_acc"] > 50.0  # percent, not a fraction


def test_diverged_json_has_null_not_nan(capsys):
    code, out, err = run(
        capsys, "train", "--preset", "vanilla", "--lr", "100", "--epochs", "3", "--json"
    )
    assert code == 1 and "diverged" in err
    rows = [strict_json(line) for line in out.splitlines()]  # no NaN token anywhere
    last = rows[-1]
    assert last["status"] == "diverged" and last["message"]
    assert last["train_loss"] is None


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
    ckpt_path = tmp_path / "m.safetensors"
    code, out, _ = run(capsys, "train", "--epochs", "30", "--save", str(ckpt_path), "--json")
    assert code == 0 and ckpt_path.exists()
    trained_test_acc = strict_json(out.splitlines()[-1])["test_acc"]
    code, out, _ = run(capsys, "evaluate", str(ckpt_path), "--json", "--seed", "1")
    assert code == 0
    result = strict_json(out)
    assert result["status"] == "finished" and result["message"] == ""
    assert result["dataset"] == "disk" and result["n"] == 1000 and result["epoch"] == 30
    # A fresh test set of the same task: the accuracy is close to the run's own test accuracy.
    assert abs(result["test_acc"] - trained_test_acc) < 5.0


def test_evaluate_says_the_epoch_the_weights_come_from(tmp_path, capsys):
    """With --restore-best, the weights of the best epoch, not the last one trained."""
    path = tmp_path / "m.safetensors"
    flags = ["--epochs", "30", "--lr", "0.5", "--patience", "2", "--restore-best", "--json"]
    code, out, _ = run(capsys, "train", "--preset", "quick", *flags, "--save", str(path))
    assert code == 0
    epochs = [strict_json(line) for line in out.splitlines()]
    best = min((e for e in epochs if e["test_loss"] is not None), key=lambda e: e["test_loss"])
    assert best["epoch"] < epochs[-1]["epoch"]  # it did restore an earlier epoch
    code, out, _ = run(capsys, "evaluate", str(path))
    assert code == 0 and f"(seed 12345; weights of epoch {best['epoch']})" in out, out
    code, out, _ = run(capsys, "evaluate", str(path), "--json")
    assert code == 0 and strict_json(out)["epoch"] == best["epoch"]


def test_save_expands_the_home_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, _ = run(capsys, "train", "--epochs", "1", "--save", "~/m.safetensors")
    assert code == 0 and (tmp_path / "m.safetensors").exists()
    assert not Path("~").exists()
    code, out, _ = run(capsys, "evaluate", "~/m.safetensors")
    assert code == 0 and "test accuracy" in out


def test_config_file(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    load_preset("quick").replace(epochs=2, name="mine").save(cfg)
    code, out, _ = run(capsys, "train", "--config", str(cfg))
    assert code == 0 and out.startswith("training mine")


def test_a_preset_saved_by_the_trainer_is_usable_by_name(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(tmp_path))
    save_user_preset("mymoons", load_preset("quick").replace(epochs=2))
    code, out, _ = run(capsys, "train", "--preset", "mymoons")
    assert code == 0 and out.startswith("training mymoons") and "epoch 2/2" in out


def test_evaluate_warns_on_an_unverified_checkpoint(tmp_path, capsys):
    code, _, _ = run(capsys, "train", "--epochs", "1", "--save", str(tmp_path / "m.safetensors"))
    assert code == 0
    from miniframe.engine import read_checkpoint

    model, info = read_checkpoint(tmp_path / "m.safetensors")
    tensors = {k: t.contiguous() for k, t in ckpt.state_dict(model).items()}
    meta = {"format": ckpt.FORMAT, "version": "1", "spec": info.spec.to_json()}
    old = tmp_path / "old.safetensors"
    old.write_bytes(st_save(tensors, metadata=meta))
    code, out, err = run(capsys, "evaluate", str(old))
    assert code == 0 and "test accuracy" in out and "(seed 12345; epoch not recorded)" in out
    assert err.count("\n") == 1 and "warning" in err and "save it again" in err


# ---- bad input: exit 2 and one line ------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--preset", "nope"], "unknown preset 'nope'"),
        (["train", "--preset", ""], "--preset: empty preset name"),
        (["train", "--config", ""], "--config: empty config file name"),
        (["train", "--save", ""], "--save: empty file name"),
        (["train", "--lr", "abc"], "--lr"),
        (["train", "--lr", "-1"], "learning rate must be a positive number"),
        (["train", "--lr", "1e40"], "learning rate must be ≤ 1e+06"),
        (["train", "--lr", "nan"], "learning rate must be a finite number"),
        (["train", "--batch-size", "0"], "--batch-size"),
        (["train", "--epochs", "x"], "--epochs"),
        (["train", "--epochs", "1_0"], "is not a whole number"),
        (["train", "--seed", str(2**63)], "seed must be ≤ 4611686018427387903"),
        (["train", "--seed", str(10**20)], "seed must be ≤"),
        (["train", "--threads", "3e9"], "--threads: threads: '3e9' is not a whole number"),
        (["train", "--threads", "3000000000"], "threads must be ≤ 256"),
        (["train", "--threads", "100000"], "threads must be ≤ 256"),
        (["train", "--momentum", "1"], "momentum must be in [0, 1)"),
        (["train", "--weight-decay", "1e300"], "weight decay must be ≤"),
        (["train", "--noise", "inf"], "noise must be a finite number"),
        (["train", "--preset", "vanilla", "--batch-size", "5000"], "larger than the training"),
        (["train", "--config", "/no/such/file.toml"], "no such file"),
        (["train", "--config", "/dev/zero"], "character device, not a run spec"),
        (["train", "--loss", "hinge"], "--loss"),
        (["train", "--save", "/dev/null"], "character device; refusing to replace it"),
        (["train", "--save", "/no/such/folder/m.safetensors"], "does not exist"),
        (["evaluate", "/no/such.safetensors"], "no such file"),
        (["evaluate", "/dev/zero"], "character device, not a checkpoint"),
        (["evaluate", "x.safetensors", "--n", "1e9"], "'1e9' is not a whole number"),
        (["evaluate", "x.safetensors", "--n", "1000000000"], "number of points must be ≤"),
        (["evaluate", ""], "empty checkpoint name"),
        (["reproduce", "--seeds", "0"], "--seeds"),
        (["reproduce", "--seeds", "100000"], "seeds must be ≤ 1000"),
        (["reproduce", "--presets", "nope"], "unknown preset"),
        (["bench", "--presets", "nope"], "unknown preset"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    line = bad_input(capsys, *argv)
    assert needle in line, line


@pytest.mark.parametrize(
    ("content", "suffix", "needle"),
    [
        ("[" * 100_000 + "]" * 100_000, ".json", "nested too deeply"),
        ("x = " + "[" * 100_000 + "]" * 100_000, ".toml", "nested too deeply"),
        ('{"layers": [{"type": "linear", "units": 1' + "0" * 30 + "}]}", ".json", "≤ 4096"),
        ('layers = [{type = "linear", units = 1000000000}]', ".toml", "units must be ≤ 4096"),
        ('layers = [{type = "linear", units = 2}]\n[data]\nn_train = 10000000000', ".toml",
         "train size must be ≤ 10000000"),
        ('layers = [{type = "linear", units = 2}]\n[data]\nn_test = 99999999999', ".toml",
         "test size must be ≤ 10000000"),
        ("layers = [ {type = 'linear', units = 25 }, {type = 'conv'} ]\n", ".toml",
         "unknown layer type 'conv'"),
    ],
)  # fmt: skip
def test_bad_config_files(tmp_path, capsys, content, suffix, needle):
    cfg = tmp_path / f"cfg{suffix}"
    cfg.write_text(content)
    line = bad_input(capsys, "train", "--config", str(cfg))
    assert needle in line and str(cfg) in line


def test_oversized_config(tmp_path, capsys):
    cfg = tmp_path / "big.toml"
    cfg.write_bytes(b"#" * (LIMITS.max_spec_bytes + 1))
    assert "too large for a run spec" in bad_input(capsys, "train", "--config", str(cfg))


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs")
def test_save_target_is_checked_before_training(tmp_path, capsys):
    """A bad --save fails at once, not after the training it would lose; FIFOs survive."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    for target in (fifo, link, tmp_path):
        code, out, err = run(capsys, "train", "--epochs", "1", "--save", str(target))
        assert code == 2 and out == "", out  # nothing trained
        assert "refusing to replace it" in err and len(err.strip().splitlines()) == 1
    assert fifo.is_fifo() and link.is_symlink()


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        ("tiny-huge", "units must be ≤ 4096"),
        ("number-spec", "not JSON text"),
        ("deep-header", "nested too deeply"),
        ("deep-spec", "nested too deeply"),
        ("flipped", "checksum does not match"),
    ],
)
def test_bad_checkpoints(tmp_path, capsys, make, needle):
    path = tmp_path / f"{make}.safetensors"
    if make == "flipped":
        assert run(capsys, "train", "--epochs", "1", "--save", str(path))[0] == 0
        data = bytearray(path.read_bytes())
        data[-3] ^= 0x10
        path.write_bytes(bytes(data))
    elif make == "deep-header":
        raw = ("[" * 100_000 + "]" * 100_000).encode()
        path.write_bytes(len(raw).to_bytes(8, "little") + raw)
    else:
        spec = load_preset("quick").to_dict()
        spec["layers"][0]["units"] = 10**9
        text = {"tiny-huge": json.dumps(spec), "deep-spec": "[" * 100_000 + "]" * 100_000}
        meta = {"format": ckpt.FORMAT, "version": ckpt.VERSION, "epoch": "0"}
        if make == "number-spec":
            header = json.dumps({"__metadata__": {**meta, "spec": 5}}).encode()
            path.write_bytes(len(header).to_bytes(8, "little") + header)
        else:
            path.write_bytes(st_save({"x": torch.zeros(1)}, metadata={**meta, "spec": text[make]}))
    line = bad_input(capsys, "evaluate", str(path))
    assert needle in line and str(path) in line


def test_ctrl_c_while_torch_imports_is_one_line(capsys, monkeypatch):
    """Ctrl-C in the first seconds (torch still importing) exits 130 with one line."""
    real_import = builtins.__import__

    def interrupted_import(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "torch")  # so `import torch` runs the import machinery
    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    code, out, err = run(capsys, "train", "--epochs", "1")
    assert code == 130 and err == "interrupted\n" and out == ""


def test_divergence_is_reported_not_raised(capsys):
    code, _, err = run(capsys, "train", "--preset", "vanilla", "--lr", "100", "--epochs", "3")
    assert code == 1
    assert "diverged" in err and "Traceback" not in err


def test_python_dash_m_and_console_script():
    out = subprocess.run(
        [sys.executable, "-m", "miniframe", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("miniframe ")
    bad = subprocess.run(
        [sys.executable, "-m", "miniframe", "train", "--lr", "abc"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_help_imports_no_torch():
    code = (
        "import sys\nfrom miniframe.cli import build_parser\n"
        "build_parser()\nprint('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to see torch loading")
def test_ctrl_c_during_the_real_torch_import():
    """A real process, interrupted once torch's shared library is being loaded."""
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "miniframe", "train", "--epochs", "1000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        t0 = time.monotonic()
        maps = Path(f"/proc/{proc.pid}/maps")
        while "libtorch" not in maps.read_text():  # torch's import has begun
            assert time.monotonic() - t0 < 120 and proc.poll() is None
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
