"""`miniframe reproduce`: Table I over several seeds, mean ± std (see miniframe.reproduce)."""

from __future__ import annotations

import argparse
import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

from miniframe.engine import OPTIONS, SETTINGS, load_preset

from .args import Terminated, name, number, say

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


@contextlib.contextmanager
def _terminate_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Terminated` here, so the worker processes are ended
    on the way out (by default SIGTERM would kill this process alone and leave them running)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signal.Signals(signum).name)

    names = [s for s in ("SIGTERM", "SIGHUP") if hasattr(signal, s)]
    previous = {s: signal.signal(getattr(signal, s), handler) for s in names}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(getattr(signal, s), h)


def run(args: argparse.Namespace) -> int:
    from miniframe.reproduce import reproduce

    specs = {p: load_preset(p) for p in args.presets}  # unknown names fail here, listing the known
    with _terminate_on_signals():
        result = reproduce(
            args.seeds, presets=specs, jobs=args.jobs, progress=say, epochs=args.epochs
        )
    print(result.markdown())
    return 0
