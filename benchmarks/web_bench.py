"""``python benchmarks/web_bench.py``: the trainer's first frame in a browser, beside its first
paint in a terminal, measured in one run (``make bench-web``; needs Chromium, as the browser
tests do).

- **Terminal**: ``python -m miniframe.tui`` spawned in an 80×24 pseudo-terminal, timed from the
  spawn until its output (escape codes stripped) holds "Layers" and "Linear 2 → 25" (the
  layer stack): :func:`tui_bench.launch_once`, the same figure ``make bench-tui`` reports.
- **Browser**: one ``miniframe-tui --serve --port 0`` and one headless Chromium for the whole
  run; each launch is a fresh browser context opening the printed URL. A script added to the
  page timestamps, in the page's own clock (milliseconds since the navigation started): the
  page parsed, the websocket created and open, its first byte of output, the first output
  that holds the same two strings (the first frame *received*), and two animation frames
  later (the first frame *drawn*: xterm.js draws on an animation frame). The trainer process
  starts when the websocket opens, so the browser's figure is the page and its script, the
  handshake, the trainer's own start to its first paint, the relay, and the drawing.

Launches alternate (terminal then browser, then browser then terminal) after one uncounted
launch of each, so both see the same host: its speed drifts by 20 % and more over minutes.
Each launch waits until torch has loaded ("press t to train") before it ends, so no launch
starts while the previous trainer still imports it. Printed: the medians, their ratio and the
median of each pair's ratio. ``--screenshot PATH`` saves the last page once torch has loaded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tui_bench  # the terminal's first paint, measured as make bench-tui does

from miniframe.engine.plurals import plural

NEEDLES = tui_bench.PAINT_NEEDLES
READY = tui_bench.READY_NEEDLE
#: About 80×24 cells of Roboto Mono at 16 px, as the terminal side.
VIEWPORT = {"width": 722, "height": 515}
TIMEOUT_S = 120.0
URL = re.compile(r"http://127\.0\.0\.1:\d+/\?token=\S+")

# Runs in the page before its own scripts: wraps WebSocket to timestamp the trainer's output.
# The escape codes are stripped with tui_bench's pattern (valid in JavaScript too).
MARKS_SCRIPT = (
    """
(() => {
  const needles = NEEDLES, ready = READY, ansi = new RegExp(ANSI, "g");
  const marks = (window.__miniframeMarks = {});
  const mark = (name) => { if (!(name in marks)) marks[name] = performance.now(); };
  document.addEventListener("DOMContentLoaded", () => mark("page_parsed"));
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      mark("socket_created");
      const decoder = new TextDecoder();
      let text = "";
      this.addEventListener("open", () => mark("socket_open"));
      this.addEventListener("message", (event) => {
        if (typeof event.data === "string") return;
        mark("first_byte");
        text += decoder.decode(new Uint8Array(event.data), { stream: true });
        const plain = text.replace(ansi, "");
        if (!("frame_received" in marks) && needles.every((n) => plain.includes(n))) {
          mark("frame_received");
          requestAnimationFrame(() => requestAnimationFrame(() => mark("frame_drawn")));
        }
        if (plain.includes(ready)) mark("ready");
      });
    }
  };
})();
""".replace("NEEDLES", json.dumps(list(NEEDLES)))
    .replace("READY", json.dumps(READY))
    .replace("ANSI", json.dumps(tui_bench._ANSI.pattern))
)
BROWSER_MARKS = (
    "page_parsed",
    "socket_open",
    "first_byte",
    "frame_received",
    "frame_drawn",
)


def chromium_path() -> str:
    path = os.environ.get("MINIFRAME_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise SystemExit(
            "web_bench: no Chromium (apt-get install -y chromium, or set MINIFRAME_CHROMIUM)"
        )
    return path


class Server:
    """``miniframe-tui --serve --port 0`` for the run; its output read by a thread."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "miniframe.tui", "--serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + TIMEOUT_S
        while not (match := URL.search("".join(self.lines))):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the server did not start: " + "".join(self.lines))
            time.sleep(0.05)
        self.url = match.group(0)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def sessions_closed(self) -> int:
        return sum(" closed: " in line for line in self.lines)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def browser_launch(browser: Any, server: Server, screenshot: Path | None = None) -> dict[str, Any]:
    """Open the trainer's page in a fresh context; its marks in seconds since navigation."""
    closed = server.sessions_closed()
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(MARKS_SCRIPT)
        page = context.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(server.url)
        page.wait_for_function(
            "() => ['frame_drawn', 'ready'].every((m) => m in (window.__miniframeMarks || {}))",
            timeout=TIMEOUT_S * 1000,
        )
        marks: dict[str, float] = page.evaluate("() => window.__miniframeMarks")
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
    finally:
        context.close()  # the trainer leaves when its page goes
    deadline = time.monotonic() + TIMEOUT_S
    while server.sessions_closed() <= closed and time.monotonic() < deadline:
        time.sleep(0.05)
    size = re.search(r"width=(\d+)&height=(\d+)", sockets[0]) if sockets else None
    result: dict[str, Any] = {name: marks[name] / 1000 for name in BROWSER_MARKS}
    result["cells"] = f"{size.group(1)}×{size.group(2)}" if size else "?"
    return result


