"""Fixtures for the ``--serve`` tests (helpers live in ``web_helpers``: see its docstring)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from web_helpers import Server, long_config


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers (``serve("--max-sessions", "1")``); each trains the tiny long spec
    unless given its own start. Whatever is left is killed afterwards, trainers included."""
    started: list[Server] = []

    def start(*args: str) -> Server:
        if not any(a in args for a in ("--preset", "--config", "--checkpoint")):
            args = ("--config", str(long_config(tmp_path / "spec")), *args)
        server = Server(tmp_path / f"server{len(started)}", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
