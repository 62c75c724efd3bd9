"""What a file may hold that no setting means: an integer past Python's 4,300-digit conversion
limit (in a config, a preset, a checkpoint), a byte-order mark, a stored input transform that
a float32 model cannot use, two classes of one name; and where presets live: hidden files
are not presets, a read-only folder is one line. Each is one line and exit 2, never a
traceback."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from cli_helpers import bad_input, run

import miniframe.engine.checkpoint as ckpt
from miniframe.cli import main
from miniframe.engine import (
    CheckpointError,
    FileError,
    RunSpec,
    SpecError,
    inspect_checkpoint,
    list_presets,
    load_preset,
    save_user_preset,
)
from miniframe.engine.documents import DocumentError, load_json, load_toml

HUGE = "9" * 5000


T = ("train", "--epochs", "1", "--no-record")


# ---- 7. numbers beyond Python's conversion limit --------------------------------------------
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("units.toml", f'[[layers]]\nkind = "linear"\nunits = {HUGE}\n'),
        ("seed.toml", f"seed = {HUGE}\n"),
        ("lr.toml", f"[solver]\nlr = {HUGE}.5\n"),
        ("units.json", f'{{"layers": [{{"kind": "linear", "units": {HUGE}}}]}}'),
        ("epochs.json", f'{{"epochs": -{HUGE}, "layers": []}}'),
    ],
)
def test_a_huge_integer_in_a_config(capsys, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    line = bad_input(capsys, *T, "--config", path)
    assert str(path) in line and ("digits" in line or "must be" in line), line


def test_a_huge_integer_in_a_preset(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(tmp_path))
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "big.toml").write_text(f"epochs = {HUGE}\n")
    line = bad_input(capsys, *T, "--preset", "big")
    assert "big.toml" in line and "4,300 digits" in line
    with pytest.raises(SpecError, match="4,300 digits"):
        load_preset("big")


def resign(path: Path, edit) -> None:
    """Rewrite a checkpoint's metadata with ``edit(meta)`` and a correct checksum: what an
    adversary (or a buggy tool) could produce, which only the content checks can refuse."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    meta = header["__metadata__"]
    edit(meta)
    tensors = {
        k: body[e["data_offsets"][0] : e["data_offsets"][1]]
        for k, e in header.items()
        if k != "__metadata__"
    }
    meta["sha256"] = ckpt._checksum(meta["spec"], int(meta["epoch"]), tensors, meta.get("data"))
    new = json.dumps(header).encode()
    path.write_bytes(len(new).to_bytes(8, "little") + new + body)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ckpt")
    data = folder / "d.csv"
    data.write_text("a,b,kind\n" + "".join(f"{i % 5},{i % 3},{'xyz'[i % 3]}\n" for i in range(30)))
    path = folder / "m.safetensors"
    assert main([*T, "--preset", "quick", "--data", str(data), "--standardize",
                 "--batch-size", "4", "--save", str(path)]) == 0  # fmt: skip
    return path, data


@pytest.fixture
def copy(tmp_path, model) -> tuple[Path, Path]:
    path = tmp_path / "m.safetensors"
    path.write_bytes(model[0].read_bytes())
    return path, model[1]


def test_a_huge_integer_in_a_checkpoint(capsys, copy):
    path, data = copy

    def huge_units(meta):
        meta["spec"] = meta["spec"].replace('"units": 25', f'"units": {HUGE}', 1)

    resign(path, huge_units)
    with pytest.raises(CheckpointError, match="4,300 digits"):
        inspect_checkpoint(path)
    for argv in (("evaluate", path), ("predict", path, data)):
        line = bad_input(capsys, *argv)
        assert str(path) in line and "4,300 digits" in line


def test_a_huge_integer_in_a_checkpoints_header(capsys, tmp_path):
    header = f'{{"__metadata__": {{"format": "miniframe-checkpoint"}}, "x": {HUGE}}}'.encode()
    path = tmp_path / "h.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    line = bad_input(capsys, "evaluate", path)
    assert "corrupt header" in line and "4,300 digits" in line


def test_the_document_readers_say_what_is_wrong():
    for bad in (f"x = {HUGE}", "x = [" * 100_000, "x = ", "\ufeff\ufeffx = 1"):
        with pytest.raises(DocumentError):
            load_toml(bad)
    for bad in (HUGE, "[" * 100_000, "{", "\ufeff{}"):
        with pytest.raises(DocumentError):
            load_json(bad)
    assert load_toml("\ufeffx = 1") == {"x": 1}


