"""The run history when it is out of reach for a while, or asked for what it cannot hold: a
write that waits past the busy timeout is retried until the run ends (a run that finished is
recorded finished, with every epoch); ids beyond SQLite's integer range are one line."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cli_helpers import bad_input

import miniframe.runs.recording as recording_mod
import miniframe.runs.store as store_mod
from miniframe.cli import main
from miniframe.engine import load_preset
from miniframe.runs import Recording, RunStore, database_path

# ---- ids ------------------------------------------------------------------------------------
BEYOND = ["9223372036854775808", "99999999999999999999", "1" + "0" * 40, "9" * 5000]


@pytest.mark.parametrize("id_", BEYOND, ids=["2**63", "1e20", "1e40", "5000-digits"])
@pytest.mark.parametrize(
    "argv",
    [
        ["runs", "show", "{}"],
        ["runs", "rm", "1", "{}"],
        ["runs", "export", "{}", "--csv", "out.csv"],
        ["runs", "compare", "1", "{}"],
        ["runs", "list", "--sweep", "{}"],
        ["runs", "show", "{}", "--spec"],
    ],
    ids=["show", "rm", "export", "compare", "list-sweep", "show-spec"],
)
def test_an_id_beyond_sqlites_integers(capsys, tmp_path, argv, id_):
    argv = [a.replace("out.csv", str(tmp_path / "out.csv")).format(id_) for a in argv]
    line = bad_input(capsys, *argv)
    assert "id must be ≤ 9223372036854775807" in line and len(line) < 200, line
    assert not (tmp_path / "out.csv").exists()


def test_the_largest_id_is_looked_up(capsys):
    line = bad_input(capsys, "runs", "show", str(2**63 - 1))
    assert f"no run {2**63 - 1}" in line


# ---- a busy history -----------------------------------------------------------------------------
class Holder:
    """Another connection that holds the history exclusively: no write gets through."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.held = False

    def hold(self) -> None:
        self.db.execute("BEGIN EXCLUSIVE")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.db.execute("COMMIT")
            self.held = False

    def close(self) -> None:
        self.release()
        self.db.close()


@pytest.fixture
def quick_busy(monkeypatch):
    """A busy timeout of 0.2 s instead of 30 (a write gives up waiting at once, in tests)."""
    monkeypatch.setattr(store_mod, "BUSY_SECONDS", 0.2)


def epoch(n: int, status: str = "running") -> dict:
    return {"epoch": n, "epochs": 5, "train_loss": 1.0 / n, "train_acc": 50.0 + n,
            "test_loss": 1.1 / n, "test_acc": 49.0 + n, "status": status}  # fmt: skip


def test_writes_wait_for_a_busy_history_and_land_in_order(tmp_path, quick_busy):
    path = tmp_path / "runs.sqlite3"
    warnings: list[str] = []
    rec = Recording.open(warn=warnings.append, path=path)
    run = rec.run(load_preset("quick"))
    holder = Holder(path)
    holder.hold()
    for n in range(1, 6):
        run.epoch(epoch(n, "finished" if n == 5 else "running"))
    run.finish()
    assert rec.active and rec.waiting == 6  # five epochs and the end, in order
    assert len(warnings) == 1 and "busy" in warnings[0] and "retried" in warnings[0]
    closing = threading.Thread(target=rec.close)  # the end of the run waits for the history
    closing.start()
    closing.join(0.5)
    assert closing.is_alive() or not holder.held  # it waits while the lock is held…
    holder.release()
    closing.join(60)
    assert not closing.is_alive()
    holder.close()
    with RunStore.open(path) as store:
        record = store.run(run.run_id)
        assert record.status == "finished" and record.epochs == 5
        assert [e["epoch"] for e in store.epochs(run.run_id)] == [1, 2, 3, 4, 5]
        assert record.final is not None and record.final["test_acc"] == 54.0
    assert len(warnings) == 1


def test_a_history_busy_for_good_gives_up_in_one_line(tmp_path, quick_busy, monkeypatch):
    monkeypatch.setattr(recording_mod, "SETTLE_SECONDS", 0.5)
    path = tmp_path / "runs.sqlite3"
    warnings: list[str] = []
    rec = Recording.open(warn=warnings.append, path=path)
    run = rec.run(load_preset("quick"))
    holder = Holder(path)
    holder.hold()
    run.epoch(epoch(1))
    run.finish()
    rec.close()
    holder.close()
    assert len(warnings) == 2 and "stopped recording" in warnings[1], warnings
    assert "still busy" in warnings[1] and "2 writes not done" in warnings[1]


def hold_after_the_run_starts(monkeypatch, path: Path) -> Holder:
    """Take the history away once the run(s) are in it; give it back when the run's end waits
    for it (what each way round leaves is the same: the waiting path is what is tested)."""
    holder = Holder(path)
    start_run, start_runs = Recording.start_run, Recording.start_runs
    settle = Recording.settle

    def started(self, *args, **kwargs):
        value = start_run(self, *args, **kwargs)
        holder.hold()
        return value

    def started_many(self, *args, **kwargs):
        value = start_runs(self, *args, **kwargs)
        holder.hold()
        return value

    def settling(self, *args, **kwargs):
        if self.waiting:
            threading.Timer(0.3, holder.release).start()  # while it waits
        return settle(self, *args, **kwargs)

    monkeypatch.setattr(Recording, "start_run", started)
    monkeypatch.setattr(Recording, "start_runs", started_many)
    monkeypatch.setattr(Recording, "settle", settling)
    return holder


@pytest.mark.parametrize(
    ("argv", "runs", "epochs"),
    [
        (["train", "--preset", "quick", "--epochs", "12"], 1, 12),
        (["sweep", "--preset", "quick", "--epochs", "3", "--seeds", "2", "--jobs", "1"], 2, 3),
    ],
    ids=["train", "sweep"],
)
def test_a_command_whose_history_was_busy_records_everything(
    capsys, quick_busy, monkeypatch, argv, runs, epochs
):
    with RunStore.open() as store:
        before = max((r.id for r in store.runs()), default=0)
    holder = hold_after_the_run_starts(monkeypatch, database_path())
    try:
        code = main(argv)
    finally:
        holder.close()
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.count("the run history is busy") == 1 and "stopped recording" not in err, err
    with RunStore.open() as store:
        new = [r for r in store.runs() if r.id > before]
    assert [r.status for r in new] == ["finished"] * runs
    assert [r.epochs for r in new] == [epochs] * runs


@pytest.mark.slow
def test_a_long_exclusive_lock_from_another_process(tmp_path):
    """The case seen: once a 400-epoch run is recording, another process holds the history
    exclusively for 40 s, longer than the busy timeout (30 s, unchanged here). The run ends
    finished, with every epoch, not ``running`` with 2."""
    env = dict(os.environ, MINIFRAME_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "miniframe", "train", "--epochs", "400", "--every", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    locker = None
    try:
        assert proc.stdout is not None
        while "epoch   2/400" not in proc.stdout.readline():
            pass  # recording: the run and its first epochs are in the history
        locker = subprocess.Popen(
            [sys.executable, "-c", "import sqlite3, sys, time\n"
             "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
             "db.execute('BEGIN EXCLUSIVE'); time.sleep(40); db.execute('COMMIT')",
             str(tmp_path / "runs.sqlite3")],
        )  # fmt: skip
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert "stopped recording" not in err
    finally:
        for p in (proc, locker):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    with RunStore.open(tmp_path / "runs.sqlite3") as store:
        last = store.runs()[-1]
    assert last.status == "finished" and last.epochs == 400
