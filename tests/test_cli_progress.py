"""The progress bar of `reproduce`, `sweep` and `bench` on a real terminal (a pseudo-terminal
of the test's own, 80×24): it shows, ends at total/total, and changes nothing else; piped or
with --json there is no bar and no escape code, only the lines there always were.

Nothing here waits on time: each command runs to its end, and what its terminal received is
read until the terminal closes. The first and last frames are always drawn (rich draws one as
the bar starts and one as it stops); frames between them come and go with the host's speed,
so no test counts them.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from miniframe.cli.progress import wants_bar

ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
NUMBER = re.compile(rb"\d+(?:\.\d+)?")
#: Environment variables that would make rich or the CLI act otherwise than on a plain terminal.
RICH_ENV = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES", "TERM")

COMMANDS = {
    "sweep": (
        ["sweep", "--preset", "quick", "--epochs", "2", "--seeds", "2", "--replicas", "1",
         "--jobs", "2", "--no-record"],
        "2/2 runs",
    ),
    "reproduce": (
        ["reproduce", "--presets", "quick", "--seeds", "2", "--epochs", "2", "--jobs", "1",
         "--no-record"],
        "2/2 runs",
    ),
    "bench": (["bench", "--quick", "--presets", "vanilla", "--batch-sizes", "200"], "1/1 case"),
}  # fmt: skip


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in RICH_ENV}
    env["TERM"] = "xterm-256color"
    return env


def on_a_terminal(
    argv: list[str],
    stdout: Path,
    close_on: bytes | None = None,
    interrupt_on: bytes | None = None,
    timeout: float = 300.0,
) -> tuple[int, bytes]:
    """Run ``miniframe ARGV`` with stdin and stderr on a new 80×24 pseudo-terminal and stdout
    to the file ``stdout``; its exit status and every byte the terminal received. With
    ``close_on``, the terminal goes away (its master side closed) once those bytes arrive;
    with ``interrupt_on``, its process group gets SIGINT (Ctrl-C) then."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    with stdout.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "miniframe", *argv],
            stdin=slave,
            stdout=out,
            stderr=slave,
            env=environment(),
            start_new_session=True,  # no controlling terminal: closing it sends no SIGHUP
        )
    os.close(slave)
    received = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: no process holds the terminal any more
                break
            if not data:
                break
            received += data
            if interrupt_on is not None and interrupt_on in received:
                os.killpg(proc.pid, signal.SIGINT)
                interrupt_on = None
            if close_on is not None and close_on in received:
                os.close(master)
                master = -1
                break
        return proc.wait(timeout=max(1.0, deadline - time.monotonic())), received
    finally:
        if master >= 0:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def piped(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "miniframe", *argv],
        capture_output=True,
        env=environment(),
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def text(data: bytes) -> str:
    """What a reader sees of terminal output: escape codes gone, one \\n per line."""
    return ANSI.sub(b"", data).replace(b"\r\n", b"\n").replace(b"\r", b"\n").decode()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_bar_shows_on_a_terminal_and_changes_nothing_else(command, tmp_path):
    argv, final = COMMANDS[command]
    code, terminal = on_a_terminal(argv, tmp_path / "stdout")
    stdout = (tmp_path / "stdout").read_bytes()
    assert code == 0, text(terminal)
    seen = text(terminal)
    # The bar: its title, a bar, and at the end every item done.
    bars = [line for line in seen.splitlines() if line.startswith(f"{command} ") and "━" in line]
    assert bars, seen
    counts = re.findall(r"\d+/\d+ (?:runs?|cases?)\b", seen)
    assert counts and counts[-1] == final, seen
    assert "elapsed" in bars[-1] and "ETA" not in bars[-1], bars[-1]  # done: no estimate left
    assert b"\x1b[" in terminal  # drawn in place, with escape codes
    # Nothing else changes: stdout as piped (but for the timings), no escape code in it;
    # every line piped stderr gets is on the terminal too, above the bar.
    plain = piped(argv)
    assert plain.returncode == 0, plain.stderr.decode()
    assert b"\x1b" not in stdout and b"\x1b" not in plain.stdout and b"\x1b" not in plain.stderr
    assert NUMBER.sub(b"N", stdout) == NUMBER.sub(b"N", plain.stdout)
    lines = plain.stderr.decode().splitlines()
    assert lines and "━" not in plain.stderr.decode()
    if command == "sweep":  # on two worker processes, said in agreeing numbers
        assert "training 2 tasks of up to 1 seed in 2 processes" in lines
        assert b"(local, 2 worker processes)" in stdout
    masked = NUMBER.sub(b"N", text(terminal).encode()).decode()
    for line in lines:
        assert NUMBER.sub(b"N", line.encode()).decode() in masked, (line, seen)


