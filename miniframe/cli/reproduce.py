"""`miniframe reproduce`: Table I over several seeds, mean ± std (see miniframe.reproduce)."""

from __future__ import annotations

import argparse

from miniframe.engine import OPTIONS, SETTINGS, load_preset

from .args import name, number, say, terminate_on_signals

COMMAND = "reproduce"
HELP = "Table I over several seeds, mean ± std"
ORDER = 3


def add_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("--seeds", type=number(OPTIONS["seeds"]), default=5, help="seeds 0 … N−1")
    r.add_argument("--jobs", type=number(OPTIONS["jobs"]), help="processes (default: all cores)")
    r.add_argument(
        "--presets", nargs="+", type=name("preset"), default=["vanilla", "deep"], metavar="NAME"
    )
    r.add_argument("--epochs", type=number(SETTINGS["epochs"]), help="default: each preset's")


def run(args: argparse.Namespace) -> int:
    from miniframe.reproduce import reproduce

    specs = {p: load_preset(p) for p in args.presets}  # unknown names fail here, listing the known
    with terminate_on_signals():
        result = reproduce(
            args.seeds, presets=specs, jobs=args.jobs, progress=say, epochs=args.epochs
        )
    print(result.markdown())
    return 0
