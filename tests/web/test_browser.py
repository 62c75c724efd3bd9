"""The served trainer in a real browser: Debian's Chromium, headless, driven by Playwright.

``make test-web`` runs these (marked ``browser``; ``tools/ensure-chromium.sh`` installs
Chromium when it is missing and we are root). No browser is downloaded: Playwright drives
the system's ``chromium`` (or ``$MINIFRAME_CHROMIUM``).

xterm.js draws the terminal on a canvas, so the page has no text to read. The tests read the
trainer's state in three other ways: the screen as the page's websocket received it (escape
codes stripped: the characters xterm.js draws), the run history the trainer writes (its
epochs, its end status), and screenshots (not blank; changed by training). Every wait polls a
condition through Playwright (which keeps the page's events flowing) with a generous limit.
"""

from __future__ import annotations

import codecs
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from web_helpers import (
    FIRST_LAYER,
    READY,
    STOP_TIMEOUT,
    TIMEOUT,
    alive,
    last_epoch,
    png_colours,
    runs_of,
    screen_text,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc"),
]

#: The key that opens the help, and what the help shows. Until the trainer has its own help
#: screen (issue #18's ``?``), the command palette is its help.
HELP = ("Control+p", "Search for commands")
VIEWPORT = {"width": 1000, "height": 620}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def chromium_path() -> str:
    path = os.environ.get("MINIFRAME_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "no Chromium: `make test-web` installs it (apt-get install -y chromium), or set "
            "MINIFRAME_CHROMIUM to a Chromium executable"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    args = ["--disable-dev-shm-usage"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=args)
        yield chromium
        chromium.close()


class Tab:
    """A browser tab (its own context) on ``url``: what it requested, what its websocket
    received, what its console said."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.sockets: list[str] = []
        self.raw = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("websocket", self._on_websocket)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.response = self.page.goto(url)

    def _on_websocket(self, websocket: Any) -> None:
        self.sockets.append(websocket.url)
        websocket.on("framereceived", self._on_frame)

    def _on_frame(self, payload: bytes | str) -> None:
        if isinstance(payload, bytes):  # the trainer's output (text frames are pongs)
            self.raw += self._decoder.decode(payload)

    def text(self, since: int = 0) -> str:
        """The screen's characters as received (from offset ``since`` of the raw stream)."""
        return screen_text(self.raw[since:])

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            self.page.wait_for_timeout(50)  # lets Playwright deliver the page's events
        return result

    def press(self, key: str) -> None:
        """A key into the terminal (xterm.js's input element has the focus, as after a click,
        without a mouse event reaching the app)."""
        self.page.locator(".xterm-helper-textarea").focus()
        self.page.keyboard.press(key)

    def ended(self) -> bool:
        """The page shows "the trainer has ended" (its websocket closed)."""
        return bool(self.page.evaluate("() => document.body.classList.contains('-closed')"))

    def has_keyboard(self) -> bool:
        """The terminal's input element has the focus: keys typed go to the trainer."""
        return bool(
            self.page.evaluate(
                "() => !!document.activeElement &&"
                " document.activeElement.classList.contains('xterm-helper-textarea')"
            )
        )

    def screenshot(self) -> bytes:
        return bytes(self.page.screenshot())

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser: Any) -> Iterator[Callable[[str], Tab]]:
    opened: list[Tab] = []

    def open_tab(url: str) -> Tab:
        tab = Tab(browser, url)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()


