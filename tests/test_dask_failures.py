"""A Dask sweep never hangs silently and never ends in a traceback: a malformed --scheduler is
one line (exit 2) before anything connects; a port that accepts but never speaks, a scheduler
without workers, the only worker lost mid-sweep are one line within --dask-wait seconds (exit
1, the runs ended); Ctrl-C prints "interrupted", no CommClosedError.

The schedulers and workers are started here, on 127.0.0.1 with ports the OS picks, and ended
by their process ids."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from miniframe.cli import main

DASK = str(Path(sys.executable).parent / "dask")
TIMEOUT = 120  # a bound on a failure, never a pause: every wait below ends on a condition
SWEEP = ["sweep", "--preset", "quick", "--seeds", "1", "--backend", "dask"]


def wait_until(condition, what: str, timeout: float = TIMEOUT) -> None:
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)


def end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(TIMEOUT)


class Cluster:
    """A scheduler (and workers) of this test's own, ended by their pids."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        file = folder / "scheduler.json"
        self.scheduler = subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.workers: list[subprocess.Popen] = []

        def address() -> str | None:
            try:
                return json.loads(file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                return None

        wait_until(lambda: address() is not None, "the scheduler's address")
        self.address = address()

    def add_worker(self) -> subprocess.Popen:
        worker = subprocess.Popen(
            [DASK, "worker", self.address, "--nthreads", "1", "--no-nanny", "--host",
             "127.0.0.1", "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.workers.append(worker)
        from distributed import Client

        with Client(self.address, timeout=TIMEOUT) as client:
            client.wait_for_workers(len(self.workers), timeout=TIMEOUT)
        return worker

    def busy(self) -> bool:
        """Whether a worker is running a task now."""
        from distributed import Client

        with Client(self.address, timeout=TIMEOUT) as client:
            return any(client.processing().values())

    def close(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            end(proc)


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def statuses(data: Path) -> list[str]:
    with sqlite3.connect(data / "runs.sqlite3") as db:
        return [s for (s,) in db.execute("SELECT status FROM runs ORDER BY id")]


def sweep(data: Path, *argv: str, **kw) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "miniframe", *SWEEP, *argv],
        env=dict(os.environ, MINIFRAME_DATA_DIR=str(data)), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kw,
    )  # fmt: skip


def one_line_failure(proc: subprocess.Popen[str]) -> str:
    """Exit 1 and a last stderr line that is the error, no traceback."""
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "CommClosedError" not in err, err
    return err.strip().splitlines()[-1]


# ---- the address's form ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("foo://127.0.0.1:8786", "unknown scheme 'foo'"),
        ("inproc://127.0.0.1/1", "unknown scheme 'inproc'"),
        ("tcp://127.0.0.1:abc", "port 'abc' is not a number"),
        ("tcp://127.0.0.1:99999", "port 99999 is not in 1…65535"),
        ("tcp://127.0.0.1", "no port"),
        ("tcp://:8786", "no host"),
        ("tcp://", "no host"),
        ("[::1", "IPv6 host without its closing bracket"),
        ("tcp://::1:8786", "IPv6 host needs brackets"),
        ("tcp://[nope]:1", "'nope' is not an IPv6 address"),
        ("tcp://a b:1", "is not a host name or address"),
        ("   ", "empty address"),
    ],
)
def test_a_malformed_scheduler_address(capsys, address, says):
    for command in (SWEEP, ["reproduce", "--seeds", "1", "--backend", "dask"]):
        code = main([*command, "--scheduler", address, "--no-record"])
        out, err = capsys.readouterr()
        assert code == 2, (out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err and says in lines[0], err


def test_a_well_formed_address_is_normalised():
    from miniframe.sweep.cluster import scheduler_address

    assert scheduler_address("10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert scheduler_address(" tls://[::1]:08786 ") == "tls://[::1]:8786"
    assert scheduler_address("tcp://node-3.cluster.local:1") == "tcp://node-3.cluster.local:1"


# ---- nobody there -----------------------------------------------------------------------------
def test_a_port_that_accepts_but_never_speaks(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        proc = sweep(tmp_path, "--scheduler", f"tcp://127.0.0.1:{port}", "--dask-wait", "1")
        line = one_line_failure(proc)
        assert f"--scheduler tcp://127.0.0.1:{port}: no answer after 1 s" in line
    finally:
        stop.set()
        thread.join(TIMEOUT)
        for conn in held:
            conn.close()
        server.close()
    assert statuses(tmp_path) == ["failed"]


def test_a_scheduler_without_workers(tmp_path, cluster):
    proc = sweep(tmp_path, "--scheduler", cluster.address, "--dask-wait", "2")
    assert one_line_failure(proc) == "miniframe sweep: error: no Dask workers after 2 s"
    assert statuses(tmp_path) == ["failed"]


def test_the_only_worker_lost_mid_sweep(tmp_path, cluster):
    worker = cluster.add_worker()
    proc = sweep(tmp_path, "--epochs", "100000", "--scheduler", cluster.address,
                 "--dask-wait", "2")  # fmt: skip
    try:
        wait_until(cluster.busy, "the task to start on the worker")
        worker.kill()
        line = one_line_failure(proc)
    finally:
        end(proc)
    assert line == "miniframe sweep: error: no Dask workers for 2 s with 1 task left"
    assert statuses(tmp_path) == ["failed"]


def test_ctrl_c_during_a_dask_sweep(tmp_path, cluster):
    cluster.add_worker()
    proc = sweep(tmp_path, "--epochs", "100000", "--scheduler", cluster.address)
    try:
        wait_until(cluster.busy, "the task to start on the worker")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        end(proc)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in err and "CommClosedError" not in err, err
    assert statuses(tmp_path) == ["interrupted"]


@pytest.mark.slow
@pytest.mark.parametrize("when", ["starting", "training"])
def test_ctrl_c_to_a_local_cluster_sweep(tmp_path, when):
    """A terminal's Ctrl-C reaches the whole process group: the sweep and its LocalCluster's
    worker processes, while they start (importing) or while they train."""
    proc = sweep(tmp_path, "--epochs", "100000", "--seeds", "2", "--replicas", "1", "--jobs", "2")
    try:
        if when == "starting":
            assert proc.stderr is not None
            wait_until(lambda: "starting a Dask LocalCluster" in proc.stderr.readline(),
                       "the cluster to start")  # fmt: skip
        else:
            wait_until(lambda: (tmp_path / "runs.sqlite3").exists(), "the history")
            wait_until(lambda: len(_children(proc.pid)) >= 2, "the worker processes")
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        end(proc)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in err and "CommClosedError" not in err, err
    assert set(statuses(tmp_path)) == {"interrupted"}


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]
