"""``python benchmarks/tui_bench.py``: what the terminal trainer costs, measured.

Four figures, each against its target (measurements, not tests: they print). Every figure
that involves the screen is taken with the real terminal driver writing to a real
pseudo-terminal, which this script reads (so rendering and writing are part of it), and
only public Textual API is used.

1. **Time to first paint**, as a ratio to a minimal Textual app. ``python -m miniframe.tui``
   and a minimal app (one ``Static``) are launched alternately in an 80×24 pseudo-terminal
   (TERM=xterm-256color); for each, the time from spawn until the output (escape sequences
   stripped) holds "Layers" and "Linear 2 → 25". Medians over the launches, and their
   ratio; for the trainer also until every panel is drawn ("learning rate" and the footer's
   "Quit") and until torch is loaded ("press t to train"). One launch of each comes first,
   uncounted, so both run from compiled bytecode as an installed program does
   (PYTHONDONTWRITEBYTECODE is unset for the launches).
2. **Training speed in the app.** The same spec (``vanilla`` and ``deep`` presets, one
   torch thread as :func:`~miniframe.tui.session.load_engine` sets) trained *headless* by
   ``Run(spec).fit(N)`` in this process, and *inside the app*: a child process runs the
   trainer in a 120×40 pseudo-terminal, starts training with the ``t`` key and runs to
   "finished". Both are timed the same way: a timestamp as each epoch's summary is produced
   (headless: as ``fit`` yields it; app: ``TrainingSession.observers``), epochs/s =
   (N − 1) / (t_N − t_1), so torch import, model build and the first epoch are left out.
   Headless and app runs alternate (the order flips every repeat); the figure is the median
   over the repeats of each repeat's app ÷ headless (the two runs of a repeat are next to
   each other in time, so they see the same host: its speed drifts by 20 % and more over
   minutes), printed with each pair's ratio and the two medians. Beside it, unjudged: the
   training thread's CPU time over the wall time in each (``time.thread_time()`` at each
   epoch), app ÷ headless: how much of the interpreter the app leaves to training. The
   host's speed cancels in it (both clocks cover the same window), so it moves far less
   between runs than epochs/s.

   **Interleaved** (``--only interleave``), the finer figure: one app process trains
   1 + B×K epochs, and after its first epoch and every K epochs its training thread trains
   K epochs of a headless run of the same spec (from the session's observer: the app does
   not know), so app and headless blocks of ~2 s alternate on the same thread: the host's
   drift, which moved single runs 0.6-1.6× against the run beside them, hits both sides.
   The UI thread's CPU time during a headless block (the redraw of the app block before it,
   and the idle app) is charged to the app: it moves from the headless side's wall time to
   the app's (``raw`` leaves it where it fell). Printed beside it: the UI thread's share of
   each side, and the training thread's CPU time per epoch, app ÷ headless (what the app
   adds to the epoch itself: the layer stats, the views, and a slower core while the UI
   runs beside it).
3. **Key press → repaint while training.** The app (in a 120×40 pseudo-terminal) trains a
   long run of a preset; a thread standing in for the terminal driver's input thread posts
   ``down``/``up`` keys at random 40–90 ms gaps, one at a time. Latency = from just before
   posting the key to the end of the first screen update written to the terminal
   (``App.post_display_hook``) in which the layer table was re-rendered with its cursor on
   the new row. p50 / p95 / max over all presses.
4. **Peak RSS training the deep preset in the app**: a fresh subprocess runs the app
   headless and trains the deep preset N epochs, then reports its ``ru_maxrss``; for
   context, the same for a subprocess that only imports torch.

``--quick`` runs everything with tiny settings (the smoke test uses it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import math
import os
import random
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TARGET_RATIO = 0.9
TARGET_P95_MS = 100.0
TARGET_RSS_MB = 400.0
TARGET_PAINT_RATIO = 1.25
APP_SIZE = (120, 40)
PAINT_SIZE = (80, 24)

Log = Callable[[str], object]


@dataclass
class Settings:
    epochs: int = 100
    #: Repeats and launches: one launch's first paint, or one run's epochs/s, moves by 20 %
    #: and more with the shared host's speed, so each figure is a median over many.
    repeats: int = 5
    presets: tuple[str, ...] = ("vanilla", "deep")
    latency_presets: tuple[str, ...] = ("quick", "vanilla", "deep")
    presses: int = 30
    rss_epochs: int = 200
    launches: int = 15
    size: tuple[int, int] = APP_SIZE
    #: Interleaved speed: blocks of each side, and epochs per block (about 2 s each here).
    blocks: int = 30
    block_epochs: dict[str, int] = field(default_factory=lambda: {"vanilla": 40, "deep": 20})

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            epochs=8,
            repeats=1,
            latency_presets=("vanilla",),
            presses=6,
            rss_epochs=5,
            launches=1,
            blocks=2,
            block_epochs={"vanilla": 3, "deep": 3},
        )


@dataclass
class Results:
    speed: dict[str, dict[str, Any]] = field(default_factory=dict)
    latency: dict[str, dict[str, Any]] = field(default_factory=dict)
    rss: dict[str, Any] = field(default_factory=dict)
    first_paint: dict[str, Any] = field(default_factory=dict)
    interleaved: dict[str, dict[str, Any]] = field(default_factory=dict)


# ---- helpers ---------------------------------------------------------------------------------
def _rate(stamps: Sequence[float]) -> float:
    """Epochs/s between the first and the last epoch timestamp."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return math.nan
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _share(stamps: Sequence[float], cpu: Sequence[float]) -> float:
    """The training thread's CPU time over the wall time, first to last epoch: how much of
    the interpreter it had. Both clocks run over the same window, so the host's speed, which
    moves epochs/s by 20 % and more between runs, cancels."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return math.nan
    return (cpu[-1] - cpu[0]) / (stamps[-1] - stamps[0])


def _percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _spec(preset: str, epochs: int) -> Any:
    from miniframe.engine import load_preset

    return load_preset(preset).replace(epochs=epochs)


_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[P^_X][^\x1b]*\x1b\\"  # DCS / PM / APC / SOS
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x1b[()][0-9A-Za-z]"
)


def _child_env(config_dir: str) -> dict[str, str]:
    env = dict(os.environ, TERM="xterm-256color", MINIFRAME_CONFIG_DIR=config_dir)
    for var in ("COLUMNS", "LINES", "TEXTUAL", "TEXTUAL_DRIVER", "PYTHONDONTWRITEBYTECODE"):
        env.pop(var, None)
    return env


class PtyProcess:
    """A child process whose terminal is a new pseudo-terminal of ``size``; a thread reads
    everything it writes (so it never blocks on output) into :attr:`output`."""

    def __init__(self, cmd: Sequence[str], size: tuple[int, int], env: dict[str, str]) -> None:
        import pty

        master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(cmd),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                if not select.select([self.master], [], [], 0.05)[0]:
                    if self.proc.poll() is not None:
                        return
                    continue
                data = os.read(self.master, 1 << 16)
            except OSError:
                return
            if not data:
                return
            with self._changed:
                self.output += data
                self._changed.notify_all()

    def text(self) -> str:
        with self._lock:
            return _ANSI.sub("", self.output.decode("utf-8", "replace"))

    def wait_for(self, needles: Sequence[str], timeout: float) -> float:
        """Seconds from spawn until the output holds every needle (NaN on timeout/exit)."""
        deadline = time.perf_counter() + timeout
        with self._changed:
            while True:
                text = _ANSI.sub("", self.output.decode("utf-8", "replace"))
                if all(n in text for n in needles):
                    return time.perf_counter() - self.started
                if time.perf_counter() > deadline or self.proc.poll() is not None:
                    return math.nan
                self._changed.wait(0.05)

    def write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self.master, data)

    def close(self, quit_key: bytes | None = b"\x11", timeout: float = 10.0) -> int | None:
        """Quit with ``quit_key`` (ctrl+q) if given, kill after ``timeout``; exit status."""
        if quit_key is not None and self.proc.poll() is None:
            self.write(quit_key)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._reader.join(2)
        with contextlib.suppress(OSError):
            os.close(self.master)
        return self.proc.returncode


def _run_child(
    args: Sequence[str], size: tuple[int, int], config_dir: str, timeout: float
) -> dict[str, Any]:
    """Run this script's ``--child`` mode in a pseudo-terminal; return its JSON result."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        child = PtyProcess(
            [sys.executable, __file__, "--child", *args, str(out)], size, _child_env(config_dir)
        )
        try:
            child.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.close(quit_key=None, timeout=1)
            raise RuntimeError(f"child {args} timed out after {timeout:.0f} s") from None
        child.close(quit_key=None)
        if not out.exists():
            tail = child.text()[-1500:]
            raise RuntimeError(f"child {args} failed (exit {child.proc.returncode}): {tail}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


# ---- 1. time to first paint ------------------------------------------------------------------
PAINT_NEEDLES = ("Layers", "Linear 2 → 25")
COMPLETE_NEEDLES = ("learning rate", "Quit")
READY_NEEDLE = "press t to train"
MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self):
        yield Static("Layers  Linear 2 → 25")