def measure(launches: int, screenshot: Path | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    config = tempfile.mkdtemp(prefix="web-bench-config-")
    data = tempfile.mkdtemp(prefix="web-bench-data-")
    env = dict(os.environ, MINIFRAME_CONFIG_DIR=config, MINIFRAME_DATA_DIR=data)
    env.pop("TEXTUAL_DRIVER", None)
    args = ["--disable-dev-shm-usage"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    server = Server(env)
    terminal: list[float] = []
    browser_runs: list[dict[str, Any]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=args)
            try:
                tui_bench.launch_once("trainer", config)  # warm-up, uncounted
                browser_launch(browser, server)
                for i in range(launches):
                    order = ("terminal", "browser") if i % 2 == 0 else ("browser", "terminal")
                    for side in order:
                        if side == "terminal":
                            terminal.append(
                                tui_bench.launch_once("trainer", config)["first_paint_s"]
                            )
                        else:
                            last = i == launches - 1
                            browser_runs.append(
                                browser_launch(browser, server, screenshot if last else None)
                            )
                    b = browser_runs[-1]
                    print(
                        f"  launch {i + 1}: terminal first paint {terminal[-1]:.3f} s; browser "
                        f"first frame drawn {b['frame_drawn']:.3f} s after page load "
                        f"(received {b['frame_received']:.3f} s, websocket open "
                        f"{b['socket_open']:.3f} s, {b['cells']} cells)",
                        flush=True,
                    )
            finally:
                browser.close()
    finally:
        server.stop()
        shutil.rmtree(config, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    medians = {m: statistics.median(r[m] for r in browser_runs) for m in BROWSER_MARKS}
    pairs = [b["frame_drawn"] / t for b, t in zip(browser_runs, terminal, strict=True)]
    return {
        "terminal_first_paint_s": statistics.median(terminal),
        "browser": medians,
        "ratio_of_medians": medians["frame_drawn"] / statistics.median(terminal),
        "median_pair_ratio": statistics.median(pairs),
        "cells": browser_runs[-1]["cells"],
        "launches": launches,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=9, help="counted launches of each")
    parser.add_argument("--screenshot", type=Path, help="save the last page (torch loaded)")
    args = parser.parse_args(argv)
    launches = plural(args.launches, "launch")
    print(f"web_bench: {launches} of each, alternating, after one warm-up each")
    r = measure(args.launches, args.screenshot)
    b = r["browser"]
    print(
        f"terminal (80×24 pty): first paint {r['terminal_first_paint_s']:.3f} s after spawn "
        f"(median of {r['launches']})"
    )
    print(
        f"browser ({r['cells']} cells): first frame drawn {b['frame_drawn']:.3f} s after page "
        f"load (median); on the way: page parsed {b['page_parsed']:.3f} s, websocket open "
        f"{b['socket_open']:.3f} s, first byte {b['first_byte']:.3f} s, first frame received "
        f"{b['frame_received']:.3f} s"
    )
    print(
        f"browser ÷ terminal: {r['ratio_of_medians']:.2f} (ratio of the medians), "
        f"{r['median_pair_ratio']:.2f} (median of each pair's ratio)"
    )
    if args.screenshot is not None:
        print(f"screenshot: {args.screenshot}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
