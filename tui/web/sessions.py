"""One trainer process per browser connection, and how it is ended.

A :class:`TrainerSession` is textual-serve's :class:`~textual_serve.app_service.AppService`
(which relays the trainer's output to the browser and the browser's keys to the trainer),
with the process started differently:

- from an argument list, not a shell command line: no quoting, and the pid is the trainer's;
- with :mod:`.driver`'s driver, so the trainer keeps its own signal handling;
- in a session of its own: Ctrl-C in the server's terminal reaches the server only, which
  then ends each trainer itself; and the process group can be killed whole;
- on Linux, with a parent-death signal (SIGHUP): if the server dies without ending its
  trainers (SIGKILL), each still leaves as if its terminal had gone.

:meth:`TrainerSession.end` sends a signal the trainer handles (SIGHUP: its browser went;
SIGTERM: the server stops), and kills the process group if the trainer is still there after
``grace`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import shlex
import signal
import sys
from asyncio.subprocess import PIPE, Process
from collections.abc import Awaitable, Callable, Sequence

from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

#: The driver every served trainer runs with (``TEXTUAL_DRIVER``).
DRIVER = "miniframe.tui.web.driver:TrainerWebDriver"
#: How long a trainer has to leave after its signal: its own watchdog (2 s) and a checkpoint
#: save in progress (up to 10 s) fit in it; then its process group is killed.
END_GRACE_S = 15.0
#: After the process is gone, how long its output may take to drain to the browser.
DRAIN_S = 5.0
_PR_SET_PDEATHSIG = 1


def trainer_command(arguments: Sequence[str]) -> list[str]:
    """The command of one served trainer: this Python, ``-m miniframe.tui`` and ``arguments``."""
    return [sys.executable, "-m", "miniframe.tui", *arguments]


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to send SIGHUP to the child when the server dies
    (resolved here, in the parent: the child only makes the call)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGHUP), 0, 0, 0)

    return set_signal


_PREEXEC = _parent_death_signal()


class TrainerSession(AppService):
    """One browser connection's trainer. ``number`` counts the server's sessions from 1."""

    def __init__(
        self,
        number: int,
        command: Sequence[str],
        *,
        write_bytes: Callable[[bytes], Awaitable[None]],
        write_str: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
        download_manager: DownloadManager,
    ) -> None:
        super().__init__(
            shlex.join(command),
            write_bytes=write_bytes,
            write_str=write_str,
            close=close,
            download_manager=download_manager,
        )
        self.number = number
        self.argv = list(command)
        #: The trainer said it is exiting (it quit): it is given time, not a signal.
        self.leaving = False
        self._ending: asyncio.Task[int | None] | None = None

    @property
    def pid(self) -> int | None:
        """The trainer's process id, once started."""
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """The trainer's exit status once it has ended (-N: killed by signal N)."""
        return self._process.returncode if self._process is not None else None

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment["TEXTUAL_DRIVER"] = DRIVER
        return environment

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
            preexec_fn=_PREEXEC,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        """Relay the trainer's output until it ends; then close the browser's connection
        (textual-serve's closes it only when the trainer says goodbye, not when it dies)."""
        try:
            await super().run()
        finally:
            with contextlib.suppress(Exception):
                await self.remote_close()

    async def on_meta(self, data: bytes) -> None:
        with contextlib.suppress(ValueError, AttributeError):
            if json.loads(data).get("type") == "exit":
                self.leaving = True
        await super().on_meta(data)

    async def end(self, signum: int = signal.SIGHUP, grace: float = END_GRACE_S) -> int | None:
        """End the trainer: ``signum``, then SIGKILL to its process group after ``grace``
        seconds; wait for its last output to reach the browser. Its exit status.

        A trainer that is already leaving (it quit) gets no signal, only the time: a signal
        now would cut short its wait for a checkpoint being saved. Calls after the first
        wait for the same ending (the browser's disconnect and the server's stop can race)."""
        if self._ending is None:
            self._ending = asyncio.create_task(self._end(signum, grace))
        return await asyncio.shield(self._ending)

    def kill(self) -> None:
        """SIGKILL the trainer's process group now (a second Ctrl-C: no waiting)."""
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    async def _end(self, signum: int, grace: float) -> int | None:
        process = self._process
        if process is None:
            return None
        if process.returncode is None:
            if not self.leaving:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                # still our child, not reaped: its pid is still its process group's id
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        task = self._task
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), DRAIN_S)
            except TimeoutError:
                task.cancel()
            self._task = None
        return process.returncode
