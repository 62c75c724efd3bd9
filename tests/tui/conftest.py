"""Fixtures for the terminal-trainer tests (helper functions live in ``tui_helpers``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from miniframe.tui.app import TrainerApp


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """User config (presets) in a temp folder, via the env var the app reads."""
    folder = tmp_path / "config"
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def record_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every notification an app shows is also kept in ``app.notes`` (Textual drops a
    notification from the screen after its timeout, which a slow machine can outlast)."""
    original = TrainerApp.notify

    def notify(self: TrainerApp, message: str, *args: Any, **kwargs: Any) -> None:
        self.__dict__.setdefault("notes", []).append(str(message))
        original(self, message, *args, **kwargs)

    monkeypatch.setattr(TrainerApp, "notify", notify)
