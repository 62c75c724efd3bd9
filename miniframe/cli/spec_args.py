"""The run a command line describes: a preset or config file plus overrides, shared by every
command that trains (``train`` and ``sweep``) so they accept the same flags.

The flags are the registry's settings table (:data:`~miniframe.engine.SPEC_SETTINGS`): each
setting offered on the command line is a flag named by its key (``--lr``, ``--data-seed``),
parsed as the setting takes its value (a number within its bounds, one of its choices, a
switch), in its group's part of ``--help``, and applied with ``RunSpec.with_setting``. A new
setting needs nothing here. Beside the table, by name, are the flags that are not one setting
each: where the run comes from (``--preset``, ``--config``) and a CSV file's (``--data``,
``--test-data``, ``--label-column``, and the rule that standardizing or a file drops the
generated data's centring).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from miniframe.engine import (
    SPEC_SETTINGS,
    RunSpec,
    Setting,
    builtin_names,
    file_data,
    ignored_by,
    load_preset,
    plural,
    reads_file,
    tabular_spec,
    with_file,
)

from .args import UsageError, check_outputs, name, number, path

#: The groups of ``--help``: a setting's group → its title (None: the command's own options).
GROUPS = {
    "training": None,
    "data": "data (your own: a CSV file; see README)",
    "stop": "stop conditions",
}


def add_spec_arguments(t: argparse.ArgumentParser) -> None:
    """The source of the run (--preset / --config) and every override of its settings."""
    src = t.add_mutually_exclusive_group()
    src.add_argument(
        "--preset",
        metavar="NAME",
        type=name("preset"),
        help=f"a built-in preset ({', '.join(builtin_names())}) or one of yours; default: quick, "
        "and with --data the tabular default sized to the file (see README)",
    )
    src.add_argument(
        "--config", metavar="FILE", type=path("config file"), help="a run spec as TOML (or .json)"
    )
    groups: dict[str, Any] = {
        group: t if title is None else t.add_argument_group(title)
        for group, title in GROUPS.items()
    }
    _add_csv_arguments(groups["data"])
    for setting in SPEC_SETTINGS:
        if setting.flag:
            groups[setting.group].add_argument(setting.flag_name, **_argument(setting))


def _argument(setting: Setting) -> dict[str, Any]:
    """How argparse reads a setting's flag."""
    spec: dict[str, Any] = {"dest": setting.key}
    if setting.help:
        spec["help"] = setting.help
    elif setting.number is not None and setting.label != setting.key.replace("_", " "):
        spec["help"] = setting.label
    if setting.metavar:
        spec["metavar"] = setting.metavar
    if setting.switch:  # --standardize / --no-standardize: either overrides the spec's
        spec["action"] = argparse.BooleanOptionalAction
        spec["default"] = None
    elif setting.number is not None:
        spec["type"] = number(setting.number)
    elif setting.choices:
        spec["choices"] = list(setting.choices)
    return spec


# ---- beside the table: a CSV file's flags ---------------------------------------------------
def _add_csv_arguments(data: Any) -> None:
    data.add_argument(
        "--data", metavar="FILE.csv", type=path("data file"), help="train on this CSV file"
    )
    data.add_argument(
        "--test-data", metavar="FILE.csv", type=path("test file"),
        help="test on this CSV file (default: a stratified split of --data)",
    )  # fmt: skip
    data.add_argument(
        "--label-column", metavar="C", type=label_column,
        help="the labels' column: a header name or a 1-based number, -1 the last (default)",
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
    """The preset or config file, with the flags' overrides, validated (no torch needed).

    ``--data`` without ``--preset``/``--config`` is the tabular default sized to the file
    (:func:`~miniframe.engine.tabular_spec`, after the flags that decide the file's split);
    with one, that spec reading the file (:func:`~miniframe.engine.with_file`). Either way the
    file's features are standardised unless ``--no-standardize``. Without ``--data``: the
    preset (default quick) or config."""
    if args.config:
        base: RunSpec | None = RunSpec.load(args.config)
    elif args.preset or args.data is None:
        base = load_preset(args.preset or "quick")
    else:
        base = None
    if base is None:
        probe = _flag_settings(args, RunSpec())  # the split, seeds and label column first
        data = _csv_overrides(args, probe.data)
        spec = _flag_settings(args, tabular_spec(data, seed=probe.seed))
    else:
        spec = _flag_settings(args, base)
        spec = spec.replace(data=_csv_overrides(args, spec.data))
        if args.data is not None:
            spec = with_file(spec, spec.data)
    check_outputs(args, spec)  # the data files a config or preset names are inputs too
    _check_data_flags(args, spec)
    spec.validate()
    return spec


def _check_data_flags(args: argparse.Namespace, spec: RunSpec) -> None:
    """Refuse a data flag the run's data ignore (``--noise`` or ``--n-train`` with a CSV file,
    ``--test-fraction`` with generated data or a test file): it would change nothing the run
    does, while the user believes it did."""
    for setting in SPEC_SETTINGS:
        path = setting.path
        if not (setting.flag and path.startswith("data.")) or path == "data.seed":
            continue  # every kind of data has a seed
        value = getattr(args, setting.key, None)
        if value is None or value is False:
            continue
        why = ignored_by(spec.data.name, path)
        if not why and path == "data.test_fraction" and spec.data.test_path:
            why = "the test set is the --test-data file, not a share of --data"
        if why:
            raise UsageError(f"{setting.flag_name} {value}: {why}")


def _flag_settings(args: argparse.Namespace, spec: RunSpec) -> RunSpec:
    """``spec`` with every setting a flag gave (a switch given either way counts)."""
    for setting in SPEC_SETTINGS:
        value = getattr(args, setting.key, None) if setting.flag else None
        if value is not None:
            spec = spec.with_setting(setting.path, value)
    return spec


def _csv_overrides(args: argparse.Namespace, data: Any) -> Any:
    """The CSV flags over the spec's [data] table: --data makes it a csv run
    (:func:`~miniframe.engine.file_data`: no centring, standardised unless --no-standardize);
    a file, or standardizing, drops the centring of the generated datasets' unit square."""
    if args.data is not None:
        if args.dataset is not None and not reads_file(args.dataset):
            raise UsageError(f"--data reads a CSV file; it cannot go with --dataset {args.dataset}")
        given = {} if args.standardize is None else {"standardize": args.standardize}
        data = file_data(data, Path(args.data).absolute(), **given)
    is_csv = reads_file(data.name)
    for flag, attr in (("--test-data", "test_data"), ("--label-column", "label_column")):
        if getattr(args, attr) is not None and not is_csv:
            raise UsageError(f"{flag} goes with CSV data: give --data FILE.csv")
    if args.test_data is not None:
        data = replace(data, test_path=str(Path(args.test_data).absolute()))
    if args.label_column is not None:
        data = replace(data, label_column=args.label_column)
    if args.standardize:
        data = replace(data, center=False)
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
            f"{Path(d.path or '').name} ({plural(shape.n_inputs, 'feature')}, "
            f"{plural(shape.n_classes, 'class')}, "
            f"{shape.n_train} train / {shape.n_test} test)"
        )
    else:
        data = d.name + (f" ({plural(d.classes, 'class')})" if d.classes != 2 else "")
    if d.standardize:
        data += ", standardized"
    seed = f"seed={spec.seed}" + (f", data seed={d.seed}" if d.seed is not None else "")
    return (
        f"[{shapes}], loss={spec.loss}, {solver}, batch={spec.batch_size}, "
        f"epochs={spec.epochs}, init={spec.init}, data={data}, {seed}"
    )
