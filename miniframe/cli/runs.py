"""`miniframe runs`: the run history — list, show, compare, export and remove recorded runs.

Every `train`, `sweep` and `reproduce` run is recorded (see :mod:`miniframe.runs`) unless it was
started with ``--no-record``. Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any

from miniframe.engine import OPTIONS, Status, check_writable, plural, write_atomic_text
from miniframe.runs import (
    RunNotFound,
    RunRecord,
    RunStore,
    RunStoreError,
    chart,
    data_summary,
    differing,
    network_summary,
    settings,
    show_value,
)

from .args import Parser, UsageError, number, path
from .output import json_line

COMMAND = "runs"
HELP = "the run history: list, show, compare, export, rm"
ORDER = 5

#: The metrics of the final-results tables, with their column titles and formats.
FINAL_COLUMNS = (
    ("train_acc", "train acc %", ".1f"),
    ("test_acc", "test acc %", ".1f"),
    ("train_loss", "train loss", ".4f"),
    ("test_loss", "test loss", ".4f"),
)


_run_id = number(OPTIONS["run_id"])  # SQLite's range: beyond it, no run can have that id


def add_arguments(r: argparse.ArgumentParser) -> None:
    sub = r.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    sub.required = True
    ls = sub.add_parser("list", help="recorded runs, oldest first", description="recorded runs")
    ls.add_argument("--last", type=number(OPTIONS["last"]), metavar="N", help="the last N runs")
    ls.add_argument(
        "--sweep", type=number(OPTIONS["sweep_id"]), metavar="ID", help="the runs of one sweep"
    )
    ls.add_argument("--json", action="store_true", help="one strict-JSON object per run")
    show = sub.add_parser("show", help="one run: settings, outcome, epochs")
    show.add_argument("id", type=_run_id, metavar="ID")
    show.add_argument("--spec", action="store_true", help="print only its spec, as TOML")
    show.add_argument("--every", type=number(OPTIONS["every"]), help="every Nth epoch")
    cmp = sub.add_parser("compare", help="settings that differ, final metrics and a chart")
    cmp.add_argument("ids", type=_run_id, nargs="+", metavar="ID")
    cmp.add_argument("--metric", default="test_acc", help="the metric to chart (test_acc)")
    export = sub.add_parser("export", help="a run's epochs as CSV")
    export.add_argument("id", type=_run_id, metavar="ID")
    export.add_argument("--csv", required=True, type=path("CSV file"), metavar="FILE")
    rm = sub.add_parser("rm", help="remove runs (and their epochs)")
    rm.add_argument("ids", type=_run_id, nargs="+", metavar="ID")


def run(args: argparse.Namespace) -> int:

    try:
        store = RunStore.open()
    except RunStoreError as e:
        raise UsageError(str(e)) from None
    with store:
        try:
            action = ACTIONS[args.action]
            action(store, args)
        except RunNotFound as e:
            raise UsageError(f"{e} (`miniframe runs list` shows the ids)") from None
    return 0


# ---- formatting ----------------------------------------------------------------------------
def _when(t: float | None, seconds: bool = False) -> str:
    if t is None:
        return "–"
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%m-%d %H:%M", time.localtime(t))


def _duration(s: float | None) -> str:
    if s is None:
        return "–"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def _num(value: Any, fmt: str) -> str:
    return "–" if not isinstance(value, int | float) else format(value + 0.0, fmt)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """A plain aligned table (what `runs list` prints)."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(head)] + [line(r) for r in rows])


def _markdown(head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("--:" if r else "---" for r in right)]
    lines[1] += "|"
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _epochs(record: RunRecord) -> str:
    total = record.spec.get("epochs")
    last = (record.final or {}).get("epoch")
    done = last if isinstance(last, int) else record.epochs
    return f"{done}/{total}" if isinstance(total, int) else str(done)


def _label(record: RunRecord, keys: Sequence[str] = ()) -> str:
    """``#3 quick`` plus the values of ``keys`` (the settings that differ)."""

    flat = settings(record.spec)
    extra = " ".join(f"{k.split('.')[-1]}={show_value(flat.get(k))}" for k in keys[:2])
    return f"#{record.id} {record.name}" + (f" {extra}" if extra else "")


# ---- the actions ---------------------------------------------------------------------------
def _list(store: RunStore, args: argparse.Namespace) -> None:

    if args.sweep is not None:
        store.sweep(args.sweep)  # RunNotFound
    records = store.runs(last=args.last, sweep_id=args.sweep)
    if args.json:
        for r in records:
            print(json_line(_record_json(r)))
        return
    if not records:
        print(f"no runs recorded yet ({store.path})", file=sys.stderr)
        return
    rows = []
    for r in records:
        rows.append([
            str(r.id), _when(r.started), r.name, r.status, _epochs(r),
            _num(r.metric("train_acc"), ".1f"), _num(r.metric("test_acc"), ".1f"),
            _duration(r.seconds), data_summary(r.spec),
            network_summary(r.spec), "" if r.sweep_id is None else str(r.sweep_id),
        ])  # fmt: skip
    head = ["id", "started", "name", "status", "epochs", "train %", "test %", "time", "data",
            "network", "sweep"]  # fmt: skip
    right = [True, False, False, False, True, True, True, True, False, False, True]
    print(_table(head, rows, right))


