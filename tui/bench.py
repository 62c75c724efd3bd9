"""``python -m miniframe.tui.bench``: what the terminal trainer costs, measured.

Four figures, each against its target (these are measurements, not tests; they print):

1. **Training speed in the app.** The same spec (``vanilla`` and ``deep`` presets, one torch
   thread as :func:`~miniframe.tui.session.load_engine` sets) trained *headless* by
   ``Run(spec).fit(N)`` in this process, and *inside the app*: ``TrainerApp.run_test`` at
   120×40, training started by the real ``t`` binding, the app then running to "finished".
   Both are timed the same way: a timestamp as each epoch's summary is produced (headless:
   as ``fit`` yields it; app: as the worker hands it to the UI feed, ``TrainingSession._push``),
   epochs/s = (N − 1) / (t_N − t_1), so torch import, model build and the first epoch are
   left out. Headless and app runs alternate (the order flips every repeat); medians and
   their ratio are reported.
2. **Key press → repaint while training.** The app trains a long run of a preset; a separate
   thread, standing in for the terminal driver's input thread, posts ``down``/``up`` key
   events (alternating, so each moves the layer-stack cursor) at random 40–90 ms gaps, one at
   a time. Latency = from just before ``post_message(Key)`` to the end of the first screen
   update (``App._display``, after the compositor rendered the changed regions) in which the
   layer table was re-rendered with its cursor on the new row. Headless apps skip writing to
   the terminal, so the bench's app also renders every update to the escape sequences a
   terminal would receive (``CompositorUpdate.render_segments``): only the write itself is
   missing. p50 / p95 / max over all presses.
3. **Peak RSS training the deep preset in the app**: a fresh subprocess runs the app headless
   and trains the deep preset N epochs, then reports its ``ru_maxrss``. For context, the same
   for a subprocess that only imports torch.
4. **Time to first paint**: ``python -m miniframe.tui`` launched in a pseudo-terminal (80×24,
   TERM=xterm-256color); from spawn until the output stream (escape sequences stripped)
   holds the layer stack ("Layers" and "Linear 2 → 25"), and until torch is loaded ("press
   t to train"). Median of 5 launches; each is quit with ctrl+q.

``--quick`` runs everything with tiny settings (the smoke test uses it).
"""

from __future__ import annotations

import argparse
import asyncio
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
from dataclasses import asdict, dataclass, field
from typing import Any

TARGET_RATIO = 0.9
TARGET_P95_MS = 100.0
TARGET_RSS_MB = 400.0
TARGET_FIRST_PAINT_S = 0.5
APP_SIZE = (120, 40)


@dataclass
class Settings:
    epochs: int = 100
    repeats: int = 3
    presets: tuple[str, ...] = ("vanilla", "deep")
    latency_presets: tuple[str, ...] = ("quick", "vanilla", "deep")
    presses: int = 60
    rss_epochs: int = 200
    launches: int = 5
    size: tuple[int, int] = APP_SIZE

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            epochs=8,
            repeats=1,
            latency_presets=("vanilla",),
            presses=6,
            rss_epochs=5,
            launches=1,
        )


@dataclass
class Results:
    speed: dict[str, dict[str, Any]] = field(default_factory=dict)
    latency: dict[str, dict[str, Any]] = field(default_factory=dict)
    rss: dict[str, Any] = field(default_factory=dict)
    first_paint: dict[str, Any] = field(default_factory=dict)


