"""The real ``python -m miniframe.tui`` process: it leaves promptly whenever its terminal goes
away or a signal asks it to, never prints a traceback for Ctrl-C, and quitting never waits
for a training batch.

Every case runs the trainer on a real pseudo-terminal (``pty_holder.py`` stands in for an
SSH server holding the master side), training, and waits for a condition (the process gone)
with a generous limit. The exit time is measured from the event and printed (``pytest -s``
shows it); the assertion allows 10 s, not the 3 s promised, because these machines are
shared and their speed varies several-fold: the typical figures are well under 3 s.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tui_helpers import tiny_spec

HOLDER = Path(__file__).with_name("pty_holder.py")
LIMIT_S = 10.0  # what the tests allow; the trainer's own bound is 3 s (tui/hangup.py)
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux ptys and /proc")


def alive(pid: int) -> bool:
    """Running (an exited zombie waiting to be reaped does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _screen(work: Path) -> str:
    """What the trainer has written to its terminal so far, escape codes and all (read while
    it writes: the last character may be cut mid-way, hence "replace")."""
    return (work / "output").read_bytes().decode("utf-8", "replace")


def wait_until(condition, timeout: float, what: str) -> float:
    """Seconds until ``condition()`` holds; AssertionError after ``timeout``."""
    t0 = time.monotonic()
    while not condition():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - t0


class Trainer:
    """The trainer on a terminal held by ``pty_holder.py`` (MODE: app, bash, noctty)."""

    def __init__(self, tmp_path: Path, mode: str, epochs: int = 10**6) -> None:
        self.dir = tmp_path / f"run-{mode}"
        self.dir.mkdir()
        config = self.dir / "run.toml"
        config.write_text(tiny_spec(epochs=epochs).to_toml())
        env = dict(os.environ, MINIFRAME_CONFIG_DIR=str(self.dir / "cfg"))
        self.holder = subprocess.Popen(
            [sys.executable, str(HOLDER), mode, str(self.dir), str(config)],
            env=env,
            start_new_session=True,
        )
        self.pid = 0

    def start_training(self) -> None:
        wait_until(lambda: (self.dir / "pid").exists(), 60, "the trainer to start")
        self.pid = int((self.dir / "pid").read_text())
        wait_until(lambda: (self.dir / "running").exists(), 60, "training to start")

    def output(self) -> str:
        return (self.dir / "output").read_bytes().decode("utf-8", "replace")

    def gone_within(self, limit: float, event: str, t0: float) -> float:
        """Wait for the trainer to be gone; seconds since ``t0`` (the event)."""
        wait_until(lambda: not alive(self.pid), limit, f"the trainer to exit after {event}")
        seconds = time.monotonic() - t0
        print(f"\n  {event}: the trainer was gone {seconds:.2f} s later")
        return seconds

    def close(self) -> None:
        for pid in (self.pid, self.holder.pid):
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.holder.wait(10)


@pytest.fixture
def trainers(tmp_path):
    started: list[Trainer] = []

    def start(mode: str) -> Trainer:
        trainer = Trainer(tmp_path, mode)
        started.append(trainer)
        trainer.start_training()
        return trainer

    yield start
    for trainer in started:
        trainer.close()


def test_ssh_client_killed(trainers) -> None:
    """The process holding the master side is SIGKILLed: the kernel hangs the terminal up
    and sends SIGHUP to the trainer (the session leader)."""
    trainer = trainers("app")
    t0 = time.monotonic()
    os.kill(trainer.holder.pid, signal.SIGKILL)
    assert trainer.gone_within(LIMIT_S, "SSH client killed", t0) < LIMIT_S


def test_pty_master_closed(trainers) -> None:
    trainer = trainers("app")
    t0 = time.monotonic()
    os.kill(trainer.holder.pid, signal.SIGUSR1)  # closes the master side
    trainer.gone_within(LIMIT_S, "pty master closed", t0)
    wait_until(lambda: (trainer.dir / "status").exists(), 10, "the exit status")
    assert (trainer.dir / "status").read_text() == "129"


def test_terminal_closed_without_a_sighup(trainers) -> None:
    """No controlling terminal, so no SIGHUP: only the hung-up terminal tells."""
    trainer = trainers("noctty")
    t0 = time.monotonic()
    os.kill(trainer.holder.pid, signal.SIGUSR1)
    trainer.gone_within(LIMIT_S, "pty closed, no SIGHUP", t0)


def test_parent_shell_killed_then_terminal_closed(trainers) -> None:
    """The orphan case: the shell that started the trainer is SIGKILLed (the terminal stops
    being the trainer's controlling terminal), then the master side goes away."""
    trainer = trainers("bash")
    shell = int(Path(f"/proc/{trainer.holder.pid}/task/{trainer.holder.pid}/children")
                .read_text().split()[0])  # fmt: skip
    t0 = time.monotonic()
    os.kill(shell, signal.SIGKILL)
    os.kill(trainer.holder.pid, signal.SIGUSR1)
    trainer.gone_within(LIMIT_S, "parent shell killed, then pty closed", t0)


def test_sighup(trainers) -> None:
    trainer = trainers("app")
    t0 = time.monotonic()
    os.kill(trainer.pid, signal.SIGHUP)
    trainer.gone_within(LIMIT_S, "SIGHUP", t0)


def test_sigterm_exits_143_and_restores_the_terminal(trainers) -> None:
    trainer = trainers("app")
    t0 = time.monotonic()
    os.kill(trainer.pid, signal.SIGTERM)
    trainer.gone_within(LIMIT_S, "SIGTERM", t0)
    wait_until(lambda: (trainer.dir / "status").exists(), 10, "the exit status")
    assert (trainer.dir / "status").read_text() == "143"
    assert "\x1b[?1049l" in trainer.output()  # left the alternate screen
    assert "Traceback" not in trainer.output()


# ---- Ctrl-C while starting, quitting mid-batch ------------------------------------------------
def _caught_signals(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return int(line.split()[1], 16)
    return 0


def test_ctrl_c_before_the_screen_and_while_torch_loads(tmp_path) -> None:
    """The real entry point: SIGINT as soon as it is caught (imports running), and SIGINT
    while torch loads in the background: 130, quietly, the terminal restored."""
    for when in ("importing", "torch loading"):
        work = tmp_path / when.replace(" ", "-")
        work.mkdir()
        config = work / "run.toml"
        config.write_text(tiny_spec().to_toml())
        env = dict(os.environ, MINIFRAME_CONFIG_DIR=str(work / "cfg"))
        holder = subprocess.Popen(
            [sys.executable, str(HOLDER), "app", str(work), str(config)], env=env,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_until(lambda: (work / "pid").exists(), 30, "the trainer to start")  # noqa: B023
            pid = int((work / "pid").read_text())
            wait_until(lambda: _caught_signals(pid) & (1 << (signal.SIGHUP - 1)), 30,  # noqa: B023
                       "the handlers")  # fmt: skip
            if when == "torch loading":
                wait_until(lambda: "Layers" in ANSI.sub("", _screen(work)),  # noqa: B023
                           30, "the first frame")  # fmt: skip
            t0 = time.monotonic()
            os.kill(pid, signal.SIGINT)
            wait_until(lambda: not alive(pid), LIMIT_S, f"exit after SIGINT ({when})")  # noqa: B023
            print(f"\n  SIGINT while {when}: gone {time.monotonic() - t0:.2f} s later")
            wait_until(lambda: (work / "status").exists(), 10, "the exit status")  # noqa: B023
            output = _screen(work)
            assert (work / "status").read_text() == "130", output[-2000:]
            assert "Traceback" not in output and "KeyboardInterrupt" not in output
            if when == "torch loading":
                assert "\x1b[?1049l" in output  # the terminal was restored
        finally:
            if holder.poll() is None:
                holder.kill()
            holder.wait(10)


def test_quit_during_a_long_batch_exits_at_once(tmp_path) -> None:
    """2-2048-2048-2 on 10,000 points in one batch: an epoch is one long batch (seconds).
    ctrl+q while it runs ends the process promptly (the app asks the worker to stop and
    never waits for it). Once "epoch 1/5" is on screen, the worker is in epoch 2's batch."""
    from miniframe.engine.spec import DataSpec, LayerSpec, RunSpec, SolverSpec

    spec = RunSpec(
        layers=[LayerSpec("linear", 2048), LayerSpec("relu"), LayerSpec("linear", 2048),
                LayerSpec("relu"), LayerSpec("linear", 2)],
        loss="cross-entropy", solver=SolverSpec(name="sgd", lr=0.01),
        data=DataSpec(name="disk", n_train=10_000, n_test=1000), init="he",
        epochs=5, batch_size=10_000, seed=0, name="big",
    )  # fmt: skip
    config = tmp_path / "big.toml"
    config.write_text(spec.to_toml())
    work = tmp_path / "big"
    work.mkdir()
    env = dict(os.environ, MINIFRAME_CONFIG_DIR=str(work / "cfg"))
    holder = subprocess.Popen(
        [sys.executable, str(HOLDER), "app", str(work), str(config)], env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_until(lambda: (work / "running").exists(), 120, "training to start")
        pid = int((work / "pid").read_text())
        wait_until(
            lambda: "epoch 1/5" in ANSI.sub("", _screen(work)),
            300,
            "the first epoch to end",
        )
        t0 = time.monotonic()
        _send_keys(work, b"\x11")
        wait_until(lambda: not alive(pid), LIMIT_S, "the trainer to quit mid-batch")
        print(f"\n  ctrl+q during a long batch: gone {time.monotonic() - t0:.2f} s later")
        wait_until(lambda: (work / "status").exists(), 10, "the exit status")
        assert (work / "status").read_text() == "0"
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)


def _send_keys(work: Path, keys: bytes) -> None:
    """Have the holder type ``keys`` into the terminal."""
    (work / "keys.tmp").write_bytes(keys)
    (work / "keys.tmp").rename(work / "keys")
    wait_until(lambda: not (work / "keys").exists(), 10, "the keys to be sent")
