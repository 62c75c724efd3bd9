"""Fixtures for the terminal-trainer tests (helper functions live in ``tui_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """User config (presets) in a temp folder, via the env var the app reads."""
    folder = tmp_path / "config"
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(folder))
    return folder
