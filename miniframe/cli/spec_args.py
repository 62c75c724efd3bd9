"""The run a command line describes: a preset or config file plus overrides, shared by every
command that trains (``train`` and, later, ``sweep``) so they accept the same flags."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from miniframe.engine import (
    DATASETS,
    INITS,
    LOSSES,
    SETTINGS,
    SOLVERS,
    RunSpec,
    builtin_names,
    load_preset,
)

from .args import name, number, path


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
