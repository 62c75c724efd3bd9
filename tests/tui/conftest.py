"""Shared helpers for the terminal-trainer tests: a tiny spec, a temp config dir, a runner."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual import events

from miniframe.engine.spec import DataSpec, LayerSpec, RunSpec, SolverSpec


def tiny_spec(epochs: int = 4, n: int = 64, **changes: object) -> RunSpec:
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


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """User config (presets) in a temp folder, via the env var the app reads."""
    folder = tmp_path / "config"
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(folder))
    return folder


def run(coro: Awaitable[None]) -> None:
    """Run a Pilot coroutine (no pytest-asyncio needed)."""
    asyncio.run(coro)  # type: ignore[arg-type]


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.02)


async def press(pilot, *keys: str) -> None:
    """Send keys as the terminal driver would, without Pilot.press's wait-for-idle (which
    waits up to 2 s per key while a training thread keeps the CPU busy)."""
    for key in keys:
        char = key if len(key) == 1 else None
        pilot.app.post_message(events.Key(key, char))
        await pilot.pause(0.01)


async def resize(pilot, width: int, height: int) -> None:
    """Resize the headless terminal (as Pilot.resize_terminal, minus its wait-for-idle)."""
    from textual.drivers.headless_driver import HeadlessDriver
    from textual.events import Resize
    from textual.geometry import Size

    size = Size(width, height)
    if isinstance(pilot.app._driver, HeadlessDriver):
        pilot.app._driver._size = size
    pilot.app.post_message(Resize(size, size))
    await pilot.pause(0.05)