def test_json_output_gets_no_bar_even_on_a_terminal(tmp_path):
    argv = ["bench", "--quick", "--presets", "vanilla", "--batch-sizes", "200",
            "--json", str(tmp_path / "bench.json")]  # fmt: skip
    code, terminal = on_a_terminal(argv, tmp_path / "stdout")
    assert code == 0, text(terminal)
    assert terminal.replace(b"\r\n", b"\n") == b"bench: vanilla batch 200\n"
    assert b"\x1b" not in (tmp_path / "bench.json").read_bytes()


def test_a_terminal_that_goes_away_does_not_fail_the_command(tmp_path):
    """The terminal closes while the bar shows: the bar falls silent, the sweep ends, its
    table is written, exit 0 (no traceback from the bar's refresh thread)."""
    argv = ["sweep", "--preset", "quick", "--epochs", "30", "--seeds", "2", "--jobs", "1",
            "--no-record"]  # fmt: skip
    code, terminal = on_a_terminal(argv, tmp_path / "stdout", close_on="━".encode())
    assert "━".encode() in terminal
    assert code == 0
    stdout = (tmp_path / "stdout").read_text()
    assert stdout.startswith("| seeds | train acc % |") and "2 runs in " in stdout


def test_ctrl_c_while_the_bar_shows(tmp_path):
    """Ctrl-C: the bar's last frame, the cursor shown again, one line, exit 130."""
    argv = ["reproduce", "--presets", "quick", "--seeds", "2", "--epochs", "1000", "--jobs",
            "1", "--no-record"]  # fmt: skip
    code, terminal = on_a_terminal(argv, tmp_path / "stdout", interrupt_on="━".encode())
    assert code == 130, text(terminal)
    assert terminal.rfind(b"\x1b[?25h") > terminal.rfind(b"\x1b[?25l") >= 0  # cursor back
    assert text(terminal).rstrip().endswith("\ninterrupted") and "Traceback" not in text(terminal)
    assert (tmp_path / "stdout").read_bytes() == b""  # no table for an interrupted run


def test_rich_is_loaded_only_for_a_bar():
    """Piped, the command never imports rich: start-up stays as light as it was."""
    script = (
        "import sys\n"
        "from miniframe.cli import main\n"
        "code = main(['sweep', '--preset', 'quick', '--epochs', '1', '--seeds', '1', "
        "'--jobs', '1', '--no-record'])\n"
        "print('RICH' if 'rich' in sys.modules else 'NO RICH', code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
        env=environment(), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "NO RICH 0", done.stderr


class _Stream:
    def __init__(self, tty: bool, closed: bool = False) -> None:
        self.tty, self.closed = tty, closed

    def isatty(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self.tty


def test_when_a_bar_is_wanted(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    args = argparse.Namespace()
    assert wants_bar(args, _Stream(tty=True))
    assert not wants_bar(args, _Stream(tty=False))  # piped or redirected
    assert not wants_bar(args, _Stream(tty=True, closed=True))
    assert not wants_bar(argparse.Namespace(json=True), _Stream(tty=True))
    assert not wants_bar(argparse.Namespace(json=Path("out.json")), _Stream(tty=True))
    monkeypatch.setenv("TERM", "dumb")  # cannot redraw a line in place
    assert not wants_bar(args, _Stream(tty=True))
