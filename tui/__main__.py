"""``miniframe-tui`` / ``python -m miniframe.tui``: parse the arguments, start the trainer.

Argument errors (unknown preset, missing or malformed file, unknown theme) print one line on
stderr and exit with status 2, before any screen is drawn. torch is not imported here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from miniframe import __version__
from miniframe.cli.args import Parser, name, path

#: Friendly names for Textual's 16-colour themes (they use the terminal's own palette).
THEME_ALIASES = {"textual-ansi": "ansi-dark", "ansi": "ansi-dark"}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="miniframe-tui",
        description="Terminal trainer for miniframe: build a network, train it, watch it learn.",
        epilog="Keys: t train/stop, p pause, n step, r reset, a/i/d/e layers, o presets, "
        "ctrl+p command palette, ctrl+q quit.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--preset", metavar="NAME", type=name("preset"), help="start from a built-in or your preset"
    )
    source.add_argument(
        "--config", metavar="FILE", type=path("config file"), help="start from a run spec"
    )
    source.add_argument(
        "--checkpoint", metavar="FILE", type=path("checkpoint"), help="load a saved model"
    )
    parser.add_argument(
        "--theme", metavar="NAME", help="colour theme, e.g. textual-ansi for 16-colour terminals"
    )
    parser.add_argument("--version", action="version", version=f"miniframe-tui {__version__}")
    return parser


def _fail(message: str) -> int:
    print(f"miniframe-tui: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = build_parser().parse_args(argv)
    from miniframe.engine import (
        CheckpointError,
        RunSpec,
        SpecError,
        inspect_checkpoint,
        load_preset,
    )

    spec: RunSpec | None = None
    checkpoint: Path | None = None
    try:
        if args.preset is not None:
            spec = load_preset(args.preset)  # the one store: built-in or yours
        elif args.config is not None:
            spec = RunSpec.load(args.config)
        elif args.checkpoint is not None:
            inspect_checkpoint(args.checkpoint)  # verified (torch-free) before the screen opens
            checkpoint = args.checkpoint
    except (SpecError, CheckpointError, OSError) as e:
        return _fail(str(e))
    theme = THEME_ALIASES.get(args.theme, args.theme) if args.theme else None
    if theme:
        from textual.theme import BUILTIN_THEMES

        if theme not in BUILTIN_THEMES:
            names = ", ".join([*BUILTIN_THEMES, *THEME_ALIASES])
            return _fail(f"unknown theme {args.theme!r}; choose one of {names}")

    from .app import TrainerApp

    app = TrainerApp(spec, checkpoint=checkpoint, theme=theme)
    result = app.run()
    return int(result or 0) if app.return_code is None else app.return_code


if __name__ == "__main__":
    sys.exit(main())
