"""`miniframe evaluate`: the accuracy of a saved model on a fresh test set."""

from __future__ import annotations

import argparse
import warnings

from miniframe.engine import DATASETS, OPTIONS, SETTINGS, UnverifiedCheckpointWarning

from .args import number, path, say
from .output import json_line

COMMAND = "evaluate"
HELP = "accuracy of a checkpoint on a fresh test set"
ORDER = 2
CHUNK = 65_536  # points per forward pass: memory stays bounded for any --n the limits allow


def add_arguments(e: argparse.ArgumentParser) -> None:
    e.add_argument("checkpoint", metavar="CHECKPOINT", type=path("checkpoint"))
    e.add_argument("--dataset", choices=list(DATASETS), help="default: the one it trained on")
    e.add_argument(
        "--seed", type=number(SETTINGS["seed"]), default=12345, help="seed of the fresh test set"
    )
    e.add_argument(
        "--n", type=number(OPTIONS["samples"]), help="test-set size (default: the spec's)"
    )
    e.add_argument("--json", action="store_true", help="the result as one strict-JSON object")


def run(args: argparse.Namespace) -> int:
    from miniframe.engine import build_dataset, read_checkpoint

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnverifiedCheckpointWarning)
        model, info = read_checkpoint(args.checkpoint)
    for w in caught:
        say(f"miniframe evaluate: warning: {w.message}")
    spec = info.spec.replace(device="cpu")
    name = args.dataset or spec.data.name
    n = args.n or spec.data.n_test
    data = build_dataset(spec, n, args.seed, name=name)
    model.eval()
    correct = 0
    for x, y in zip(data.x.split(CHUNK), data.y.split(CHUNK), strict=True):
        correct += int((model.forward(x).argmax(dim=1) == y).sum())
    acc = 100.0 * correct / n
    if args.json:
        record = {
            "status": "finished",
            "message": "",
            "checkpoint": str(args.checkpoint),
            "epoch": info.epoch,
            "dataset": name,
            "n": n,
            "seed": args.seed,
            "test_acc": acc,
        }
        print(json_line(record))
    else:
        print(
            f"{args.checkpoint}: test accuracy {acc:.1f} % on {n} fresh {name} points "
            f"(seed {args.seed}; trained {info.epoch} epochs)"
        )
    return 0
