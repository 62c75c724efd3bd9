"""`miniframe reproduce`: Table I over several seeds, mean ± std (see miniframe.reproduce)."""

from __future__ import annotations

import argparse

from miniframe.engine import OPTIONS, SETTINGS, load_preset

from .args import EXIT_FAILED, name, number, recording, say, terminate_on_signals
from .progress import progress_display
from .sweep import add_execution_arguments, check_execution, execution

COMMAND = "reproduce"
HELP = "Table I over several seeds, mean ± std"
ORDER = 4


def add_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("--seeds", type=number(OPTIONS["seeds"]), default=5, help="seeds 0 … N−1")
    r.add_argument(
        "--presets", nargs="+", type=name("preset"), default=["vanilla", "deep"], metavar="NAME"
    )
    r.add_argument("--epochs", type=number(SETTINGS["epochs"]), help="default: each preset's")
    add_execution_arguments(r)


def run(args: argparse.Namespace) -> int:
    from miniframe.reproduce import reproduce
    from miniframe.sweep import SweepError

    specs = {p: load_preset(p) for p in args.presets}  # unknown names fail here, listing the known
    check_execution(args)
    with recording(args) as history, terminate_on_signals():
        try:
            with progress_display(args, COMMAND) as display:
                result = reproduce(
                    args.seeds,
                    presets=specs,
                    epochs=args.epochs,
                    **execution(args),
                    recording=history,
                    progress=display.say,
                    on_progress=display.update,
                )
        except SweepError as e:
            say(f"miniframe reproduce: error: {e}")
            return EXIT_FAILED
    print(result.markdown())
    return 0