def test_the_trainer_in_a_browser(serve, tabs, tmp_path: Path) -> None:
    """Open the printed URL, see the layer stack, train (the epoch counter advances), open the
    help, quit; nothing is loaded from outside this machine."""
    server = serve()
    tab = tabs(server.url)
    assert tab.response.status == 200
    tab.wait(lambda: "Layers" in tab.text() and FIRST_LAYER in tab.text(), "the layer stack")
    (pid,) = server.wait_opened(1)
    tab.wait(lambda: READY in tab.text(), "torch to load")
    before = tab.screenshot()
    tab.wait(tab.has_keyboard, "the page to give the terminal the keyboard")

    tab.page.keyboard.press("t")  # no click first: the page focused the terminal itself
    tab.wait(lambda: last_epoch(tab.text()) >= 3, "the epoch counter to advance")
    tab.wait(lambda: any(r.epochs >= 3 for r in runs_of(server.data, pid)), "recorded epochs")
    shot = tab.screenshot()
    (tmp_path / "trainer.png").write_bytes(shot)
    colours, commonest = png_colours(shot)
    assert colours >= 16 and commonest < 0.9, (colours, commonest)  # not blank
    assert png_colours(before) != (colours, commonest)  # training changed what is drawn

    key, shows = HELP
    mark = len(tab.raw)
    tab.press(key)
    tab.wait(lambda: shows in tab.text(mark), f"the help ({shows!r})")
    tab.press("Escape")

    tab.press("Control+q")
    tab.wait(tab.ended, "the page to show the trainer ended")
    tab.wait(lambda: pid in server.closed(), "the server to end the session")
    assert not alive(pid)
    assert [r.status for r in runs_of(server.data, pid)] == ["interrupted"]  # quit mid-run

    # offline: every request went to this server, the font included, and nothing failed
    hosts = {urlsplit(url).hostname for url in tab.requests + tab.sockets}
    assert hosts == {"127.0.0.1"}, tab.requests
    assert any(url.endswith(".ttf") for url in tab.requests)
    assert tab.page.evaluate("() => document.fonts.check(\"16px 'Roboto Mono'\")")
    assert tab.errors == []


def test_without_the_token_the_browser_gets_nothing(serve, tabs) -> None:
    server = serve()
    for url, status, says in [
        (f"{server.base}/", 401, "needs its access token"),
        (f"{server.base}/?token=guess", 403, "not this server's"),
    ]:
        tab = tabs(url)
        assert tab.response.status == status
        assert says in tab.page.inner_text("body")
        assert tab.sockets == []
    assert server.opened() == []

    # from the trainer's own page (its policy allows this server's websockets): the
    # websocket without the token, or with another one, never opens
    tab = tabs(server.url)
    server.wait_opened(1)
    probe = """async (url) => await new Promise((done) => {
        const socket = new WebSocket(url);
        socket.onopen = () => done("open");
        socket.onclose = (event) => done("closed " + event.code);
    })"""
    for path in ("/ws", "/ws/guess", f"/ws/{server.token[:-1]}"):
        assert tab.page.evaluate(probe, f"ws://127.0.0.1:{server.port}{path}") == "closed 1006"
    assert len(server.opened()) == 1  # no trainer started for them


def test_two_tabs_train_independently_and_stopping_the_server_ends_both(serve, tabs) -> None:
    server = serve()
    first = tabs(server.url)
    (pid1,) = server.wait_opened(1)
    second = tabs(server.url)
    _, pid2 = server.wait_opened(2)
    for tab in (first, second):
        tab.wait(lambda t=tab: READY in t.text(), "torch to load")

    def epochs(pid: int) -> int:
        return max((r.epochs for r in runs_of(server.data, pid)), default=0)

    def status(pid: int) -> str | None:
        runs = runs_of(server.data, pid)
        return runs[-1].status if runs else None

    first.press("t")
    first.wait(lambda: epochs(pid1) >= 3, "the first tab's trainer to train")
    assert status(pid2) is None and last_epoch(second.text()) <= 0  # the second is idle

    second.press("t")
    second.wait(lambda: epochs(pid2) >= 3, "the second tab's trainer to train")
    first.press("t")  # stop the first
    first.wait(lambda: status(pid1) == "stopped", "the first run to stop")
    stopped_at, going = epochs(pid1), epochs(pid2)
    second.wait(lambda: epochs(pid2) >= going + 3, "the second to go on training")
    assert epochs(pid1) == stopped_at and status(pid2) == "running"

    assert server.stop(signal.SIGTERM) == 143
    assert not alive(pid1) and not alive(pid2)
    assert (status(pid1), status(pid2)) == ("stopped", "interrupted")
    for tab in (first, second):
        tab.wait(tab.ended, "the page to show the trainer ended", timeout=STOP_TIMEOUT)


def test_the_benchmark_prints_its_figures(tmp_path: Path) -> None:
    """``make bench-web`` at its smallest: one counted launch of each side, a screenshot."""
    import subprocess

    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "web_bench.py"
    shot = tmp_path / "page.png"
    out = subprocess.run(
        [sys.executable, str(bench), "--launches", "1", "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "terminal (80×24 pty): first paint" in out.stdout
    assert "first frame drawn" in out.stdout and "browser ÷ terminal:" in out.stdout
    colours, commonest = png_colours(shot.read_bytes())
    assert colours >= 16 and commonest < 0.9
