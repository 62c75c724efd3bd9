"""A sweep refuses at once what it cannot or need not do: more runs than the limit (before
building any spec: a grid of a million points is refused in no time), a grid key or a flag
that the chosen data ignore (every point would train the same thing). And a Ctrl-C while a
worker is being started waits for the start: no half-started worker prints a traceback."""

from __future__ import annotations

import os
import signal
import time

import pytest
from cli_helpers import bad_input

from miniframe.cli import main
from miniframe.sweep.grid import parse_grid
from miniframe.sweep.local import signals_deferred


def values(n: int, scale: float = 1e-6) -> str:
    return ",".join(f"{scale * (i + 1):.9g}" for i in range(n))


S = ("sweep", "--preset", "quick", "--epochs", "1", "--no-record")


@pytest.mark.parametrize(
    "grid",
    [
        [f"lr={values(1000)}", f"momentum={values(1000, 1e-4)}"],  # 10^6 points
        [f"lr={values(100)}", f"momentum={values(100, 1e-3)}", f"weight_decay={values(100)}"],
        [f"lr={values(200_000)}"],  # one key past the limit alone
        [f"lr={values(10_000)}"],  # at the limit, × 5 seeds past it
    ],
    ids=["1000x1000", "100^3", "one-key-200k", "10k-x-5-seeds"],
)
def test_a_grid_past_the_run_limit_is_refused_at_once(capsys, grid):
    t0 = time.process_time()
    line = bad_input(capsys, *S, *(f"--grid={g}" for g in grid))
    took = time.process_time() - t0
    assert "runs; the limit is 10000" in line
    # a bound, not a timing: building 10^6 specs took minutes; parsing the values is all
    assert took < 60, took


def test_parsing_many_values_is_linear():
    """Duplicates are found with a set: 10,000 distinct values parse in one pass."""
    grid = parse_grid([f"lr={values(10_000)}"])
    assert len(grid["solver.lr"]) == 10_000
    with pytest.raises(ValueError, match="listed twice"):
        parse_grid([f"lr={values(5000)},1e-06"])


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,c\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40)))
    return path


@pytest.mark.parametrize(
    ("grid", "word"),
    [("noise=0,0.1", "noise"), ("n_train=100,200", "n_train"), ("n_test=50,60", "n_test"),
     ("classes=3,4", "classes")],
)  # fmt: skip
def test_a_grid_key_csv_data_ignore(capsys, data, grid, word):
    line = bad_input(capsys, *S, "--data", data, "--grid", grid)
    assert line.startswith(f"miniframe sweep: error: --grid {word}=…:"), line


@pytest.mark.parametrize(
    ("grid", "word"), [("test_fraction=0.2,0.3", "test_fraction"), ("classes=2,3", "classes")]
)
def test_a_grid_key_generated_data_ignore(capsys, grid, word):
    line = bad_input(capsys, *S, "--dataset", "disk", "--grid", grid)
    assert f"--grid {word}=…:" in line


@pytest.mark.parametrize("command", ["train", "sweep"])
@pytest.mark.parametrize(
    ("flags", "word"),
    [(("--noise", "0.1"), "--noise 0.1"), (("--classes", "3"), "--classes 3")],
)
def test_a_flag_csv_data_ignore(capsys, data, command, flags, word):
    line = bad_input(capsys, command, "--preset", "quick", "--epochs", "1", "--no-record",
                     "--data", data, *flags)  # fmt: skip
    assert f"error: {word}:" in line


def test_a_flag_generated_data_ignore(capsys, data):
    line = bad_input(capsys, "train", "--epochs", "1", "--test-fraction", "0.3")
    assert "--test-fraction 0.3: test_fraction is for CSV data" in line
    line = bad_input(capsys, "train", "--epochs", "1", "--data", data, "--test-data", data,
                     "--test-fraction", "0.3")  # fmt: skip
    assert "the test set is the --test-data file" in line


def test_keys_the_data_read_still_sweep(capsys, data):
    code = main([*S, "--data", str(data), "--grid", "test_fraction=0.2,0.3", "--seeds", "1",
                 "--batch-size", "8", "--jobs", "1"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and out.count("| 0.") >= 2


# ---- a signal while a worker starts ---------------------------------------------------------
def test_a_signal_in_a_deferred_block_acts_as_it_ends():
    reached = []
    with pytest.raises(KeyboardInterrupt), signals_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the signal has arrived; nothing happens yet
            pass
        reached.append("end of block")
    assert reached == ["end of block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_while_a_worker_starts(capsys, monkeypatch):
    """SIGINT lands inside Process.start (after the process exists, before its start-up data
    are written): the worker still starts whole, then the sweep ends interrupted, its workers
    gone, and nothing but 'interrupted' is said."""
    import multiprocessing.process as mp_process

    start = mp_process.BaseProcess.start
    started = []

    def start_then_signal(self):
        start(self)
        if not started:
            os.kill(os.getpid(), signal.SIGINT)  # in the middle of starting the workers
        started.append(self)

    monkeypatch.setattr(mp_process.BaseProcess, "start", start_then_signal)
    code = main(["sweep", "--preset", "quick", "--epochs", "100000", "--seeds", "2",
                 "--replicas", "1", "--jobs", "2", "--no-record"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 130 and err.strip().splitlines()[-1] == "interrupted", err
    assert "Traceback" not in err
    for proc in started:
        proc.join(10)
        assert not proc.is_alive() and proc.exitcode is not None