Minimal().run()
"""


def launch_once(kind: str, config_dir: str, timeout: float = 30.0) -> dict[str, float]:
    """Launch the trainer or the minimal app in an 80×24 pseudo-terminal; seconds from
    spawn to first paint (and, for the trainer, to every panel and to torch loaded)."""
    if kind == "trainer":
        cmd = [sys.executable, "-m", "miniframe.tui"]
    else:
        cmd = [sys.executable, "-c", MINIMAL_APP]
    child = PtyProcess(cmd, PAINT_SIZE, _child_env(config_dir))
    try:
        first = child.wait_for(PAINT_NEEDLES, timeout)
        complete = ready = math.nan
        if kind == "trainer":
            complete = child.wait_for(COMPLETE_NEEDLES, timeout)
            ready = child.wait_for([READY_NEEDLE], timeout)
    finally:
        code = child.close()
    if math.isnan(first):
        raise RuntimeError(f"{kind}: the first screen never appeared (exit {code}): "
                           f"{child.text()[-500:]!r}")  # fmt: skip
    return {"first_paint_s": first, "complete_s": complete, "ready_s": ready,
            "exit_code": float(code if code is not None else -1)}  # fmt: skip


def measure_first_paint(settings: Settings, config_dir: str, log: Log = print) -> dict[str, Any]:
    for kind in ("minimal", "trainer"):  # warm-up: compile the bytecode, fill the caches
        launch_once(kind, config_dir)
    runs: dict[str, list[dict[str, float]]] = {"trainer": [], "minimal": []}
    for i in range(settings.launches):
        order = ("minimal", "trainer") if i % 2 == 0 else ("trainer", "minimal")
        for kind in order:
            runs[kind].append(launch_once(kind, config_dir))
        t, m = runs["trainer"][-1], runs["minimal"][-1]
        log(
            f"  paint launch {i + 1}: trainer {t['first_paint_s']:.3f} s (every panel "
            f"{t['complete_s']:.3f} s, torch ready {t['ready_s']:.3f} s, exit "
            f"{t['exit_code']}), minimal app {m['first_paint_s']:.3f} s"
        )
    trainer = statistics.median(r["first_paint_s"] for r in runs["trainer"])
    minimal = statistics.median(r["first_paint_s"] for r in runs["minimal"])
    return {
        "first_paint_s": trainer,
        "minimal_first_paint_s": minimal,
        "ratio": trainer / minimal,
        "complete_s": statistics.median(r["complete_s"] for r in runs["trainer"]),
        "ready_s": statistics.median(r["ready_s"] for r in runs["trainer"]),
        "launches": runs,
    }


# ---- 2. training speed -----------------------------------------------------------------------
def headless_rate(preset: str, epochs: int) -> tuple[float, float]:
    """Epochs/s of ``Run(spec).fit`` in this process, and the training thread's share."""
    from miniframe.engine.train import Run
    from miniframe.tui.session import load_engine

    load_engine()
    run = Run(_spec(preset, epochs))
    stamps, cpu = [], []
    for _ in run.fit(epochs):
        stamps.append(time.perf_counter())
        cpu.append(time.thread_time())
    return _rate(stamps), _share(stamps, cpu)


