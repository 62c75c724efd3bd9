"""`miniframe train`: train a preset or a config file, print progress, optionally save."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from miniframe.engine import (
    DATASETS,
    INITS,
    LOSSES,
    OPTIONS,
    SETTINGS,
    SOLVERS,
    RunSpec,
    builtin_names,
    check_writable,
    load_preset,
)

from .args import EXIT_FAILED, UsageError, name, number, path
from .output import epoch_record, json_line

COMMAND = "train"
HELP = "train a preset or a config file"
ORDER = 1


def add_arguments(t: argparse.ArgumentParser) -> None:
    src = t.add_mutually_exclusive_group()
    src.add_argument(
        "--preset",
        metavar="NAME",
        type=name("preset"),
        help=f"a built-in preset ({', '.join(builtin_names())}; default quick) or one of yours",
    )
    src.add_argument(
        "--config", metavar="FILE", type=path("config file"), help="a run spec as TOML (or .json)"
    )
    t.add_argument("--epochs", type=number(SETTINGS["epochs"]))
    t.add_argument("--lr", type=number(SETTINGS["solver.lr"]), help="learning rate")
    t.add_argument("--batch-size", type=number(SETTINGS["batch_size"]))
    t.add_argument("--loss", choices=list(LOSSES))
    t.add_argument("--solver", choices=list(SOLVERS))
    t.add_argument("--momentum", type=number(SETTINGS["solver.momentum"]))
    t.add_argument("--weight-decay", type=number(SETTINGS["solver.weight_decay"]))
    t.add_argument("--init", choices=list(INITS))
    t.add_argument("--dataset", choices=list(DATASETS))
    t.add_argument("--noise", type=number(SETTINGS["data.noise"]))
    t.add_argument("--seed", type=number(SETTINGS["seed"]))
    t.add_argument("--device", help="cpu (default) or cuda")
    t.add_argument(
        "--save",
        metavar="FILE",
        type=path(),
        help="write the trained model as a checkpoint (checked before training)",
    )
    t.add_argument("--json", action="store_true", help="one strict-JSON object per epoch")
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


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """The preset or config file, with the flags' overrides, validated (no torch needed)."""
    spec = RunSpec.load(args.config) if args.config else load_preset(args.preset or "quick")
    solver = spec.solver
    if args.solver is not None:
        solver = replace(solver, name=args.solver)
    for key in ("lr", "momentum", "weight_decay"):
        if getattr(args, key) is not None:
            solver = replace(solver, **{key: getattr(args, key)})
    data = spec.data
    if args.dataset is not None:
        data = replace(data, name=args.dataset)
    if args.noise is not None:
        data = replace(data, noise=args.noise)
    changes: dict[str, Any] = {"solver": solver, "data": data}
    for key in ("epochs", "batch_size", "loss", "init", "seed", "device"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    spec = replace(spec, **changes)
    spec.validate()
    return spec


def describe(spec: RunSpec) -> str:
    """One line: the layer shapes and the settings that matter."""
    shapes = ", ".join(
        layer.label(w_in) for layer, (w_in, _) in zip(spec.layers, spec.layer_widths(), strict=True)
    )
    s = spec.solver
    solver = f"{s.name} lr={s.lr:g}" + (f" momentum={s.momentum:g}" if s.momentum else "")
    return (
        f"[{shapes}], loss={spec.loss}, {solver}, batch={spec.batch_size}, "
        f"epochs={spec.epochs}, init={spec.init}, data={spec.data.name}, seed={spec.seed}"
    )


def _metric(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value + 0.0, fmt)  # + 0.0: never "-0.0000"


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if args.save is not None:
        check_writable(args.save)  # a bad path fails now, not after the training it would lose
    import torch

    from miniframe.engine import Run, save_checkpoint

    if spec.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available here")
    torch.set_num_threads(args.threads)
    run = Run(spec)
    if not args.json:
        print(f"training {spec.name}: {describe(spec)}", flush=True)
    last = None
    for s in run.fit(spec.epochs):
        last = s
        if args.json:
            print(json_line(epoch_record(s)), flush=True)
        elif s.epoch % args.every == 0 or s.status != "running" or s.epoch == 1:
            print(
                f"epoch {s.epoch:>{len(str(s.epochs))}}/{s.epochs}  "
                f"loss {_metric(s.train_loss, '.4f')}  train {_metric(s.train_acc, '5.1f')} %  "
                f"test {_metric(s.test_acc, '5.1f')} %  ({s.samples_per_s:,.0f} samples/s)",
                flush=True,
            )
    if last is None:
        return 0
    if last.status == "diverged":
        print(f"diverged: {last.message}", file=sys.stderr)
        return EXIT_FAILED
    if not args.json:
        print(
            f"final: train accuracy {_metric(last.train_acc, '.1f')} %, "
            f"test accuracy {_metric(last.test_acc, '.1f')} %"
        )
    if args.save is not None:
        try:
            save_checkpoint(args.save, run.model, spec, epoch=run.epoch)
        except OSError as e:
            raise UsageError(f"--save {args.save}: cannot write ({e.strerror or e})") from None
        if not args.json:
            print(f"saved {args.save}")
    return 0