# ---- helpers ---------------------------------------------------------------------------------
def _rate(stamps: list[float]) -> float:
    """Epochs/s between the first and the last epoch timestamp."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return math.nan
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _spec(preset: str, epochs: int):
    from miniframe.engine.spec import load_preset

    return load_preset(preset).replace(epochs=epochs)


def _bench_app_class():
    """TrainerApp plus the terminal-output rendering a headless app skips."""
    from textual._compositor import CompositorUpdate

    from .app import TrainerApp

    class BenchApp(TrainerApp):
        def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
            if isinstance(renderable, CompositorUpdate) and not self._batch_count:
                renderable.render_segments(self.console)  # what would go to the terminal
            super()._display(screen, renderable)

    return BenchApp


async def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def _post_key(app, key: str) -> None:  # type: ignore[no-untyped-def]
    from textual import events

    app.post_message(events.Key(key, key if len(key) == 1 else None))


# ---- 1. training speed -----------------------------------------------------------------------
def headless_rate(preset: str, epochs: int) -> float:
    from miniframe.engine.train import Run

    from .session import load_engine

    load_engine()
    run = Run(_spec(preset, epochs))
    stamps = []
    for _ in run.fit(epochs):
        stamps.append(time.perf_counter())
    return _rate(stamps)


def app_rate(preset: str, epochs: int, size: tuple[int, int] = APP_SIZE) -> float:
    """Epochs/s of ``epochs`` epochs trained inside the app (started with the ``t`` key)."""
    stamps: list[float] = []

    async def scenario() -> None:
        app = _bench_app_class()(_spec(preset, epochs))
        push = app.session._push

        def timed_push(summary, post) -> None:  # type: ignore[no-untyped-def]
            push(summary, post)
            stamps.append(time.perf_counter())

        app.session._push = timed_push  # type: ignore[method-assign]
        async with app.run_test(size=size):
            await _wait(lambda: app.engine_ready, 60, "torch")
            _post_key(app, "t")
            await _wait(lambda: app.state.status == "finished", 600, "the run to finish")
            if len(stamps) != epochs:
                raise RuntimeError(f"expected {epochs} epochs, saw {len(stamps)}")

    asyncio.run(scenario())
    return _rate(stamps)


def measure_speed(settings: Settings, log=print) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    out: dict[str, dict[str, Any]] = {}
    samples = {p: {"headless": [], "app": []} for p in settings.presets}
    for rep in range(settings.repeats):
        for preset in settings.presets:
            order = ("headless", "app") if rep % 2 == 0 else ("app", "headless")
            for side in order:
                if side == "headless":
                    rate = headless_rate(preset, settings.epochs)
                else:
                    rate = app_rate(preset, settings.epochs, settings.size)
                samples[preset][side].append(rate)
                log(f"  speed {preset:8} {side:8} rep {rep + 1}: {rate:7.1f} epochs/s")
    for preset, s in samples.items():
        headless, app = statistics.median(s["headless"]), statistics.median(s["app"])
        out[preset] = {
            "headless_epochs_per_s": headless,
            "app_epochs_per_s": app,
            "ratio": app / headless if headless > 0 else math.nan,
            "headless_samples": s["headless"],
            "app_samples": s["app"],
            "epochs": settings.epochs,
        }
    return out


# ---- 2. key press -> repaint -----------------------------------------------------------------
def key_latency(
    preset: str, presses: int, size: tuple[int, int] = APP_SIZE, seed: int = 0
) -> dict[str, Any]:
    """Latencies (ms) from posting a cursor key to the first displayed frame showing it."""
    from .widgets.layer_stack import LayerTable

    latencies: list[float] = []
    missed = 0
    state: dict[str, Any] = {"pending": None, "expected": None, "rendered": False}
    lock = threading.Lock()
    painted = threading.Event()
    epochs_during: list[int] = []

    async def scenario() -> None:
        nonlocal missed
        app = _bench_app_class()(_spec(preset, 10**6))
        async with app.run_test(size=size):
            table = app.query_one(LayerTable)
            render_lines = table.render_lines

            def watched_render_lines(crop):  # type: ignore[no-untyped-def]
                lines = render_lines(crop)
                with lock:
                    if state["pending"] is not None and table.cursor_row == state["expected"]:
                        state["rendered"] = True
                return lines

            table.render_lines = watched_render_lines  # type: ignore[method-assign]
            display_hook = app.post_display_hook

            def watched_display_hook() -> None:
                display_hook()
                now = time.perf_counter()
                with lock:
                    if state["pending"] is not None and state["rendered"]:
                        latencies.append((now - state["pending"]) * 1000.0)
                        state["pending"] = None
                        painted.set()

            app.post_display_hook = watched_display_hook  # type: ignore[method-assign]
            await _wait(lambda: app.engine_ready, 60, "torch")
            table.focus()
            _post_key(app, "t")
            await _wait(lambda: app.state.epoch >= 2, 60, "training to start")
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
            await _wait(lambda: not app.is_training, 30, "training to stop")

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


def measure_latency(settings: Settings, log=print) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    out = {}
    for preset in settings.latency_presets:
        r = key_latency(preset, settings.presses, settings.size)
        log(
            f"  keys  {preset:8} p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
            f"max {r['max_ms']:.1f} ms ({r['presses']} presses, {r['epochs_during']} epochs)"
        )
        out[preset] = r
    return out


# ---- 3. peak RSS -----------------------------------------------------------------------------
_RSS_APP = """
import asyncio, json, resource, sys, time
from miniframe.tui.bench import _bench_app_class, _spec, _wait, _post_key
preset, epochs = sys.argv[1], int(sys.argv[2])
async def main():
    app = _bench_app_class()(_spec(preset, epochs))
    async with app.run_test(size=(120, 40)):
        await _wait(lambda: app.engine_ready, 60, "torch")
        _post_key(app, "t")
        await _wait(lambda: app.state.status == "finished", 900, "the run to finish")
        await asyncio.sleep(0.3)
    assert app.state.epoch == epochs, app.state.epoch
