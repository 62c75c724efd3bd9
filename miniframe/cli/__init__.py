"""The `miniframe` command line: train, evaluate, reproduce Table I, benchmark.

Bad input (an unknown preset, ``--lr abc``, ``--batch-size 0``, a missing or malformed config
or checkpoint) prints one line naming the problem and exits with status 2, never a traceback.
torch is imported only once a command runs, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NoReturn

from miniframe import __version__

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one clear line is kinder.
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _number(kind: type, low: float, inclusive: bool) -> Callable[[str], Any]:
    """An argparse type: ``kind`` (int or float) that is finite and > low (≥ low if inclusive)."""
    bound = f"≥ {low:g}" if inclusive else f"> {low:g}"
    noun = "an integer" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not math.isfinite(v) or v < low or (v == low and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return v

    return parse


_positive_int = _number(int, 1, inclusive=True)
_nonneg_int = _number(int, 0, inclusive=True)
_positive_float = _number(float, 0, inclusive=False)
_nonneg_float = _number(float, 0, inclusive=True)


def build_parser() -> argparse.ArgumentParser:
    from miniframe.engine.spec import DATASET_NAMES, INIT_NAMES, LOSS_NAMES, SOLVER_NAMES

    p = _Parser(prog="miniframe", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"miniframe {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train a preset or a config file")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--preset", metavar="NAME", help="quick (default), vanilla or deep")
    src.add_argument("--config", metavar="FILE", help="a run spec as TOML (or .json)")
    t.add_argument("--epochs", type=_positive_int)
    t.add_argument("--lr", type=_positive_float, help="learning rate")
    t.add_argument("--batch-size", type=_positive_int)
    t.add_argument("--loss", choices=LOSS_NAMES)
    t.add_argument("--solver", choices=SOLVER_NAMES)
    t.add_argument("--momentum", type=_nonneg_float)
    t.add_argument("--weight-decay", type=_nonneg_float)
    t.add_argument("--init", choices=INIT_NAMES)
    t.add_argument("--dataset", choices=DATASET_NAMES)
    t.add_argument("--noise", type=_nonneg_float)
    t.add_argument("--seed", type=_nonneg_int)
    t.add_argument("--device", help="cpu (default) or cuda")
    t.add_argument("--save", metavar="FILE", help="write the trained model as a checkpoint")
    t.add_argument("--json", action="store_true", help="one JSON object per epoch")
    t.add_argument("--every", type=_positive_int, default=10, help="print every N epochs")
    t.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch intra-op threads (default 1: small nets are dispatch-bound, and a second "
        "thread only adds synchronisation)",
    )

    e = sub.add_parser("evaluate", help="accuracy of a checkpoint on a fresh test set")
    e.add_argument("checkpoint", metavar="CHECKPOINT")
    e.add_argument("--dataset", choices=DATASET_NAMES, help="default: the one it trained on")
    e.add_argument("--seed", type=_nonneg_int, default=12345, help="seed of the fresh test set")
    e.add_argument("--n", type=_positive_int, help="test-set size (default: the spec's)")
    e.add_argument("--json", action="store_true")

    r = sub.add_parser("reproduce", help="Table I over several seeds, mean ± std")
    r.add_argument("--seeds", type=_positive_int, default=5)
    r.add_argument("--jobs", type=_positive_int, help="processes (default: all cores)")
    r.add_argument("--presets", nargs="+", default=["vanilla", "deep"], metavar="NAME")

    b = sub.add_parser("bench", help="engine vs torch.nn + autograd + torch.optim")
    b.add_argument("--quick", action="store_true", help="a few seconds, for a smoke test")
    b.add_argument("--presets", nargs="+", default=["vanilla", "deep"], metavar="NAME")
    b.add_argument("--batch-sizes", nargs="+", type=_positive_int, default=[1, 5, 50, 1000])
    b.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return p


# ---- train -------------------------------------------------------------------------------
def _spec_from_args(args: argparse.Namespace) -> Any:
    from miniframe.engine.spec import RunSpec, load_preset

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
    if spec.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda: no CUDA device is available here")
    return spec


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from miniframe.engine.checkpoint import save_checkpoint
    from miniframe.engine.train import Run

    torch.set_num_threads(args.threads)
    spec = _spec_from_args(args)
    run = Run(spec)
    if not args.json:
        print(f"training {spec.name}: {_describe(spec)}")
    last = None
    try:
        for s in run.fit(spec.epochs):
            last = s
            if args.json:
                keys = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds")
                print(json.dumps({k: getattr(s, k) for k in keys}), flush=True)
            elif s.epoch % args.every == 0 or s.status != "running" or s.epoch == 1:
                print(
                    f"epoch {s.epoch:>{len(str(s.epochs))}}/{s.epochs}  "
                    f"loss {s.train_loss:.4f}  train {s.train_acc:5.1f} %  "
                    f"test {s.test_acc:5.1f} %  ({s.samples_per_s:,.0f} samples/s)",
                    flush=True,
                )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if last is None:
        return 0
    if last.status == "diverged":
        print(f"diverged: {last.message}", file=sys.stderr)
        return 1
    if not args.json:
        print(f"final: train accuracy {last.train_acc:.1f} %, test accuracy {last.test_acc:.1f} %")
    if args.save:
        try:
            save_checkpoint(args.save, run.model, spec)
        except OSError as e:
            raise UsageError(f"--save {args.save}: cannot write ({e.strerror or e})") from None
        if not args.json:
            print(f"saved {args.save}")
    return 0


def _describe(spec: Any) -> str:
    shapes = ", ".join(
        layer.label(w_in) for layer, (w_in, _) in zip(spec.layers, spec.layer_widths(), strict=True)
    )
    s = spec.solver
    solver = f"{s.name} lr={s.lr:g}" + (f" momentum={s.momentum:g}" if s.momentum else "")
    return (
        f"[{shapes}], loss={spec.loss}, {solver}, batch={spec.batch_size}, "
        f"epochs={spec.epochs}, init={spec.init}, data={spec.data.name}, seed={spec.seed}"
    )


# ---- evaluate ----------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    from miniframe.engine.checkpoint import load_checkpoint
    from miniframe.engine.data import centre_inputs, make_dataset

    model, spec = load_checkpoint(args.checkpoint)
    name = args.dataset or spec.data.name
    n = args.n or spec.data.n_test
    data = make_dataset(name, n, spec.data.noise, seed=args.seed)
    x = centre_inputs(data.x) if spec.data.center else data.x
    model.eval()
    pred = model.forward(x).argmax(dim=1)
    acc = 100.0 * int((pred == data.y).sum()) / n
    if args.json:
        print(json.dumps({"dataset": name, "n": n, "seed": args.seed, "test_acc": acc}))
    else:
        print(f"{args.checkpoint}: test accuracy {acc:.1f} % on {n} fresh {name} points "
              f"(seed {args.seed})")  # fmt: skip
    return 0


# ---- reproduce and bench -----------------------------------------------------------------
def cmd_reproduce(args: argparse.Namespace) -> int:
    from miniframe.engine.reproduce import reproduce
    from miniframe.engine.spec import load_preset

    for name in args.presets:
        load_preset(name)  # unknown names fail here, with the list of known ones

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = reproduce(args.seeds, presets=tuple(args.presets), jobs=args.jobs, progress=progress)
    print(result.markdown())
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from miniframe.bench import run_bench
    from miniframe.engine.spec import load_preset

    for name in args.presets:
        load_preset(name)
    result = run_bench(
        presets=tuple(args.presets), batch_sizes=tuple(args.batch_sizes), quick=args.quick
    )
    print(result.table())
    if args.json:
        from pathlib import Path

        from miniframe.engine.spec import atomic_write_text

        atomic_write_text(Path(args.json), json.dumps(result.to_dict(), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


COMMANDS = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "reproduce": cmd_reproduce,
    "bench": cmd_bench,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `miniframe` console script and `python -m miniframe`."""
    args = build_parser().parse_args(argv)
    from miniframe.engine.checkpoint import CheckpointError
    from miniframe.engine.data import CSVError
    from miniframe.engine.spec import SpecError

    try:
        return COMMANDS[args.command](args)
    except (UsageError, SpecError, CheckpointError, CSVError) as e:
        print(f"miniframe {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
