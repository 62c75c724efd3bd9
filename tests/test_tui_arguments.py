"""``miniframe-tui``'s arguments: the preset store, the shared one-line parser, and a bad
--preset, --config or --checkpoint refused with one line and exit 2 before any screen opens."""

from __future__ import annotations

import os
import sys

import pytest
import torch
from safetensors.torch import save as st_save

from miniframe.engine import checkpoint as ckpt
from miniframe.engine import load_preset, save_user_preset
from miniframe.tui.__main__ import main


def refused(capsys, *argv: str) -> str:
    """miniframe-tui with bad arguments: exit 2, one line on stderr (returned), no app."""
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's own errors
        code = e.code
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--preset", ""], "--preset: empty preset name"),
        (["--config", ""], "--config: empty config file name"),
        (["--checkpoint", ""], "--checkpoint: empty checkpoint name"),
        (["--preset", "nope"], "unknown preset 'nope'; choose one of"),
        (["--config", "/dev/zero"], "character device, not a run spec"),
        (["--checkpoint", "/dev/zero"], "character device, not a checkpoint"),
        (["--checkpoint", "/no/such.safetensors"], "no such file"),
    ],
)
def test_bad_arguments(capsys, argv, needle):
    assert needle in refused(capsys, *argv)


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_deeply_nested_config(tmp_path, capsys, suffix):
    path = tmp_path / f"deep{suffix}"
    body = "[" * 100_000 + "]" * 100_000
    path.write_text(body if suffix == ".json" else f"x = {body}\n")
    assert "nested too deeply" in refused(capsys, "--config", str(path))


def test_deeply_nested_user_preset(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(tmp_path))
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "deep.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000)
    line = refused(capsys, "--preset", "deep")
    assert "deep.toml" in line and "nested too deeply" in line


@pytest.mark.parametrize("make", ["junk", "flipped", "huge"])
def test_malformed_checkpoint_exits_2_before_the_screen(tmp_path, capsys, make):
    """The README promises exit 2 with one line for a malformed file: the trainer no longer
    opens with a notification (inspect_checkpoint checks it first, without torch)."""
    path = tmp_path / "m.safetensors"
    if make == "junk":
        path.write_bytes(b"not a checkpoint")
    else:
        spec = load_preset("quick").to_dict()
        if make == "huge":
            spec["layers"][0]["units"] = 10**9
        meta = {"format": ckpt.FORMAT, "version": ckpt.VERSION, "epoch": "0", "sha256": "0" * 64,
                "spec": ckpt.json.dumps(spec)}  # fmt: skip
        path.write_bytes(st_save({"x": torch.zeros(1)}, metadata=meta))
    line = refused(capsys, "--checkpoint", str(path))
    assert str(path) in line


def test_a_user_preset_is_found_by_name(tmp_path, monkeypatch):
    """The trainer's --preset reads the same store as `miniframe train --preset`."""
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(tmp_path))
    save_user_preset("mymoons", load_preset("quick").replace(epochs=3))
    seen = {}

    def fake_run_trainer(spec, checkpoint, theme, record=True, config=None):
        seen["spec"], seen["checkpoint"] = spec, checkpoint
        return 0

    import miniframe.tui.__main__ as main_module

    monkeypatch.setattr(main_module, "run_trainer", fake_run_trainer)
    assert main(["--preset", "mymoons"]) == 0
    assert seen["spec"].name == "mymoons" and seen["spec"].epochs == 3


def test_the_config_file_reaches_the_trainer_as_an_input(tmp_path, monkeypatch):
    """--config FILE is the spec and a file no save dialog may write over."""
    config = tmp_path / "run.toml"
    load_preset("quick").save(config)
    seen = {}

    def fake_run_trainer(spec, checkpoint, theme, record=True, config=None):
        seen["spec"], seen["config"] = spec, config
        return 0

    import miniframe.tui.__main__ as main_module

    monkeypatch.setattr(main_module, "run_trainer", fake_run_trainer)
    assert main(["--config", str(config)]) == 0
    assert seen["config"] == config and seen["spec"].name == "quick"


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs")
def test_a_fifo_as_config_does_not_block(tmp_path, capsys):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    assert "FIFO" in refused(capsys, "--config", str(fifo))
