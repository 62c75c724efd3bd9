"""`miniframe reproduce`: the numbers are the lone runs', and no worker process outlives the run,
whichever way it ends (SIGTERM, SIGINT to the parent alone, SIGKILL of the parent)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from miniframe.engine import LayerSpec, Run, load_preset
from miniframe.reproduce import reproduce, train_seeds
from miniframe.runs import Recording, RunStore


def small(spec, n=50):
    import dataclasses

    return spec.replace(data=dataclasses.replace(spec.data, n_train=n, n_test=n))


def test_reproduce_equals_lone_runs_and_prints_table():
    spec = load_preset("vanilla")
    result = reproduce(2, presets=("vanilla",), jobs=1, epochs=1)
    assert set(result.per_seed) == {"vanilla"}
    for seed in (0, 1):
        (last,) = Run(spec.replace(seed=seed)).fit(1)
        assert result.per_seed["vanilla"][seed] == pytest.approx((last.train_acc, last.test_acc))
    text = result.markdown()
    assert "| vanilla | 2 | 1 |" in text and "±" in text and "83.8" in text and "80.3" in text
    assert result.wall_seconds > 0


def test_unsupported_layers_fall_back_to_lone_runs():
    spec = small(load_preset("vanilla"))
    spec.layers.insert(1, LayerSpec("dropout", p=0.2))
    out = train_seeds(spec, [0, 1], epochs=1)
    for seed in (0, 1):
        (last,) = Run(spec.replace(seed=seed)).fit(1)
        assert out[seed] == (last.train_acc, last.test_acc)


def test_workers_return_the_same_numbers():
    """Two spawned workers (one per preset) give what training in this process gives."""
    specs = {"a": small(load_preset("vanilla")), "b": small(load_preset("quick"))}
    here = reproduce(2, presets=specs, jobs=1, epochs=1)
    there = reproduce(2, presets=specs, jobs=2, epochs=1)
    assert there.jobs == 2 and there.per_seed == here.per_seed


def test_reproduce_is_recorded_as_a_sweep(tmp_path):
    rec = Recording.open(path=tmp_path / "runs.sqlite3")
    result = reproduce(3, presets={"a": small(load_preset("vanilla"))}, jobs=1, epochs=2,
                       recording=rec, replicas=2)  # fmt: skip
    with RunStore.open(tmp_path / "runs.sqlite3") as store:
        sweep = store.sweep(result.sweep_id)
        assert (sweep.name, sweep.grid, sweep.status) == (
            "reproduce",
            {"preset": ["a"]},
            "finished",
        )
        runs = store.runs(sweep_id=result.sweep_id)
        assert [(r.source, r.seed, r.epochs) for r in runs] == [
            ("reproduce", s, 2) for s in range(3)
        ]
        assert [r.final["test_acc"] for r in runs] == [result.per_seed["a"][s][1] for s in range(3)]
    assert f"Recorded as sweep {result.sweep_id}" in result.markdown()


def test_reproduce_rejects_no_seeds():
    with pytest.raises(ValueError):
        reproduce(0)


# ---- no process outlives the run ---------------------------------------------------------
def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, None if gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    state, ppid = text[text.rindex(")") + 2 :].split()[:2]
    return None if state in "ZX" else (state, int(ppid))


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and st[1] == pid:
                found.add(int(entry))
    return found


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until true; the seconds it took. Fails after ``timeout``."""
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - t0


def start_reproduce(data: Path) -> tuple[subprocess.Popen[str], set[int]]:
    """A long reproduce run recording into ``data``, once its two workers and the resource
    tracker are up."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "miniframe", "reproduce", "--seeds", "2", "--epochs", "100000",
         "--presets", "vanilla", "deep"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, MINIFRAME_DATA_DIR=str(data)),
    )  # fmt: skip
    wait_until(lambda: len(children(proc.pid)) >= 3, 120, "two workers and the resource tracker")
    return proc, children(proc.pid)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the workers")
@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGTERM, 143, "miniframe reproduce: terminated"),
        (signal.SIGINT, 130, "interrupted"),
        (signal.SIGKILL, -9, None),
    ],
    ids=["SIGTERM", "SIGINT-to-parent-alone", "SIGKILL"],
)
def test_a_signal_to_the_parent_ends_every_worker(signum, code, line, tmp_path):
    """…and its recorded runs end interrupted: marked by the parent for SIGTERM and SIGINT, on
    the next open of the history for SIGKILL."""
    proc, kids = start_reproduce(tmp_path)
    try:
        t0 = time.monotonic()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)  # the workers hold its stderr open until they go
        assert proc.returncode == code, err
        if line is not None:
            assert err.strip().splitlines()[-1] == line and "Traceback" not in err
        wait_until(lambda: all(_stat(k) is None for k in kids), 15, "the workers and tracker")
        took = time.monotonic() - t0
        print(f"{signal.Signals(signum).name}: parent, 2 workers and tracker gone in {took:.2f} s")
        with sqlite3.connect(tmp_path / "runs.sqlite3") as db:
            raw = {s for (s,) in db.execute("SELECT status FROM runs")}
        assert raw == ({"running"} if signum == signal.SIGKILL else {"interrupted"})
        with RunStore.open(tmp_path / "runs.sqlite3") as store:
            runs = store.runs()
            assert len(runs) == 4 and {r.status for r in runs} == {"interrupted"}
            assert store.sweep(runs[0].sweep_id).status == "interrupted"
    finally:
        proc.kill()
        proc.wait()
        for k in kids:
            if _stat(k) is not None:
                os.kill(k, signal.SIGKILL)