def app_rate(
    preset: str, epochs: int, size: tuple[int, int], config_dir: str
) -> tuple[float, float]:
    """Epochs/s of ``epochs`` epochs trained inside the app (started with the ``t`` key),
    the app drawing to a real pseudo-terminal; and the training thread's share."""
    result = _run_child(["speed", preset, str(epochs)], size, config_dir, timeout=900)
    return float(result["rate"]), float(result["share"])


def measure_speed(settings: Settings, config_dir: str, log: Log = print) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    samples: dict[str, dict[str, list[float]]] = {
        p: {"headless": [], "app": [], "headless_share": [], "app_share": []}
        for p in settings.presets
    }
    for rep in range(settings.repeats):
        for preset in settings.presets:
            order = ("headless", "app") if rep % 2 == 0 else ("app", "headless")
            for side in order:
                if side == "headless":
                    rate, share = headless_rate(preset, settings.epochs)
                else:
                    rate, share = app_rate(preset, settings.epochs, settings.size, config_dir)
                samples[preset][side].append(rate)
                samples[preset][f"{side}_share"].append(share)
                log(
                    f"  speed {preset:8} {side:8} rep {rep + 1}: {rate:7.1f} epochs/s "
                    f"(training thread {share:.1%} of the wall clock)"
                )
    for preset, s in samples.items():
        headless, app = statistics.median(s["headless"]), statistics.median(s["app"])
        # Each repeat's app run against the headless run beside it in time: a shared host's
        # speed drifts by 20 % and more between minutes, and a pair sees the same host.
        pairs = [a / h for a, h in zip(s["app"], s["headless"], strict=True) if h > 0]
        out[preset] = {
            "headless_epochs_per_s": headless,
            "app_epochs_per_s": app,
            "ratio": statistics.median(pairs) if pairs else math.nan,
            "ratio_of_medians": app / headless if headless > 0 else math.nan,
            "app_share": statistics.median(s["app_share"]),
            "headless_share": statistics.median(s["headless_share"]),
            "pair_ratios": pairs,
            "headless_samples": s["headless"],
            "app_samples": s["app"],
            "epochs": settings.epochs,
        }
    return out


