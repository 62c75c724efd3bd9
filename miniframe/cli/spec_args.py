"""The run a command line describes: a preset or config file plus overrides, shared by every
command that trains (``train`` and, later, ``sweep``) so they accept the same flags."""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from miniframe.engine import (
    DATASETS,
    FILE_DATASET,
    INITS,
    LOSSES,
    SETTINGS,
    SOLVERS,
    RunSpec,
    builtin_names,
    load_preset,
    reads_file,
)

from .args import UsageError, check_outputs, name, number, path


def add_spec_arguments(t: argparse.ArgumentParser) -> None:
    """The source of the run (--preset / --config) and every override of its settings."""
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
    data = t.add_argument_group("data (your own: a CSV file; see README)")
    data.add_argument(
        "--data", metavar="FILE.csv", type=path("data file"), help="train on this CSV file"
    )
    data.add_argument(
        "--test-data", metavar="FILE.csv", type=path("test file"),
        help="test on this CSV file (default: a stratified split of --data)",
    )  # fmt: skip
    data.add_argument(
        "--test-fraction", type=number(SETTINGS["data.test_fraction"]),
        help="share of each class held out for testing without --test-data (default 0.2)",
    )  # fmt: skip
    data.add_argument(
        "--label-column", metavar="C", type=label_column,
        help="the labels' column: a header name or a 1-based number, -1 the last (default)",
    )  # fmt: skip
    data.add_argument(
        "--standardize", action="store_true",
        help="subtract the training set's mean, divide by its std, per feature",
    )  # fmt: skip
    data.add_argument(
        "--classes", type=number(SETTINGS["data.classes"]), help="blobs and spirals: k classes"
    )
    data.add_argument(
        "--data-seed", type=number(SETTINGS["data.seed"]),
        help="seed of the data alone (default: --seed)",
    )  # fmt: skip
    stop = t.add_argument_group("stop conditions")
    stop.add_argument(
        "--target-acc", metavar="PCT", type=number(SETTINGS["stop.target_acc"]),
        help="stop once the test accuracy reaches PCT %%",
    )  # fmt: skip
    stop.add_argument(
        "--patience", metavar="N", type=number(SETTINGS["stop.patience"]),
        help="stop when the test loss has not improved for N epochs",
    )  # fmt: skip
    stop.add_argument(
        "--restore-best", action="store_true",
        help="end with the weights of the epoch of lowest test loss",
    )  # fmt: skip


def label_column(text: str) -> int | str:
    """``--label-column``: a whole number is a 1-based column number, anything else a name."""
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError("empty column name")
    if re.fullmatch(r"[+-]?[0-9]{1,6}", text):
        value = int(text)
        if value == 0:
            raise argparse.ArgumentTypeError("columns count from 1 (-1 is the last)")
        return value
    return text


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
    data = _data_overrides(args, data)
    stop = spec.stop
    if args.target_acc is not None:
        stop = replace(stop, target_acc=args.target_acc)
    if args.patience is not None:
        stop = replace(stop, patience=args.patience)
    if args.restore_best:
        stop = replace(stop, restore_best=True)
    changes: dict[str, Any] = {"solver": solver, "data": data, "stop": stop}
    for key in ("epochs", "batch_size", "loss", "init", "seed", "device"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    spec = replace(spec, **changes)
    check_outputs(args, spec)  # the data files a config or preset names are inputs too
    spec.validate()
    return spec


def _data_overrides(args: argparse.Namespace, data: Any) -> Any:
    """The data flags over the spec's [data] table: --data makes it a csv run (and drops the
    centring of the generated datasets' unit square)."""
    if args.data is not None:
        if args.dataset is not None and not reads_file(args.dataset):
            raise UsageError(f"--data reads a CSV file; it cannot go with --dataset {args.dataset}")
        data = replace(data, name=FILE_DATASET, path=str(Path(args.data).absolute()), center=False)
    is_csv = reads_file(data.name)
    for flag, attr in (("--test-data", "test_data"), ("--label-column", "label_column")):
        if getattr(args, attr) is not None and not is_csv:
            raise UsageError(f"{flag} goes with CSV data: give --data FILE.csv")
    if args.test_data is not None:
        data = replace(data, test_path=str(Path(args.test_data).absolute()))
    if args.test_fraction is not None:
        data = replace(data, test_fraction=args.test_fraction)
    if args.label_column is not None:
        data = replace(data, label_column=args.label_column)
    if args.standardize:
        data = replace(data, standardize=True, center=False)
    if args.classes is not None:
        data = replace(data, classes=args.classes)
    if args.data_seed is not None:
        data = replace(data, seed=args.data_seed)
    return data


def describe(spec: RunSpec) -> str:
    """One line: the layer shapes and the settings that matter."""
    shape = spec.shape()
    widths = spec.layer_widths(shape)
    shapes = ", ".join(
        layer.label(w_in, w_out) for layer, (w_in, w_out) in zip(spec.layers, widths, strict=True)
    )
    s = spec.solver
    solver = f"{s.name} lr={s.lr:g}" + (f" momentum={s.momentum:g}" if s.momentum else "")
    d = spec.data
    if reads_file(d.name):
        data = (
            f"{Path(d.path or '').name} ({shape.n_inputs} features, {shape.n_classes} classes, "
            f"{shape.n_train} train / {shape.n_test} test)"
        )
    else:
        data = d.name + (f" ({d.classes} classes)" if d.classes != 2 else "")
    if d.standardize:
        data += ", standardized"
    seed = f"seed={spec.seed}" + (f", data seed={d.seed}" if d.seed is not None else "")
    return (
        f"[{shapes}], loss={spec.loss}, {solver}, batch={spec.batch_size}, "
        f"epochs={spec.epochs}, init={spec.init}, data={data}, {seed}"
    )
