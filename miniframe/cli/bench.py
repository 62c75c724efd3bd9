"""`miniframe bench`: the engine against torch.nn + autograd + torch.optim (see miniframe.bench)."""

from __future__ import annotations

import argparse
import json

from miniframe.engine import SETTINGS, check_writable, load_preset, write_atomic_text

from .args import name, number, path
from .output import strict
from .progress import progress_display

COMMAND = "bench"
HELP = "engine vs torch.nn + autograd + torch.optim"
ORDER = 6


def add_arguments(b: argparse.ArgumentParser) -> None:
    b.add_argument("--quick", action="store_true", help="a few seconds, for a smoke test")
    b.add_argument(
        "--presets", nargs="+", type=name("preset"), default=["vanilla", "deep"], metavar="NAME"
    )
    b.add_argument(
        "--batch-sizes", nargs="+", type=number(SETTINGS["batch_size"]), default=[1, 5, 50, 1000]
    )
    b.add_argument("--json", metavar="FILE", type=path(), help="also write the results as JSON")


def run(args: argparse.Namespace) -> int:
    specs = [load_preset(p) for p in args.presets]  # unknown names fail here, listing the known
    if args.json is not None:
        check_writable(args.json)  # before minutes of timing, not after
    from miniframe.bench import run_bench

    with progress_display(args, COMMAND) as display:
        result = run_bench(
            presets=specs,
            batch_sizes=tuple(args.batch_sizes),
            quick=args.quick,
            progress=lambda line: display.say(f"bench: {line}"),
            on_progress=display.update,
        )
    print(result.table())
    if args.json is not None:
        write_atomic_text(args.json, json.dumps(strict(result.to_dict()), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
