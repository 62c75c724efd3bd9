"""Stand-in for an SSH server: holds a pseudo-terminal's master side, runs the trainer on it.

``python pty_holder.py MODE WORKDIR CONFIG`` forks a child in a new session on the
terminal's slave side and runs ``python -m miniframe.tui --config CONFIG`` there:

- ``app``: the trainer is the session leader and the terminal is its controlling terminal
  (as a login shell's ``exec miniframe-tui``);
- ``bash``: a bash is the session leader and runs the trainer as its child (as a shell);
- ``noctty``: the trainer is in a new session without a controlling terminal, so no SIGHUP
  can reach it, only the hung-up terminal.

The terminal is 80×24 (HOLDER_SIZE=120x40 in the environment changes it). It writes into
WORKDIR: ``pid`` (the trainer's pid, once known), ``output`` (everything
the terminal shows, raw), ``running`` once the trainer trains (it presses ``t`` when torch
is loaded), and ``status`` (the trainer's exit status, when it is its child). SIGUSR1 makes
it close the master side (the terminal goes away) and carry on; SIGKILL is the SSH client
killed.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def main() -> None:
    mode, workdir, config = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    master, slave = pty.openpty()
    cols, rows = (int(n) for n in os.environ.get("HOLDER_SIZE", "80x24").split("x"))
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    app = [sys.executable, "-m", "miniframe.tui", "--config", config]
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if mode != "noctty":
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.close(slave)
        os.environ["TERM"] = "xterm-256color"
        if mode == "bash":
            script = " ".join(app) + "; true"  # not the last command: bash stays the parent
            os.execvp("bash", ["bash", "-c", script])
        os.execv(app[0], app)
    os.close(slave)
    app_pid = pid if mode != "bash" else None
    closed = False

    def close_master(*_: object) -> None:
        nonlocal closed
        if not closed:
            closed = True
            os.close(master)

    signal.signal(signal.SIGUSR1, close_master)
    output = bytearray()
    pressed = running = False
    log = open(workdir / "output", "wb")  # noqa: SIM115 (open for the life of the process)
    while True:
        if app_pid is None:
            children = Path(f"/proc/{pid}/task/{pid}/children")
            if children.exists() and children.read_text().split():
                app_pid = int(children.read_text().split()[0])
        if app_pid is not None and not (workdir / "pid").exists():
            (workdir / "pid.tmp").write_text(str(app_pid))
            (workdir / "pid.tmp").rename(workdir / "pid")
        if closed:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                (workdir / "status").write_text(str(os.waitstatus_to_exitcode(status)))
                while True:
                    time.sleep(1)
            time.sleep(0.05)
            continue
        keys = workdir / "keys"
        if keys.exists():
            os.write(master, keys.read_bytes())
            keys.unlink()
        try:
            ready = select.select([master], [], [], 0.05)[0]
            data = os.read(master, 1 << 16) if ready else b""
        except OSError:  # the trainer exited and closed the slave side
            data = b""
            close_master()
        if data:
            output += data
            log.write(data)
            log.flush()
            text = ANSI.sub(b"", bytes(output))
            if not pressed and b"press t to train" in text:
                pressed = True
                os.write(master, b"t")
            if pressed and not running and b"running" in text[-4000:]:
                running = True
                (workdir / "running").write_text("1")


if __name__ == "__main__":
    main()
