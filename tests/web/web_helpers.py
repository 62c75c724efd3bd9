"""Helpers for the ``miniframe-tui --serve`` tests: the server as a real process, a websocket
client that reads the trainer's screen, the run history as the trainers wrote it, and waits.

The server runs exactly as a user starts it (``python -m miniframe.tui --serve``) on a port
the OS picks; its printed lines (the URL with the token, one line per session with the
trainer's pid) are what the tests read. The screen is the trainer's terminal output as the
browser receives it (escape codes stripped): the text that xterm.js draws on its canvas.
The run history is read with plain SQL, read-only, so that opening it does not mark the runs
of dead trainers ``interrupted`` (RunStore.open does): a test sees what the trainer wrote.

Nothing waits a fixed time: every wait polls a condition with a generous limit (a loaded
2-core machine starts a trainer, torch and all, in seconds, not milliseconds).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: How long a test waits for a condition (a trainer to start, torch to load, an epoch).
TIMEOUT = 90.0
#: The trainer leaves within 15 s of its signal (its own bound is ~2 s; a checkpoint save
#: may add 10): what a test allows for a server's shutdown.
STOP_TIMEOUT = 40.0
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+)")
OPENED = re.compile(r"session (\d+) opened: trainer pid (\d+)")
CLOSED = re.compile(r"session (\d+) closed: trainer pid (\d+)")
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[P^_X][^\x1b]*\x1b\\"  # DCS / PM / APC / SOS
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x1b[()][0-9A-Za-z]"
)
EPOCH = re.compile(r"epoch (\d+)/\d+")
#: What the trainer shows once it can train (torch loaded).
READY = "press t to train"


def long_config(folder: Path) -> Path:
    """A run spec file that trains a tiny network (2-8-2, 64 points: milliseconds an epoch)
    for as long as a test needs (a million epochs): the trainers' ``--config``."""
    from miniframe.engine.spec import DataSpec, LayerSpec, RunSpec, SolverSpec

    spec = RunSpec(
        layers=[LayerSpec("linear", 8), LayerSpec("relu"), LayerSpec("linear", 2)],
        loss="cross-entropy",
        solver=SolverSpec(name="adam", lr=0.01),
        data=DataSpec(name="disk", n_train=64, n_test=64, center=True),
        init="he",
        epochs=10**6,
        batch_size=16,
        seed=0,
        name="tiny",
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.toml"
    path.write_text(spec.to_toml())
    return path


#: The tiny network's first layer as the layer stack shows it.
FIRST_LAYER = "Linear 2 → 8"


def wait_until(condition: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``condition`` until it returns something true (returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)
    return result


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def screen_text(raw: str) -> str:
    """Terminal output with its escape sequences removed: the characters drawn."""
    return ANSI.sub("", raw)


def last_epoch(text: str) -> int:
    """The highest epoch the Training panel has shown ("epoch N/M"), -1 for none."""
    return max((int(n) for n in EPOCH.findall(text)), default=-1)


@dataclass(frozen=True)
class Run:
    """One run as a trainer recorded it."""

    id: int
    pid: int
    status: str
    epochs: int


def recorded_runs(data_dir: Path) -> list[Run]:
    """Every run in the history at ``data_dir``, read-only (no reaping), oldest first."""
    path = data_dir / "runs.sqlite3"
    if not path.exists():
        return []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = db.execute(
                "SELECT r.id, r.pid, r.status, (SELECT COUNT(*) FROM epochs e "
                "WHERE e.run_id = r.id) FROM runs r ORDER BY r.id"
            ).fetchall()
        finally:
            db.close()
    except sqlite3.OperationalError:  # created but not migrated yet
        return []
    return [Run(*row) for row in rows]


def runs_of(data_dir: Path, pid: int) -> list[Run]:
    return [run for run in recorded_runs(data_dir) if run.pid == pid]


class Server:
    """``miniframe-tui --serve --port 0 ARGS`` in a process of its own, its output read by a
    thread. :meth:`close` (the fixture calls it) kills whatever is left, trainers included."""

    def __init__(self, work: Path, *args: str) -> None:
        self.work = work
        self.data = work / "data"
        env = dict(os.environ, MINIFRAME_DATA_DIR=str(self.data))
        env["MINIFRAME_CONFIG_DIR"] = str(work / "config")
        env.pop("TEXTUAL_DRIVER", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "miniframe.tui", "--serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            start_new_session=True,
        )
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            match = wait_until(lambda: URL.search(self.output()), "the server's URL")
        except AssertionError:
            self.close()
            raise AssertionError(f"the server printed no URL:\n{self.output()}") from None
        self.url: str = match.group(0)
        self.port = int(match.group(1))
        self.token: str = match.group(2)
        self.base = f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._lines.append(line)

    def output(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def opened(self) -> list[int]:
        """The trainer pids the server has started, in order."""
        return [int(m.group(2)) for m in OPENED.finditer(self.output())]

    def closed(self) -> list[int]:
        return [int(m.group(2)) for m in CLOSED.finditer(self.output())]

    def wait_opened(self, count: int) -> list[int]:
        """Wait until ``count`` trainers have been started; their pids."""
        wait_until(lambda: len(self.opened()) >= count, f"{count} trainer(s) to start")
        return self.opened()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal the server and wait for it to exit; its exit status."""
        self.proc.send_signal(signum)
        return self.proc.wait(STOP_TIMEOUT)

    def close(self) -> None:
        pids = [*self.opened(), self.proc.pid]
        for pid in pids:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self._reader.join(5)


class Terminal:
    """A browser's side of one session without a browser: textual.js's messages over an
    aiohttp websocket, the trainer's output collected as it comes (async; one event loop)."""

    def __init__(self, websocket: Any) -> None:
        self.websocket = websocket
        self.raw = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        import aiohttp

        async for message in self.websocket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.raw += self._decoder.decode(message.data)

    def text(self) -> str:
        return screen_text(self.raw)

    async def key(self, data: str) -> None:
        """Keys as xterm.js sends them (``"t"``, ``"\\x11"`` for ctrl+q)."""
        await self.websocket.send_json(["stdin", data])

    async def wait_for(self, what: str, condition: Callable[[], Any], timeout: float = TIMEOUT):
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            if self.reader.done() and not condition():
                raise AssertionError(f"the session ended while waiting for {what}")
            await asyncio.sleep(0.05)
        return result

    async def wait_text(self, needle: str, timeout: float = TIMEOUT) -> None:
        await self.wait_for(repr(needle), lambda: needle in self.text(), timeout)


async def until(condition: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """:func:`wait_until` for async tests (the event loop keeps running)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)
    return result


def png_colours(data: bytes) -> tuple[int, float]:
    """A PNG's number of distinct colours and the share of its pixels in the commonest one
    (a blank page: 1 colour, share 1.0). Reads the 8-bit RGB/RGBA, non-interlaced PNGs a
    browser's screenshot is; no imaging library needed."""
    import struct
    import zlib
    from collections import Counter

    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, "an unexpected PNG format"
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    counts: Counter[bytes] = Counter()
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):  # undo the scanline's filter (PNG spec, section 9)
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + guess) & 0xFF
        counts.update(bytes(line[x : x + 3]) for x in range(0, stride, step))
        previous = line
    return len(counts), counts.most_common(1)[0][1] / (width * height)
