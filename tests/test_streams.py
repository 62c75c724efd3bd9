"""Standard output that goes away: closed early (``| head -1``) or full (``> /dev/full``). No
traceback; the run being recorded ends ``interrupted``, not ``failed``; the exit status of a
broken pipe (141), quietly when the reader left, with one line when the device refused."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from miniframe.cli import main
from miniframe.cli.streams import EXIT_BROKEN_PIPE

MINIFRAME = [sys.executable, "-m", "miniframe"]
LONG = ["train", "--preset", "quick", "--epochs", "100000", "--every", "1"]


def statuses(data: Path) -> list[str]:
    with sqlite3.connect(data / "runs.sqlite3") as db:
        return [s for (s,) in db.execute("SELECT status FROM runs ORDER BY id")]


def start(argv: list[str], data: Path, **kw) -> subprocess.Popen[bytes]:
    env = dict(os.environ, MINIFRAME_DATA_DIR=str(data))
    return subprocess.Popen([*MINIFRAME, *argv], env=env, stderr=subprocess.PIPE, **kw)


@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_a_reader_that_leaves(tmp_path, json):
    """`miniframe train … | head -1`: the first line read, the pipe closed."""
    proc = start([*LONG, *(["--json"] if json else [])], tmp_path, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    assert first  # a line came, then the reader leaves
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE, err
    assert err == "", err  # quiet: the reader leaving is no error
    assert statuses(tmp_path) == ["interrupted"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "argv",
    [LONG, [*LONG, "--json"], ["runs", "list"]],
    ids=["train", "train-json", "runs-list"],
)
def test_a_full_device(tmp_path, argv):
    """`… > /dev/full`: every write fails (ENOSPC): one line, the broken pipe's status."""
    if argv[0] == "runs":  # something to list
        subprocess.run([*MINIFRAME, "train", "--epochs", "1"], check=True, capture_output=True,
                       env=dict(os.environ, MINIFRAME_DATA_DIR=str(tmp_path)))  # fmt: skip
    with open("/dev/full", "wb") as full:
        proc = start(argv, tmp_path, stdout=full)
        _, err_bytes = proc.communicate(timeout=120)
    err = err_bytes.decode()
    assert proc.returncode == EXIT_BROKEN_PIPE, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "cannot write the output (No space left on device)" in lines[0]
    if argv[0] == "train":
        assert statuses(tmp_path) == ["interrupted"]


class Refusing(io.StringIO):
    """A stdout that takes ``after`` writes, then fails as ``error`` says."""

    def __init__(self, error: int, after: int) -> None:
        super().__init__()
        self.error, self.left = error, after

    def write(self, text: str) -> int:
        if self.left <= 0:
            raise OSError(self.error, os.strerror(self.error))
        self.left -= 1
        return super().write(text)


@pytest.mark.parametrize("error", [errno.EPIPE, errno.ENOSPC, errno.EIO])
@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--preset", "quick", "--epochs", "50", "--every", "1"],
        ["sweep", "--preset", "quick", "--epochs", "2", "--seeds", "2", "--jobs", "1"],
        ["runs", "list"],
    ],
    ids=["train", "sweep", "runs"],
)
def test_every_command_ends_the_same_way(monkeypatch, capsys, error, argv):
    """In-process: whichever command, whichever write error; a run it recorded is
    ``interrupted`` (a sweep's runs had all finished when its table was printed)."""
    from miniframe.runs import RunStore

    assert main(["train", "--epochs", "1"]) == 0
    capsys.readouterr()
    with RunStore.open() as store:
        before = store.runs()[-1].id
    monkeypatch.setattr(sys, "stdout", Refusing(error, after=0 if argv[0] == "runs" else 2))
    code = main(argv)
    err = capsys.readouterr().err
    assert code == EXIT_BROKEN_PIPE and "Traceback" not in err
    said = [line for line in err.splitlines() if "cannot write the output" in line]
    assert len(said) == (0 if error == errno.EPIPE else 1), err
    with RunStore.open() as store:
        new = [r.status for r in store.runs() if r.id > before]
    expected = {"train": ["interrupted"], "sweep": ["finished", "finished"], "runs": []}
    assert new == expected[argv[0]]