asyncio.run(main())
print(json.dumps({"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

_RSS_TORCH = """
import json, resource
import torch
print(json.dumps({"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _child_rss(code: str, *args: str) -> float:
    """Peak RSS (MB, 10^6 bytes) a fresh interpreter reports for itself after ``code``."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        raise RuntimeError(f"RSS subprocess failed:\n{proc.stderr[-2000:]}")
    kib = json.loads(proc.stdout.strip().splitlines()[-1])["maxrss_kib"]
    return kib * 1024 / 1e6


def measure_rss(settings: Settings, log=print) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    torch_mb = _child_rss(_RSS_TORCH)
    app_mb = _child_rss(_RSS_APP, "deep", str(settings.rss_epochs))
    log(f"  rss   torch only {torch_mb:.0f} MB, app training deep {app_mb:.0f} MB")
    return {"app_deep_mb": app_mb, "torch_only_mb": torch_mb, "epochs": settings.rss_epochs}


# ---- 4. time to first paint ------------------------------------------------------------------
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[P^_X][^\x1b]*\x1b\\"  # DCS / PM / APC / SOS
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x1b[()][0-9A-Za-z]"
)
PAINT_NEEDLES = ("Layers", "Linear 2 → 25")
READY_NEEDLE = "press t to train"


def launch_once(timeout: float = 30.0, wait_ready: bool = True) -> dict[str, float]:
    """Spawn ``python -m miniframe.tui`` in an 80×24 pty; seconds to first paint and ready."""
    import pty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    with tempfile.TemporaryDirectory() as config:
        env = dict(os.environ, TERM="xterm-256color", MINIFRAME_CONFIG_DIR=config)
        for var in ("COLUMNS", "LINES", "TEXTUAL", "TEXTUAL_DRIVER"):
            env.pop(var, None)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "miniframe.tui"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        buf = bytearray()
        first = ready = math.nan
        try:
            deadline = t0 + timeout
            while time.perf_counter() < deadline:
                readable, _, _ = select.select([master], [], [], 0.02)
                if readable:
                    try:
                        data = os.read(master, 1 << 16)
                    except OSError:
                        break
                    if not data:
                        break
                    buf += data
                    now = time.perf_counter()
                    text = _ANSI.sub("", buf.decode("utf-8", "replace"))
                    if math.isnan(first) and all(n in text for n in PAINT_NEEDLES):
                        first = now - t0
                    if math.isnan(ready) and READY_NEEDLE in text:
                        ready = now - t0
                if not math.isnan(first) and (not wait_ready or not math.isnan(ready)):
                    break
                if proc.poll() is not None:
                    break
            os.write(master, b"\x11")  # ctrl+q
            quit_deadline = time.monotonic() + 10
            while proc.poll() is None and time.monotonic() < quit_deadline:
                if select.select([master], [], [], 0.05)[0]:
                    try:
                        os.read(master, 1 << 16)
                    except OSError:
                        break
            try:
                proc.wait(timeout=max(0.1, quit_deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            os.close(master)
    if math.isnan(first):
        tail = _ANSI.sub("", buf.decode("utf-8", "replace"))[-500:]
        raise RuntimeError(f"the layer stack never appeared (exit {proc.returncode}): {tail!r}")
    return {"first_paint_s": first, "ready_s": ready, "exit_code": proc.returncode}


def measure_first_paint(settings: Settings, log=print) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    runs = []
    for i in range(settings.launches):
        r = launch_once()
        runs.append(r)
        log(
            f"  paint launch {i + 1}: first paint {r['first_paint_s']:.3f} s, "
            f"torch ready {r['ready_s']:.3f} s, exit {r['exit_code']}"
        )
    return {
        "first_paint_s": statistics.median(r["first_paint_s"] for r in runs),
        "ready_s": statistics.median(r["ready_s"] for r in runs),
        "launches": runs,
    }


# ---- report ----------------------------------------------------------------------------------
def table_rows(results: Results) -> list[tuple[str, str, str, str]]:
    rows = []
    for preset, s in results.speed.items():
        ok = s["ratio"] >= TARGET_RATIO
        rows.append(
            (
                f"epochs/s in app ÷ headless ({preset})",
                f"{s['ratio']:.2f} "
                f"({s['app_epochs_per_s']:.1f} / {s['headless_epochs_per_s']:.1f})",
                f"≥ {TARGET_RATIO:.2f}",
                "yes" if ok else "NO",
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
    if results.first_paint:
        r = results.first_paint
        rows.append(
            (
                "time to first paint (80×24 pty)",
                f"{r['first_paint_s']:.2f} s (torch ready {r['ready_s']:.2f} s)",
                f"≤ {TARGET_FIRST_PAINT_S:.1f} s",
                "yes" if r["first_paint_s"] <= TARGET_FIRST_PAINT_S else "NO",
            )
        )
    return rows


def format_table(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("metric", "measured", "target", "ok")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def run_all(settings: Settings, log=print) -> Results:  # type: ignore[no-untyped-def]
    results = Results()
    log("time to first paint:")
    results.first_paint = measure_first_paint(settings, log)
    log("peak RSS:")
    results.rss = measure_rss(settings, log)
    from .session import load_engine

    load_engine()
    log("training speed:")
    results.speed = measure_speed(settings, log)
    log("key press → repaint:")
    results.latency = measure_latency(settings, log)
    return results


def _load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m miniframe.tui.bench",
        description="Measure the terminal trainer's cost: training speed in the app, key "
        "latency while training, peak memory, time to first paint.",
    )
    parser.add_argument("--epochs", type=int, help="epochs per speed measurement (default 100)")
    parser.add_argument("--repeats", type=int, help="interleaved repeats (default 3)")
    parser.add_argument("--presses", type=int, help="key presses per preset (default 60)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--quick", action="store_true", help="tiny settings (a smoke run)")
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings()
    if args.epochs is not None:
        settings.epochs = max(2, args.epochs)
    if args.repeats is not None:
        settings.repeats = max(1, args.repeats)
    if args.presses is not None:
        settings.presses = max(1, args.presses)
    os.environ.setdefault("MINIFRAME_CONFIG_DIR", tempfile.mkdtemp(prefix="miniframe-bench-"))
    print(f"miniframe-tui bench: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {_load_average()}")  # fmt: skip
    t0 = time.perf_counter()
    results = run_all(settings, log=print)
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