def interleaved_figures(app: Sequence[Sequence[float]], headless: Sequence[Sequence[float]]
                        ) -> dict[str, Any]:  # fmt: skip
    """App ÷ headless from alternating blocks (each ``[epochs, wall s, UI-thread CPU s,
    training-thread CPU s]``).

    The UI thread's CPU time during a headless block is the app's (it is the redraw of the
    app block just before, or the idle app), and while the UI thread runs Python the training
    thread cannot: so it moves from the headless block's wall time to the app's. Without the
    move (``raw``) the app looks better than it is by that much."""
    n = min(len(app), len(headless))
    a, h = app[:n], headless[:n]
    a_ep, h_ep = sum(x[0] for x in a), sum(x[0] for x in h)
    a_wall, h_wall = sum(x[1] for x in a), sum(x[1] for x in h)
    ui_a, ui_h = sum(x[2] for x in a), sum(x[2] for x in h)
    if n == 0 or a_wall <= 0 or h_wall <= ui_h:
        return {"ratio": math.nan, "raw": math.nan, "pairs": [], "blocks": n}
    pairs = [
        (x[0] / (x[1] + y[2])) / (y[0] / (y[1] - y[2]))
        for x, y in zip(a, h, strict=True)
        if y[1] > y[2] and x[1] > 0
    ]
    return {
        "ratio": (a_ep / (a_wall + ui_h)) / (h_ep / (h_wall - ui_h)),
        "raw": (a_ep / a_wall) / (h_ep / h_wall),
        "pairs": pairs,
        "blocks": n,
        "app_epochs_per_s": a_ep / a_wall,
        "headless_epochs_per_s": h_ep / h_wall,
        "ui_share_app": ui_a / a_wall,
        "ui_share_headless": ui_h / h_wall,
        # The training thread's CPU per epoch, app ÷ headless: the same thread, minutes apart
        # at most, so the work the app adds to each epoch (and the host's noise).
        "cpu_per_epoch": (sum(x[3] for x in a) / a_ep) / (sum(x[3] for x in h) / h_ep),
    }


