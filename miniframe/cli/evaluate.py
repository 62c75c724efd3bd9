"""`miniframe evaluate`: the accuracy of a saved model on a fresh test set, its own test set or
a CSV file."""

from __future__ import annotations

import argparse
import warnings
from typing import TYPE_CHECKING, Any

from miniframe.engine import (
    GENERATED_DATASETS,
    OPTIONS,
    SETTINGS,
    UnverifiedCheckpointWarning,
    plural,
)

from .args import UsageError, number, path, say
from .output import json_line

if TYPE_CHECKING:
    from miniframe.engine import CheckpointInfo, Dataset, Sequential

COMMAND = "evaluate"
HELP = "accuracy of a checkpoint on a fresh test set or a CSV file"
ORDER = 2


def add_arguments(e: argparse.ArgumentParser) -> None:
    e.add_argument("checkpoint", metavar="CHECKPOINT", type=path("checkpoint"))
    e.add_argument(
        "--data",
        metavar="FILE.csv",
        type=path("data file"),
        help="a CSV file with the model's features and labels (columns as in training)",
    )
    e.add_argument(
        "--dataset", choices=list(GENERATED_DATASETS), help="default: the one it trained on"
    )
    e.add_argument(
        "--seed", type=number(SETTINGS["seed"]), default=12345, help="seed of the fresh test set"
    )
    e.add_argument(
        "--n", type=number(OPTIONS["samples"]), help="test-set size (default: the spec's)"
    )
    e.add_argument("--json", action="store_true", help="the result as one strict-JSON object")


def read_model(args: argparse.Namespace, command: str) -> tuple[Sequential, CheckpointInfo]:
    """The checkpoint's model and what it says of itself; a version-1 file's warning as a
    line on stderr."""
    from miniframe.engine import read_checkpoint

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnverifiedCheckpointWarning)
        model, info = read_checkpoint(args.checkpoint)
    for w in caught:
        say(f"miniframe {command}: warning: {w.message}")
    return model, info


def _test_set(args: argparse.Namespace, info: CheckpointInfo) -> tuple[Dataset, dict[str, Any]]:
    """The data to evaluate on, as the model sees them, and what to say about them."""
    from miniframe.engine import (
        FILE_DATASET,
        build_dataset,
        build_raw_data,
        prepare,
        read_for_model,
        reads_file,
        table_dataset,
    )

    spec = info.spec.replace(device="cpu")
    csv_model = reads_file(spec.data.name)
    if args.data is not None:
        if args.dataset is not None or args.n is not None:
            raise UsageError("--data evaluates on a file: --dataset and --n do not go with it")
        table = read_for_model(args.data, info.shape, labels_required=True)
        data = table_dataset(table)
        about = {"dataset": FILE_DATASET, "data": str(args.data)}
        return prepare(data, info.transform), about
    if csv_model:
        if args.dataset is not None or args.n is not None:
            raise UsageError(
                "this model was trained on a CSV file: give --data FILE.csv (without it, "
                "its own test set is used); --dataset and --n are for generated data"
            )
        shape = spec.shape()  # reads the training (and test) file again
        if shape.class_names != info.shape.class_names:
            raise UsageError(
                f"{spec.data.path}: its classes are no longer the model's "
                f"({', '.join(info.shape.class_names)})"
            )
        test = build_raw_data(spec)[1]
        where = spec.data.test_path or spec.data.path
        return prepare(test, info.transform), {"dataset": FILE_DATASET, "data": where}
    name = args.dataset or spec.data.name
    n = args.n or spec.data.n_test
    data = build_dataset(spec, n, args.seed, name=name, transform=info.transform)
    return data, {"dataset": name, "seed": args.seed}


def run(args: argparse.Namespace) -> int:
    from miniframe.engine import confusion_matrix, reads_file

    model, info = read_model(args, COMMAND)
    data, about = _test_set(args, info)
    k = info.shape.n_classes
    confusion = confusion_matrix(model, data, k)
    n = len(data)
    correct = int(confusion.diagonal().sum())
    acc = 100.0 * correct / n
    if args.json:
        record = {
            "status": "finished",
            "message": "",
            "checkpoint": str(args.checkpoint),
            "epoch": info.epoch,
            **about,
            "n": n,
            "test_acc": acc,
            "classes": list(info.shape.class_names),
            "confusion": confusion.tolist(),
        }
        print(json_line(record))
        return 0
    from_file = reads_file(about["dataset"])
    if from_file:
        where = f"{plural(n, 'row')} of {about['data']} ({weights_from(info)})"
    else:
        where = f"{plural(n, 'fresh ' + about['dataset'] + ' point')} (seed {args.seed}; "
        where += f"{weights_from(info)})"
    print(f"{args.checkpoint}: test accuracy {acc:.1f} % on {where}")
    if k > 2 or from_file:
        print(confusion_text(confusion.tolist(), info.shape.class_names))
    return 0


def weights_from(info: CheckpointInfo) -> str:
    """Where the checkpoint's weights come from: ``weights of epoch 50`` (with
    ``restore_best``, the best epoch's, in checkpoints saved since they say so)."""
    if not info.verified:  # version 1 stored no epoch
        return "epoch not recorded"
    return f"weights of epoch {info.epoch}" if info.epoch else "untrained weights (epoch 0)"


def confusion_text(counts: list[list[int]], names: tuple[str, ...]) -> str:
    """The confusion matrix as a table: a row per true class, a column per predicted one."""
    shown = [n if len(n) <= 12 else n[:11] + "…" for n in names]
    width = max(7, *(len(n) for n in shown), *(len(str(c)) for row in counts for c in row))
    head = "true \\ predicted".ljust(max(16, width)) + " " + " ".join(n.rjust(width) for n in shown)
    rows = [
        name.ljust(max(16, width)) + " " + " ".join(str(c).rjust(width) for c in row)
        for name, row in zip(shown, counts, strict=True)
    ]
    return "\n".join([head, *rows])
