"""``miniframe-tui`` / ``python -m miniframe.tui``: parse the arguments, start the trainer.

Argument errors (unknown preset, missing or malformed file, unknown theme) print one line on
stderr and exit with status 2, before any screen is drawn. torch is not imported here.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from miniframe import __version__

if TYPE_CHECKING:
    from miniframe.engine.spec import RunSpec

#: Friendly names for Textual's 16-colour themes (they use the terminal's own palette).
THEME_ALIASES = {"textual-ansi": "ansi-dark", "ansi": "ansi-dark"}


def build_parser() -> argparse.ArgumentParser:
    # Imported here (it loads the engine's registry): main() turns the collector off first.
    from miniframe.cli.args import Parser, name, path

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
    parser.add_argument(
        "--no-record", action="store_true", help="don't record runs in the run history"
    )
    parser.add_argument("--version", action="version", version=f"miniframe-tui {__version__}")
    from .web.options import add_arguments

    add_arguments(parser)  # --serve and its options
    return parser


def _fail(message: str) -> int:
    print(f"miniframe-tui: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    # Start-up only allocates what lives as long as the process (modules, classes, the first
    # widgets): garbage collections during it free nothing and took ~60 ms of the ~0.55 s to
    # the first frame (measured, see the README's trainer's-cost section). The collector is
    # off until torch has loaded; then the app freezes the start-up heap and turns it back on
    # (TrainerApp._engine_loaded). Leaving early (bad arguments) turns it back on here.
    collecting = gc.isenabled()
    gc.disable()
    from .hangup import quit_quietly_on_signals, restore_signals

    # Ctrl-C (or a hang-up) while the modules import and the arguments are checked: exit at
    # once with 130 (129, 143) and no traceback.
    previous = quit_quietly_on_signals()
    try:
        return _main(argv)
    finally:
        restore_signals(previous)
        if collecting:
            gc.enable()


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from .web.options import serve_options

    try:
        serving = serve_options(args)
    except ValueError as e:
        return _fail(str(e))
    from miniframe.engine import RunSpec, SpecError, load_preset

    spec: RunSpec | None = None
    checkpoint: Path | None = None
    try:
        if args.preset is not None:
            spec = load_preset(args.preset)  # the one store: built-in or yours
        elif args.config is not None:
            spec = RunSpec.load(args.config)
        elif args.checkpoint is not None:
            # verified (torch-free) before the screen opens; the module (and its hashing
            # library) is loaded only for a checkpoint
            from miniframe.engine.checkpoint import CheckpointError, inspect_checkpoint

            try:
                inspect_checkpoint(args.checkpoint)
            except CheckpointError as e:
                return _fail(str(e))
            checkpoint = args.checkpoint
    except (SpecError, OSError) as e:
        return _fail(str(e))
    theme = THEME_ALIASES.get(args.theme, args.theme) if args.theme else None
    if theme:
        from textual.theme import BUILTIN_THEMES

        if theme not in BUILTIN_THEMES:
            names = ", ".join([*BUILTIN_THEMES, *THEME_ALIASES])
            return _fail(f"unknown theme {args.theme!r}; choose one of {names}")

    if serving is not None:  # each browser connection runs this command with these arguments
        from .web import serve
        from .web.options import trainer_arguments

        return serve(serving, trainer_arguments(args))
    return run_trainer(spec, checkpoint, theme, record=not args.no_record, config=args.config)


def run_trainer(
    spec: RunSpec | None,
    checkpoint: Path | None,
    theme: str | None,
    record: bool = True,
    config: Path | None = None,
) -> NoReturn:
    """Run the app in this terminal; leave promptly when it goes away (:mod:`.hangup`).
    Ends the process (:func:`~.hangup.end_process`)."""
    import asyncio

    from .app import TrainerApp
    from .hangup import TerminalWatch, end_process

    watch = TerminalWatch(lambda code: app.leave(code))
    watch.save_terminal_modes()
    app = TrainerApp(spec, checkpoint=checkpoint, theme=theme, watch=watch)
    app.record_runs = record
    app.config_file = config  # an input: no save may write over it
    # A loop of our own rather than App.run's asyncio.run(), whose shutdown joins the
    # worker-pool threads: quitting must not wait for a training batch to end.
    result = app.run(loop=asyncio.new_event_loop())
    watch.stop()
    code = app.return_code if app.return_code is not None else int(result or 0)
    if watch.code is not None:
        code = watch.code
    end_process(code, wait_saves=app.session.wait_saved)


if __name__ == "__main__":
    sys.exit(main())
