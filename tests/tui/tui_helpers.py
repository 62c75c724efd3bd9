"""Helpers for the terminal-trainer tests: a tiny spec, a runner, and waits on conditions.

Imported as ``from tui_helpers import ...`` (not from ``conftest``: ``tests/`` and
``tests/tui/`` both have a ``conftest.py`` and neither folder is a package, so the module
name ``conftest`` means whichever pytest loaded last). The name is unique in the test tree for
the same reason: pytest's default ``prepend`` import mode puts this folder on ``sys.path``,
and a bare ``helpers`` could resolve to another folder's module.

No test depends on timing: after a key, a test waits for the state it expects (``wait_for``,
generous timeout) instead of pausing a fixed time or asserting at once. The machines these
run on are shared and their speed varies several-fold, so a wait only ever bounds a failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events
from textual.pilot import Pilot

from miniframe.engine.spec import DataSpec, LayerSpec, RunSpec, SolverSpec

#: How long a test waits for a condition before failing. Generous: a loaded 2-core machine
#: can be 5-10x slower than a quiet one, and a wait returns as soon as the condition holds.
TIMEOUT = 20.0


def tiny_spec(epochs: int = 4, n: int = 64, **changes: Any) -> RunSpec:
    """A spec that trains in milliseconds: 2-8-2 ReLU net, 64 points."""
    spec = RunSpec(
        layers=[LayerSpec("linear", 8), LayerSpec("relu"), LayerSpec("linear", 2)],
        loss="cross-entropy",
        solver=SolverSpec(name="adam", lr=0.01),
        data=DataSpec(name="disk", n_train=n, n_test=n, center=True),
        init="he",
        epochs=epochs,
        batch_size=16,
        seed=0,
        name="tiny",
    )
    return spec.replace(**changes) if changes else spec


def run(coro: Awaitable[None]) -> None:
    """Run a Pilot coroutine (no pytest-asyncio needed)."""

    async def main() -> None:
        await coro

    asyncio.run(main())


def _describe(condition: Callable[[], object]) -> str:
    code = getattr(condition, "__code__", None)
    if code is None:
        return repr(condition)
    name = getattr(condition, "__qualname__", "condition")
    return f"{name} ({code.co_filename}:{code.co_firstlineno})"


async def wait_for(
    pilot: Pilot[Any],
    condition: Callable[[], object],
    timeout: float = TIMEOUT,
    what: str | None = None,
) -> None:
    """Let the app run until ``condition()`` is true; fail after ``timeout`` seconds.

    The condition is checked first, so a state that already holds costs nothing.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            state = getattr(pilot.app, "state", None)
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {what or _describe(condition)}"
                + (f"; the app's state: {state}" if state is not None else "")
            )
        await pilot.pause(0.02)


async def wait_ready(pilot: Pilot[Any], engine: bool = False) -> None:
    """Wait until every panel is mounted (the trainer mounts the settings, charts and
    boundary just after its first frame) and, with ``engine``, torch is loaded."""
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app, "ui_ready", True), what="the panels to mount")
    if engine:
        await wait_for(pilot, lambda: getattr(app, "engine_ready", False), what="torch to load")


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the screen is complete and quiet: every panel mounted, no worker running,
    no animation or scheduled callback pending (for snapshots)."""
    app = pilot.app
    await wait_ready(pilot)
    await wait_for(
        pilot,
        lambda: not [w for w in app.workers if not w.is_finished],
        what="every worker to finish",
    )
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Send keys as the terminal driver would, without Pilot.press's wait-for-idle (which
    waits up to 2 s per key while a training thread keeps the CPU busy). Callers wait for
    the state they expect afterwards."""
    for key in keys:
        char = key if len(key) == 1 else None
        if key == "space":
            char = " "
        pilot.app.post_message(events.Key(key, char))
        await pilot.pause(0)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type ``text`` key by key (space included)."""
    await press(pilot, *["space" if c == " " else c for c in text])


def notes(app: Any) -> list[str]:
    """Every notification the app showed (recorded by conftest's autouse fixture; Textual
    itself forgets a notification once it timed out)."""
    recorded: list[str] | None = getattr(app, "notes", None)
    return recorded if recorded is not None else [n.message for n in app._notifications]


def notified(app: Any, needle: str) -> bool:
    """Whether a notification containing ``needle`` was shown."""
    return any(needle in note for note in notes(app))


async def resize(pilot: Pilot[Any], width: int, height: int) -> None:
    """Resize the headless terminal (as Pilot.resize_terminal, minus its wait-for-idle)."""
    from textual.drivers.headless_driver import HeadlessDriver
    from textual.events import Resize
    from textual.geometry import Size

    size = Size(width, height)
    if isinstance(pilot.app._driver, HeadlessDriver):
        pilot.app._driver._size = size
    pilot.app.post_message(Resize(size, size))
    await wait_for(pilot, lambda: pilot.app.size == size, what=f"the size {width}x{height}")


async def wait_dialog(pilot: Pilot[Any], cls: type) -> Any:
    """Wait until a ``cls`` dialog is the active screen and has the keyboard focus (keys
    sent before that would go to the screen underneath); return it."""
    app = pilot.app

    def ready() -> bool:
        screen = app.screen
        if not isinstance(screen, cls) or not screen.is_mounted:
            return False
        return screen.focused is not None or not screen.focus_chain

    await wait_for(pilot, ready, what=f"the {cls.__name__} dialog")
    return app.screen


async def wait_closed(pilot: Pilot[Any], cls: type) -> None:
    """Wait until no ``cls`` dialog is on the screen stack."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: not any(isinstance(s, cls) for s in app.screen_stack),
        what=f"the {cls.__name__} dialog to close",
    )


def commit_setting(app: Any, name: str, text: str) -> None:
    """Put ``text`` in the setting ``name`` and commit it (as Enter or leaving it would)."""
    from miniframe.tui.widgets.settings_panel import SettingsPanel

    field = app.query_one(f"#set-{name}")
    field.value = text
    app.query_one(SettingsPanel).commit(field)
