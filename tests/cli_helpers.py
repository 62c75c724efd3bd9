"""Helpers for the command-line tests: run ``miniframe`` in this process and check a one-line
failure. Imported as ``from cli_helpers import ...`` (a name unique in the test tree, as
``tui_helpers`` is: pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

from typing import Any

from miniframe.cli import main


def run(capsys: Any, *argv: object) -> tuple[int, str, str]:
    """``miniframe ARGV…`` here; its exit status, stdout and stderr."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def bad_input(capsys: Any, *argv: object) -> str:
    """Run with bad input: exit status 2 and exactly one line on stderr, no traceback; the
    line is returned."""
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]
