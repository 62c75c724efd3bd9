"""``miniframe-tui`` / ``python -m miniframe.tui``: parse the arguments, start the trainer.

Argument errors (unknown preset, missing or malformed file, unknown theme) print one line on
stderr and exit with status 2, before any screen is drawn. torch is not imported here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from miniframe import __version__

#: Friendly names for Textual's 16-colour themes (they use the terminal's own palette).
THEME_ALIASES = {"textual-ansi": "ansi-dark", "ansi": "ansi-dark"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"miniframe-tui: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="miniframe-tui",
        description="Terminal trainer for miniframe: build a network, train it, watch it learn.",
        epilog="Keys: t train/stop, p pause, n step, r reset, a/i/d/e layers, o presets, "
        "ctrl+p command palette, ctrl+q quit.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--preset", metavar="NAME", help="start from a shipped or user preset")
    source.add_argument("--config", metavar="FILE", help="start from a run spec (TOML/JSON)")
    source.add_argument("--checkpoint", metavar="FILE", help="load a saved model checkpoint")
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
    from miniframe.engine.spec import RunSpec, SpecError

    from . import presets as preset_store

    spec: RunSpec | None = None
    checkpoint: Path | None = None
    try:
        if args.preset:
            entry = preset_store.find_preset(args.preset)
            if entry is None:
                names = ", ".join(e.name for e in preset_store.list_presets())
                return _fail(f"unknown preset {args.preset!r}; choose one of {names}")
            spec = preset_store.load_entry(entry)
        elif args.config:
            spec = RunSpec.load(args.config)
        elif args.checkpoint:
            checkpoint = Path(args.checkpoint)
            if not checkpoint.is_file():
                return _fail(f"{checkpoint}: no such file")
    except (SpecError, OSError) as e:
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