# ---- 8. the stored input transform and classes ----------------------------------------------
def edit_data(change):
    def edit(meta):
        data = json.loads(meta["data"])
        change(data)
        meta["data"] = json.dumps(data)

    return edit


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d["transform"]["std"].__setitem__(0, 1e-300), r"std 1e-300 is not > 0 in float"),
        (lambda d: d["transform"]["std"].__setitem__(1, 1e-46), r"std 1e-46 is not > 0 in float32"),
        (lambda d: d["transform"]["std"].__setitem__(0, -2.0), r"std -2 is not > 0 in float32"),
        (lambda d: d["transform"]["std"].__setitem__(0, 1e39), r"std 1e\+39 is beyond float32"),
        (lambda d: d["transform"]["mean"].__setitem__(1, 5e38), r"mean 5e\+38 is beyond float32"),
        (lambda d: d["transform"]["mean"].__setitem__(0, -1e300), r"mean -1e\+300 is beyond"),
        (lambda d: d["shape"]["class_names"].__setitem__(2, "x"), r"class_names must be distinct"),
    ],
    ids=["std-1e-300", "std-subnormal", "std-negative", "std-huge", "mean-huge", "mean-1e300",
         "classes-twice"],
)  # fmt: skip
def test_a_resigned_checkpoint_with_an_unusable_transform(capsys, copy, change, match):
    path, data = copy
    resign(path, edit_data(change))
    with pytest.raises(CheckpointError, match=match):
        inspect_checkpoint(path)
    import re

    for argv in (("evaluate", path), ("evaluate", path, "--data", data), ("predict", path, data)):
        line = bad_input(capsys, *argv)
        assert re.search(match, line) and "corrupt data description" in line, line
    assert "no such file" in bad_input(capsys, "predict", path.with_name("nope.safetensors"), data)


def test_the_unedited_checkpoint_predicts(capsys, copy):
    path, data = copy
    resign(path, lambda meta: None)  # re-signing alone changes nothing
    code, out, err = run(capsys, "predict", path, data)
    assert code == 0, err
    assert "nan" not in out and out.splitlines()[0] == "a,b,kind,predicted,p_x,p_y,p_z"


# ---- 10. presets and files ------------------------------------------------------------------
@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(tmp_path))
    folder = tmp_path / "presets"
    folder.mkdir()
    return folder


def test_hidden_files_are_not_presets(capsys, config):
    spec = load_preset("quick").to_toml()
    for name in (".toml", ".mine.toml", ".#draft.toml"):
        (config / name).write_text(spec)
    (config / "mine.toml").write_text(spec)
    names = [p.name for p in list_presets()]
    assert "mine" in names and not any(n.startswith(".") or n == "" for n in names), names
    line = bad_input(capsys, *T, "--preset", ".toml")
    assert "unknown preset" in line and "'.toml'" in line


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_byte_order_mark_is_read(capsys, tmp_path, config, suffix):
    spec = load_preset("quick")
    text = spec.to_toml() if suffix == ".toml" else spec.to_json()
    path = tmp_path / f"bom{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert RunSpec.load(path) == spec
    code, _, err = run(capsys, *T, "--config", path)
    assert code == 0, err
    (config / "bom.toml").write_bytes(b"\xef\xbb\xbf" + spec.to_toml().encode())
    assert load_preset("bom").layers == spec.layers


def test_saving_a_preset_into_a_folder_that_refuses_is_one_file_error(config, monkeypatch):
    """A read-only folder (simulated: the tests may run as root, whom permissions do not
    stop): FileError naming the preset's file, not the temporary file the write went to."""
    import errno
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(config / ".x.toml.abc.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(FileError) as e:
        save_user_preset("mine", load_preset("quick"))
    message = str(e.value)
    assert message.startswith(str(config / "mine.toml")) and ".tmp" not in message
    assert "Permission denied" in message or "not writable" in message
    assert not (config / "mine.toml").exists()


def test_saving_a_preset_where_the_folder_cannot_be_made(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(blocker))
    with pytest.raises(FileError, match=r"presets/mine\.toml: (folder .* cannot be created|cannot "
                                         r"write \(Not a directory\))"):  # fmt: skip
        save_user_preset("mine", load_preset("quick"))


@pytest.mark.parametrize("flag", ["--seed", "--epochs", "--batch-size", "--data-seed"])
@pytest.mark.parametrize("sign", ["", "-"])
def test_a_huge_integer_flag_is_out_of_range(capsys, flag, sign):
    line = bad_input(capsys, *T, flag, sign + HUGE)
    assert "must be" in line and ("≤" if not sign else "≥") in line and len(line) < 200
