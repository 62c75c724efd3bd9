"""Leaving promptly when the terminal goes away, or when asked to by a signal.

A trainer runs over SSH. When the connection drops, the pseudo-terminal's master side closes:
the kernel hangs the terminal up, sends SIGHUP to the session leader and the foreground
process group, and from then on reads fail and ``poll`` reports POLLHUP. But a process can
miss the signal: when its parent (the shell, the session leader) was killed first, the
terminal is no longer its controlling terminal and no SIGHUP comes; only the POLLHUP is left.
And the app can be slow to act: writing to a dead terminal has been seen to wedge Textual's
output thread mid-shutdown, and the training thread may be in the middle of a long batch.

So every way out is watched from outside the event loop, and bounded:

- SIGHUP, SIGTERM and SIGINT get Python-level handlers (they run in the main thread even
  while it waits on a lock or a system call), not asyncio ones (which need a free loop);
- a daemon thread polls the terminal's file descriptors for POLLHUP/POLLERR/POLLNVAL every
  ``POLL_S``;
- on any of them, the app is asked to leave (it stops training and exits normally), and a
  watchdog thread ends the process with ``os._exit`` if that has not happened within
  ``GRACE_S``. After a hang-up, output is pointed at /dev/null first: there is nothing left
  to draw on. After SIGTERM or SIGINT the terminal is still there, so a clean exit restores
  it (the watchdog restores the saved terminal modes too, if it has to fire).

Before the app owns the terminal (imports, argument checks) and after it has let go (while
waiting for worker threads), the same signals end the process at once and quietly:
:func:`quit_quietly_on_signals`. Nothing here imports Textual.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn

#: How often the watcher thread looks at the terminal (seconds).
POLL_S = 0.2
#: How long a clean shutdown may take once the terminal has gone or a signal asked us to
#: leave, before the watchdog ends the process. Detection (<= POLL_S) + GRACE_S stays
#: well under the 3 s promised.
GRACE_S = 2.0
#: After the app has exited, how long a checkpoint save in progress may take to finish.
SAVE_WAIT_S = 10.0
#: Exit statuses, as a shell reports a death by these signals (128 + number).
EXIT_CODES = {signal.SIGHUP: 129, signal.SIGINT: 130, signal.SIGTERM: 143}
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL

Leave = Callable[[int], None]


def _exit_at_once(signum: int, _frame: FrameType | None) -> None:
    os._exit(128 + signum)


Handlers = dict[int, Any]


def quit_quietly_on_signals() -> Handlers:
    """SIGINT, SIGHUP and SIGTERM end the process at once, without a traceback; returns
    the handlers they had (for :func:`restore_signals`).

    For the moments the app is not running: before it owns the terminal (importing the
    modules takes a few hundred ms, and Ctrl-C then would print a KeyboardInterrupt
    traceback) and after it has restored the terminal. Only callable from the main thread.
    """
    return {signum: signal.signal(signum, _exit_at_once) for signum in EXIT_CODES}


def restore_signals(handlers: Handlers) -> None:
    """Put back the handlers :func:`quit_quietly_on_signals` replaced."""
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def terminal_fds() -> list[int]:
    """The terminal file descriptors the app reads and writes (Textual writes to stderr)."""
    fds = []
    for stream in (sys.__stdin__, sys.__stdout__, sys.__stderr__):
        if stream is None:
            continue
        with contextlib.suppress(OSError, ValueError):
            fd = stream.fileno()
            if os.isatty(fd) and fd not in fds:
                fds.append(fd)
    return fds


def terminal_gone(fds: list[int]) -> bool:
    """Whether any of ``fds`` is hung up, failed or closed (a non-blocking check)."""
    if not fds:
        return False
    poller = select.poll()
    for fd in fds:
        poller.register(fd, 0)  # only the always-reported HUP / ERR / NVAL
    try:
        events = poller.poll(0)
    except OSError:
        return True
    return any(ev & _GONE for _, ev in events)


class TerminalWatch:
    """Watches for the terminal going away and for SIGHUP/SIGTERM/SIGINT; calls ``leave``.

    ``leave(code)`` runs on the event loop's thread (scheduled with
    ``call_soon_threadsafe``); it should stop any work and exit the app with ``code``. If the
    process is still alive ``grace`` seconds later, the watchdog ends it.
    """

    def __init__(self, leave: Leave, *, grace: float = GRACE_S, poll: float = POLL_S) -> None:
        self._leave = leave
        self.grace = grace
        self.poll = poll
        self._loop: Any = None
        self._fds: list[int] = []
        self._saved_modes: list[Any] | None = None
        self._stop = threading.Event()
        # Re-entrant: a second signal can interrupt the main thread inside the first one's
        # handler.
        self._lock = threading.RLock()
        self.reason: str | None = None  #: why we are leaving, once we are
        self.code: int | None = None  #: the exit status that goes with ``reason``

    # ---- set-up (main thread, inside the running event loop) ----------------------------
    def start(self, loop: Any) -> None:
        """Install the signal handlers and start the watcher thread."""
        self._loop = loop
        self._fds = terminal_fds()
        signal.signal(signal.SIGHUP, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        if self._fds:
            threading.Thread(target=self._watch, name="miniframe-hangup", daemon=True).start()

    def save_terminal_modes(self) -> None:
        """Remember the terminal's modes as they are now (before the app sets raw mode), so
        the watchdog can put them back if it has to end the process."""
        import termios

        with contextlib.suppress(Exception):
            if sys.__stdin__ is not None:
                self._saved_modes = termios.tcgetattr(sys.__stdin__.fileno())

    def stop(self) -> None:
        """Stop watching (the app has exited); signals now end the process at once."""
        self._stop.set()
        quit_quietly_on_signals()

    # ---- events -------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.hang_up("SIGHUP")
        else:
            self._begin(signal.Signals(signum).name, EXIT_CODES[signal.Signals(signum)])

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            if terminal_gone(self._fds):
                self.hang_up("the terminal closed")
                return

    def hang_up(self, reason: str) -> None:
        """The terminal is gone: silence output, then leave (status 129)."""
        with self._lock:
            first = self.reason is None
        if first:
            # Nothing can be drawn any more, and writing to a hung-up terminal can block
            # Textual's output thread: send the output to /dev/null from here on.
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_RDWR)
                for fd in self._fds or [1, 2]:
                    if fd != 0:
                        os.dup2(null, fd)
                os.close(null)
            self._saved_modes = None  # no terminal to restore
        self._begin(reason, EXIT_CODES[signal.SIGHUP])

    def _begin(self, reason: str, code: int) -> None:
        with self._lock:
            if self.reason is not None:
                return
            self.reason, self.code = reason, code
        watchdog = threading.Timer(self.grace, self._force_exit, args=(code,))
        watchdog.daemon = True
        watchdog.name = "miniframe-watchdog"
        watchdog.start()
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(self._leave, code)

    def _force_exit(self, code: int) -> None:
        """The clean shutdown took too long: restore the terminal if there is one, and end."""
        if self._saved_modes is not None:
            import termios

            with contextlib.suppress(Exception):
                fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else 0
                termios.tcsetattr(fd, termios.TCSANOW, self._saved_modes)
                # leave the alternate screen, show the cursor, mouse reporting off
                os.write(2, b"\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1003l\x1b[?1006l")
        os._exit(code)


def end_process(code: int, *, wait_saves: Callable[[float], bool]) -> NoReturn:
    """After the app has exited (and restored the terminal): give a checkpoint save in
    progress up to ``SAVE_WAIT_S`` to finish, then end the process with ``code`` at once.

    ``os._exit`` rather than a normal exit: Python would wait for the worker threads (the
    training thread may be in a long batch, torch may still be importing), and tearing
    down the interpreter with torch loaded took 1.3 s more on its own. Nothing is left to
    do: the terminal is restored and the files are written (or, for a save that outlasted the
    wait, its temporary file removed: the previous file stays intact).
    """
    wait_saves(SAVE_WAIT_S)
    from miniframe.engine.files import remove_pending_temps

    remove_pending_temps()  # a save that outlasted the wait leaves no partial .tmp behind
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