def _record_json(r: RunRecord) -> dict[str, Any]:
    return {
        "id": r.id, "name": r.name, "status": r.status, "started": r.started, "ended": r.ended,
        "seconds": r.seconds, "epochs": r.epochs, "final": r.final, "spec_hash": r.spec_hash,
        "source": r.source, "sweep": r.sweep_id, "point": r.point, "seed": r.seed,
        "checkpoint": r.checkpoint, "network": network_summary(r.spec), "spec": r.spec,
    }  # fmt: skip


def _show(store: RunStore, args: argparse.Namespace) -> None:
    r = store.run(args.id)
    if args.spec:
        import tomli_w

        print(tomli_w.dumps(r.spec), end="")
        return
    print(f"run {r.id}: {r.name} — {r.status}")
    owner = f", pid {r.pid} on {r.host}" if r.pid is not None else ""
    facts = [
        ("started", f"{_when(r.started, seconds=True)} ({_duration(r.seconds)})"),
        ("source", f"{r.source}{owner}"),
        ("network", network_summary(r.spec)),
        ("spec hash", r.spec_hash[:16]),
    ]
    if r.sweep_id is not None:
        point = ", ".join(f"{k}={show_value(v)}" for k, v in (r.point or {}).items())
        facts.append(("sweep", f"{r.sweep_id} ({point}{', ' if point else ''}seed {r.seed})"))
    if r.checkpoint:
        facts.append(("checkpoint", r.checkpoint))
    if r.final:
        f = r.final
        facts.append((
            "final",
            f"epoch {f.get('epoch')}: train {_num(f.get('train_acc'), '.1f')} %, test "
            f"{_num(f.get('test_acc'), '.1f')} %, train loss {_num(f.get('train_loss'), '.4f')}, "
            f"test loss {_num(f.get('test_loss'), '.4f')}",
        ))  # fmt: skip
    for key, value in facts:
        print(f"  {key:<11} {value}")
    print("settings:")
    for key, value in settings(r.spec).items():
        print(f"  {key:<22} {show_value(value)}")
    epochs = store.epochs(r.id)
    if not epochs:
        print("no epochs recorded")
        return
    every = args.every or max(1, len(epochs) // 20)
    shown = [m for i, m in enumerate(epochs) if (i + 1) % every == 0 or i in (0, len(epochs) - 1)]
    head = ["epoch", *(title for _, title, _ in FINAL_COLUMNS), "status"]
    rows = [[str(m.get("epoch")), *(_num(m.get(k), fmt) for k, _, fmt in FINAL_COLUMNS),
             str(m.get("status", ""))] for m in shown]  # fmt: skip
    print(f"epochs ({len(epochs)} recorded{'' if every == 1 else f', one in {every} shown'}):")
    print(_table(head, rows, [True] * 5 + [False]))


def _compare(store: RunStore, args: argparse.Namespace) -> None:

    ids = list(dict.fromkeys(args.ids))
    records = store.runs(ids=ids)
    names = store.metric_names(ids)
    if not names:
        raise UsageError("none of these runs has recorded epochs to compare")
    if args.metric not in names:
        raise UsageError(f"unknown metric {args.metric!r}; recorded: {', '.join(names)}")
    keys = differing([r.spec for r in records])
    if keys:
        print("settings that differ:\n")
        flats = [settings(r.spec) for r in records]
        rows = [[k, *(show_value(f.get(k)) for f in flats)] for k in keys]
        print(_markdown(["setting", *(f"#{r.id}" for r in records)], rows,
                        [False] * (len(records) + 1)))  # fmt: skip
    else:
        print("no settings differ (the same spec)")
    print("\nfinal metrics:\n")
    rows = [[f"#{r.id}", r.name, r.status, _epochs(r),
             *(_num(r.metric(k), fmt) for k, _, fmt in FINAL_COLUMNS), _duration(r.seconds)]
            for r in records]  # fmt: skip
    head = ["run", "name", "status", "epochs", *(t for _, t, _ in FINAL_COLUMNS), "time"]
    print(_markdown(head, rows, [False, False, False, True, True, True, True, True, True]))
    curves = store.curves(ids, args.metric)
    labelled = {_label(r, keys): curves[r.id] for r in records}
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    print()
    print(chart(labelled, args.metric, width=width, height=20, colour=colour))


def _export(store: RunStore, args: argparse.Namespace) -> None:
    epochs = store.epochs(args.id)
    check_writable(args.csv)
    columns = list(dict.fromkeys(k for m in epochs for k in m))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for m in epochs:
        cells = [m.get(k) for k in columns]
        writer.writerow(["" if v is None else json.dumps(v) if isinstance(v, dict | list) else v
                         for v in cells])  # fmt: skip
    write_atomic_text(args.csv, buffer.getvalue())
    print(f"wrote {plural(len(epochs), 'epoch')} of run {args.id} to {args.csv}")


def _rm(store: RunStore, args: argparse.Namespace) -> None:

    records = store.runs(ids=list(dict.fromkeys(args.ids)))  # RunNotFound before any removal
    for r in records:
        if r.status in (Status.RUNNING, Status.QUEUED):
            where = f" (pid {r.pid} on {r.host})" if r.pid is not None else ""
            raise UsageError(f"run {r.id} is still {r.status}{where}; nothing removed")
    count = store.delete_runs([r.id for r in records])
    print(f"removed {plural(count, 'run')}")


ACTIONS = {"list": _list, "show": _show, "compare": _compare, "export": _export, "rm": _rm}
