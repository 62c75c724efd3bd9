"""`miniframe train`: train a preset or a config file, print progress, optionally save."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from miniframe.engine import OPTIONS, FileError, check_writable

from .args import (
    EXIT_FAILED,
    UsageError,
    add_record_argument,
    number,
    path,
    recording,
    terminate_on_signals,
)
from .output import epoch_record, json_line
from .spec_args import add_spec_arguments, describe, spec_from_args

if TYPE_CHECKING:
    from miniframe.engine import EpochSummary, LayerStats, Run, RunSpec
    from miniframe.runs import RunRecorder

COMMAND = "train"
HELP = "train a preset or a config file"
ORDER = 1


def add_arguments(t: argparse.ArgumentParser) -> None:
    add_spec_arguments(t)
    t.add_argument(
        "--save",
        metavar="FILE",
        type=path(),
        help="write the trained model as a checkpoint (checked before training)",
    )
    t.add_argument("--json", action="store_true", help="one strict-JSON object per epoch")
    t.add_argument(
        "--layer-stats",
        action="store_true",
        help="each Linear layer's health per epoch (norms, update ratio, dead ReLUs): in --json, "
        "and under the printed epochs",
    )
    t.add_argument(
        "--every", type=number(OPTIONS["every"]), default=10, help="print every N epochs"
    )
    t.add_argument(
        "--threads",
        type=number(OPTIONS["threads"]),
        default=1,
        help="torch intra-op threads (default 1: small nets are dispatch-bound, and a second "
        "thread only adds synchronisation)",
    )
    add_record_argument(t)


def _metric(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value + 0.0, fmt)  # + 0.0: never "-0.0000"


def _val(s: EpochSummary) -> str:
    """The validation accuracy, for a run that holds a validation set."""
    return "" if s.val_acc is None else f"  val {_metric(s.val_acc, '5.1f')} %"


def _layer_line(s: LayerStats) -> str:
    dead = "" if s.dead_fraction is None else f"  dead {100 * s.dead_fraction:.0f} %"
    return (
        f"{s.title}: |W| {s.weight_norm:.4g}  |dW| {s.grad_norm:.3g}  "
        f"update/|W| {s.update_ratio:.2e}{dead}"
    )


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if args.save is not None:
        check_writable(args.save)  # a bad path fails now, not after the training it would lose
    import torch

    from miniframe.engine import Run
    from miniframe.engine.layers import check_device

    check_device(spec.device)  # one line if it is not here, before anything is built
    torch.set_num_threads(args.threads)
    run = Run(spec, layer_stats=args.layer_stats)
    # Recorded in the run history (unless --no-record); Ctrl-C or SIGTERM end it "interrupted".
    with recording(args) as history, history.run(spec) as record, terminate_on_signals():
        return _train(args, spec, run, record)


def _train(args: argparse.Namespace, spec: RunSpec, run: Run, record: RunRecorder) -> int:
    if not args.json:
        print(f"training {spec.name}: {describe(spec)}", flush=True)
    last = None
    for s in run.fit(spec.epochs):
        last = s
        record.epoch(s)
        if args.json:
            print(json_line(epoch_record(s)), flush=True)
        elif s.epoch % args.every == 0 or s.status != "running" or s.epoch == 1:
            print(
                f"epoch {s.epoch:>{len(str(s.epochs))}}/{s.epochs}  "
                f"loss {_metric(s.train_loss, '.4f')}  train {_metric(s.train_acc, '5.1f')} %  "
                f"test {_metric(s.test_acc, '5.1f')} %{_val(s)}  "
                f"({s.samples_per_s:,.0f} samples/s)",
                flush=True,
            )
            for stats in s.layer_stats or ():
                print(f"  {_layer_line(stats)}", flush=True)
    # Training's own end (a failed --save below does not change it); with --restore-best the
    # final metrics are those of the epoch whose weights the run ends with.
    record.finish(final=run.trainer.best if run.trainer.restored is not None else None)
    if last is None:
        return 0
    if last.status == "diverged":
        print(f"diverged: {last.message}", file=sys.stderr)
        return EXIT_FAILED
    if not args.json:
        if last.message:
            print(last.message)
        final = run.trainer.best if run.trainer.restored is not None else last
        assert final is not None
        print(
            f"final: train accuracy {_metric(final.train_acc, '.1f')} %, "
            f"test accuracy {_metric(final.test_acc, '.1f')} %"
        )
    if args.save is not None:
        try:
            run.save(args.save)
        except FileError as e:  # a full disk, say: the run is recorded, the message names it
            raise UsageError(f"--save {e}") from None
        record.checkpoint(args.save)
        if not args.json:
            print(f"saved {args.save}")
    return 0