def measure_interleaved(settings: Settings, config_dir: str, log: Log = print
                        ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """App and headless training alternating in blocks inside one app process (see
    :func:`_child_interleave`); one run per preset."""
    out: dict[str, dict[str, Any]] = {}
    for preset in settings.presets:
        block = settings.block_epochs.get(preset, 20)
        rec = _run_child(
            ["interleave", preset, str(settings.blocks), str(block)],
            settings.size, config_dir, timeout=900,
        )  # fmt: skip
        fig = interleaved_figures(rec["app"], rec["headless"])
        fig["block_epochs"] = block
        out[preset] = fig
        log(
            f"  interleaved {preset:8} {fig['blocks']} blocks of {block} epochs each side: "
            f"app ÷ headless {fig['ratio']:.3f} (raw {fig['raw']:.3f}; UI thread "
            f"{fig.get('ui_share_app', math.nan):.1%} of app blocks, "
            f"{fig.get('ui_share_headless', math.nan):.1%} of headless blocks; training "
            f"thread CPU per epoch app ÷ headless {fig.get('cpu_per_epoch', math.nan):.3f})"
        )
    return out


# ---- 3. key press -> repaint -----------------------------------------------------------------
def key_latency(
    preset: str, presses: int, size: tuple[int, int], config_dir: str
) -> dict[str, Any]:
    """Latencies (ms) from posting a cursor key to the first frame written showing it."""
    return _run_child(["keys", preset, str(presses)], size, config_dir, timeout=600)


def measure_latency(settings: Settings, config_dir: str, log: Log = print) -> dict[str, Any]:
    out = {}
    for preset in settings.latency_presets:
        r = key_latency(preset, settings.presses, settings.size, config_dir)
        log(
            f"  keys  {preset:8} p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
            f"max {r['max_ms']:.1f} ms ({r['presses']} presses, {r['epochs_during']} epochs)"
        )
        out[preset] = r
    return out


# ---- 4. peak RSS -----------------------------------------------------------------------------
_RSS_TORCH = """
import json, resource
import torch
print(json.dumps({"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _child_rss(args: Sequence[str], config_dir: str) -> float:
    """Peak RSS (MB, 10^6 bytes) a fresh interpreter reports for itself."""
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=_child_env(config_dir),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"RSS subprocess failed:\n{proc.stderr[-2000:]}")
    kib = json.loads(proc.stdout.strip().splitlines()[-1])["maxrss_kib"]
    return float(kib) * 1024 / 1e6


def measure_rss(settings: Settings, config_dir: str, log: Log = print) -> dict[str, Any]:
    torch_mb = _child_rss(["-c", _RSS_TORCH], config_dir)
    app_mb = _child_rss([__file__, "--child", "rss", "deep", str(settings.rss_epochs)], config_dir)
    log(f"  rss   torch only {torch_mb:.0f} MB, app training deep {app_mb:.0f} MB")
    return {"app_deep_mb": app_mb, "torch_only_mb": torch_mb, "epochs": settings.rss_epochs}


# ---- child processes -------------------------------------------------------------------------
async def _wait(
    condition: Callable[[], object], timeout: float, what: str, poll: float = 0.01
) -> None:
    """Wait until ``condition()`` holds, checking every ``poll`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(poll)


#: How often the speed and memory children check whether the run has finished: the check
#: runs on the UI thread being measured, so rarely (the rate comes from the epochs' own
#: timestamps: noticing the end late changes nothing).
END_POLL_S = 0.25


def _post_key(app: Any, key: str) -> None:
    from textual import events

    app.post_message(events.Key(key, key if len(key) == 1 else None))


def _child_speed(preset: str, epochs: int) -> dict[str, Any]:

    stamps: list[float] = []
    cpu: list[float] = []

    def observe(_: object) -> None:  # the training thread, as each epoch ends
        stamps.append(time.perf_counter())
        cpu.append(time.thread_time())

    _train_in_app(preset, epochs, observe)
    if len(stamps) != epochs:
        raise RuntimeError(f"expected {epochs} epochs, saw {len(stamps)}")
    return {"rate": _rate(stamps), "share": _share(stamps, cpu), "epochs": epochs}


def _train_in_app(preset: str, epochs: int, observe: Callable[[Any], object]) -> None:
    """The app, drawing to this process's terminal, trains ``epochs`` epochs of ``preset``
    (started with its ``t`` key, once torch has loaded); ``observe`` gets each epoch's
    summary in the training thread."""
    from miniframe.tui.app import TrainerApp

    async def scenario() -> None:
        app = TrainerApp(_spec(preset, epochs))
        app.session.observers.append(observe)
        async with app.run_test(headless=False, size=None) as pilot:
            await _wait(lambda: app.ui_ready and app.engine_ready, 120, "torch", END_POLL_S)
            _post_key(app, "t")
            await _wait(
                lambda: app.state.status == "finished", 900, "the run to finish", END_POLL_S
            )
            await pilot.pause()

    asyncio.run(scenario())


def _child_interleave(preset: str, blocks: int, block: int) -> dict[str, Any]:
    """The app trains ``1 + blocks × block`` epochs (started with ``t``); after its first
    epoch and then after every ``block`` epochs, the training thread itself (in the session's
    observer: the app neither knows nor draws it) trains ``block`` epochs of a second,
    headless run of the same spec, then goes back to the app's. Both sides run on the same
    thread, seconds apart, in the same process: the host's speed, which moves from minute to
    minute, moves both. Each block records its epochs, wall time, the UI thread's CPU time
    and the training thread's CPU time."""
    from miniframe.engine.train import Run

    epochs = 1 + blocks * block
    ui_clock = time.pthread_getcpuclockid(threading.main_thread().ident or 0)
    record: dict[str, list[tuple[float, float, float, float]]] = {"app": [], "headless": []}
    state: dict[str, Any] = {"headless": None, "mark": None, "count": 0}

    def clocks() -> tuple[float, float, float]:
        return time.perf_counter(), time.clock_gettime(ui_clock), time.thread_time()

    def observe(_: object) -> None:  # the training thread, as each of the app's epochs ends
        now = clocks()
        if state["headless"] is None:  # the app's first epoch: untimed, as the headless one
            state["headless"] = Run(_spec(preset, epochs)).fit(epochs)
            next(state["headless"])
        elif state["count"] < block:
            state["count"] += 1
            if state["count"] < block:
                return
            mark = state["mark"]
            record["app"].append((block, *(b - a for a, b in zip(mark, now, strict=True))))
            start = clocks()
            for _ in range(block):
                next(state["headless"])
            end = clocks()
            record["headless"].append((block, *(b - a for a, b in zip(start, end, strict=True))))
        state["count"] = 0
        state["mark"] = clocks()

    _train_in_app(preset, epochs, observe)
    return {"app": record["app"], "headless": record["headless"]}


def _child_keys(preset: str, presses: int, seed: int = 0) -> dict[str, Any]:
    from miniframe.tui.app import TrainerApp

    latencies: list[float] = []
    missed = 0
    state: dict[str, Any] = {"pending": None, "expected": None, "rendered": False}
    lock = threading.Lock()
    painted = threading.Event()
    epochs_during: list[int] = []

    def frame_written() -> None:  # App.post_display_hook: a frame went to the terminal
        now = time.perf_counter()
        with lock:
            if state["pending"] is not None and state["rendered"]:
                latencies.append((now - state["pending"]) * 1000.0)
                state["pending"] = None
                painted.set()

    async def scenario() -> None:
        nonlocal missed
        app = TrainerApp(_spec(preset, 10**6))
        app.post_display_hook = frame_written  # a public hook, called after each write
        async with app.run_test(headless=False, size=None):
            await _wait(lambda: app.ui_ready and app.engine_ready, 120, "torch")
            table = app.layer_stack.table
            render_lines = table.render_lines

            def watched_render_lines(crop: Any) -> Any:
                lines = render_lines(crop)
                with lock:
                    if state["pending"] is not None and table.cursor_row == state["expected"]:
                        state["rendered"] = True
                return lines

            table.render_lines = watched_render_lines  # see which frame has the new row
            table.focus()
            _post_key(app, "t")
            await _wait(lambda: app.state.epoch >= 2, 120, "training to start")
            start_epoch = app.state.epoch
            rng = random.Random(seed)

            def keyboard() -> None:  # the terminal driver's input thread, in effect
                nonlocal missed
                row = table.cursor_row
                for _ in range(presses):
                    time.sleep(rng.uniform(0.04, 0.09))
                    key = "down" if row == 0 else "up"  # between the first two rows
                    row = row + 1 if key == "down" else row - 1
                    painted.clear()
                    with lock:
                        state["expected"], state["rendered"] = row, False
                        state["pending"] = time.perf_counter()
                    _post_key(app, key)
                    if not painted.wait(5.0):
                        missed += 1
                        with lock:
                            state["pending"] = None
                        row = table.cursor_row

            thread = threading.Thread(target=keyboard, name="bench-keyboard", daemon=True)
            thread.start()
            while thread.is_alive():
                await asyncio.sleep(0.02)
            epochs_during.append(app.state.epoch - start_epoch)
            if not app.is_training:
                raise RuntimeError(f"training ended during the key test: {app.state.message}")
            _post_key(app, "t")
            await _wait(lambda: not app.is_training, 60, "training to stop")

    asyncio.run(scenario())
    return {
        "p50_ms": _percentile(latencies, 50),
        "p95_ms": _percentile(latencies, 95),
        "max_ms": max(latencies) if latencies else math.nan,
        "presses": presses,
        "missed": missed,
        "epochs_during": epochs_during[0] if epochs_during else 0,
        "samples_ms": latencies,
    }


def _child_rss_app(preset: str, epochs: int) -> dict[str, Any]:
    import resource

    from miniframe.tui.app import TrainerApp

    async def scenario() -> None:
        app = TrainerApp(_spec(preset, epochs))
        async with app.run_test(size=APP_SIZE) as pilot:
            await _wait(lambda: app.ui_ready and app.engine_ready, 120, "torch", END_POLL_S)
            _post_key(app, "t")
            await _wait(
                lambda: app.state.status == "finished", 900, "the run to finish", END_POLL_S
            )
            await pilot.pause()
        if app.state.epoch != epochs:
            raise RuntimeError(f"trained {app.state.epoch} epochs, not {epochs}")

    asyncio.run(scenario())
    return {"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child_main(args: Sequence[str]) -> int:
    """``--child MODE PRESET N [OUT]``: one measurement in this (fresh) process."""
    mode, preset, n = args[0], args[1], int(args[2])
    if mode == "interleave":  # --child interleave PRESET BLOCKS BLOCK OUT
        Path(args[4]).write_text(json.dumps(_child_interleave(preset, n, int(args[3]))))
        return 0
    if mode == "rss":
        print(json.dumps(_child_rss_app(preset, n)))
        return 0
    out = Path(args[3])
    result = _child_speed(preset, n) if mode == "speed" else _child_keys(preset, n)
    out.write_text(json.dumps(result))
    return 0


# ---- report ----------------------------------------------------------------------------------
def table_rows(results: Results) -> list[tuple[str, str, str, str]]:
    rows = []
    if results.first_paint:
        r = results.first_paint
        rows.append(
            (
                "first paint ÷ minimal Textual app (80×24 pty)",
                f"{r['ratio']:.2f} ({r['first_paint_s']:.3f} s / "
                f"{r['minimal_first_paint_s']:.3f} s; every panel {r['complete_s']:.2f} s, "
                f"torch ready {r['ready_s']:.2f} s)",
                f"≤ {TARGET_PAINT_RATIO:.2f}",
                "yes" if r["ratio"] <= TARGET_PAINT_RATIO else "NO",
            )
        )
    for preset, s in results.speed.items():
        rows.append(
            (
                f"epochs/s in app ÷ headless ({preset})",
                f"{s['ratio']:.2f} (pairs {' '.join(f'{r:.2f}' for r in s['pair_ratios'])}; "
                f"medians {s['app_epochs_per_s']:.1f} / {s['headless_epochs_per_s']:.1f})",
                f"≥ {TARGET_RATIO:.2f}",
                "yes" if s["ratio"] >= TARGET_RATIO else "NO",
            )
        )
        rows.append(
            (
                f"  training thread's share of the wall ({preset})",
                f"{s['app_share'] / s['headless_share']:.2f} (app {s['app_share']:.1%}, "
                f"headless {s['headless_share']:.1%}; medians)",
                "",
                "",
            )
        )
    for preset, r in results.interleaved.items():
        pairs = r["pairs"]
        spread = f"pairs {min(pairs):.2f}-{max(pairs):.2f}, " if pairs else ""
        rows.append(
            (
                f"epochs/s in app ÷ headless, interleaved ({preset})",
                f"{r['ratio']:.2f} ({r['blocks']} blocks of {r['block_epochs']} epochs each "
                f"side; {spread}raw {r['raw']:.2f})",
                f"≥ {TARGET_RATIO:.2f}",
                "yes" if r["ratio"] >= TARGET_RATIO else "NO",
            )
        )
        if "ui_share_app" in r:
            rows.append(
                (
                    f"  UI thread's share; training CPU/epoch ({preset})",
                    f"{r['ui_share_app']:.1%} of app blocks, {r['ui_share_headless']:.1%} of "
                    f"headless; app ÷ headless CPU per epoch {r['cpu_per_epoch']:.3f}",
                    "",
                    "",
                )
            )
    for preset, r in results.latency.items():
        ok = r["p95_ms"] <= TARGET_P95_MS and not r["missed"]
        missed = f", {r['missed']} missed" if r["missed"] else ""
        rows.append(
            (
                f"key → repaint p95, training ({preset})",
                f"{r['p95_ms']:.0f} ms (p50 {r['p50_ms']:.0f}, max {r['max_ms']:.0f}, "
                f"n={r['presses']}{missed})",
                f"≤ {TARGET_P95_MS:.0f} ms",
                "yes" if ok else "NO",
            )
        )
    if results.rss:
        r = results.rss
        rows.append(
            (
                "peak RSS, app training deep",
                f"{r['app_deep_mb']:.0f} MB (torch only {r['torch_only_mb']:.0f} MB)",
                f"≤ {TARGET_RSS_MB:.0f} MB",
                "yes" if r["app_deep_mb"] <= TARGET_RSS_MB else "NO",
            )
        )
    return rows


def format_table(rows: Sequence[tuple[str, str, str, str]]) -> str:
    header = ("metric", "measured", "target", "ok")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


PARTS = ("paint", "rss", "speed", "interleave", "keys")


def run_all(
    settings: Settings, config_dir: str, log: Log = print, parts: Sequence[str] = PARTS
) -> Results:
    """Measure ``parts`` (all four by default), in this order."""
    results = Results()
    if "paint" in parts:
        log("time to first paint (trainer and a minimal Textual app, alternately):")
        results.first_paint = measure_first_paint(settings, config_dir, log)
    if "rss" in parts:
        log("peak RSS:")
        results.rss = measure_rss(settings, config_dir, log)
    from miniframe.tui.session import load_engine

    load_engine()
    if "speed" in parts:
        log("training speed:")
        results.speed = measure_speed(settings, config_dir, log)
    if "interleave" in parts:
        log("training speed, app and headless blocks alternating in one process:")
        results.interleaved = measure_interleaved(settings, config_dir, log)
    if "keys" in parts:
        log("key press → repaint:")
        results.latency = measure_latency(settings, config_dir, log)
    return results


def _load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python benchmarks/tui_bench.py",
        description="Measure the terminal trainer's cost: first paint against a minimal "
        "Textual app, training speed in the app, key latency while training, peak memory.",
    )
    parser.add_argument("--epochs", type=int, help="epochs per speed measurement (default 100)")
    parser.add_argument("--repeats", type=int, help="interleaved repeats (default 5)")
    parser.add_argument("--presses", type=int, help="key presses per preset (default 30)")
    parser.add_argument("--launches", type=int, help="first-paint launches of each (default 15)")
    parser.add_argument("--blocks", type=int, help="interleaved blocks of each side (default 30)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--quick", action="store_true", help="tiny settings (a smoke run)")
    parser.add_argument(
        "--only",
        metavar="PARTS",
        help=f"comma-separated parts to measure, of {','.join(PARTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    parts = PARTS if not args.only else tuple(p.strip() for p in args.only.split(","))
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r}; choose from {', '.join(PARTS)}")
    settings = Settings.quick() if args.quick else Settings()
    if args.epochs is not None:
        settings.epochs = max(2, args.epochs)
    if args.repeats is not None:
        settings.repeats = max(1, args.repeats)
    if args.presses is not None:
        settings.presses = max(1, args.presses)
    if args.launches is not None:
        settings.launches = max(1, args.launches)
    if args.blocks is not None:
        settings.blocks = max(1, args.blocks)
    print(f"miniframe-tui bench: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {_load_average()}")  # fmt: skip
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="miniframe-bench-") as config_dir:
        results = run_all(settings, config_dir, log=print, parts=parts)
    print()
    print(format_table(table_rows(results)))
    print(f"\n({time.perf_counter() - t0:.0f} s; load average now {_load_average()})")
    if args.json:
        payload = {"settings": asdict(settings), **asdict(results)}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
