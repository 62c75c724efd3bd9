"""`miniframe predict`: a saved model's predictions for the rows of a CSV file.

The file holds the model's features, in the training order, with or without the label column
(where it was in training: by its header name, else by its position). The output is CSV
(comma-separated): each input row as it was, then the predicted class's name and one
probability column per class (``p_<class>``), under a header (the input's, or the model's
column names when the input has none). It goes to stdout, or with ``-o`` to a file, written
atomically (checked before any work). When the input has labels, the accuracy against them
is one line on stderr.
"""

from __future__ import annotations

import argparse
import csv
import io

from miniframe.engine import check_writable, plural, write_atomic_text

from .args import path, say
from .evaluate import read_model

COMMAND = "predict"
HELP = "a checkpoint's predicted class and class probabilities for each row of a CSV file"
ORDER = 3
DIGITS = 6  # decimals of a probability


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", metavar="CHECKPOINT", type=path("checkpoint"))
    p.add_argument(
        "data",
        metavar="FILE.csv",
        type=path("data file"),
        help="rows of the model's features (the label column may be there or not)",
    )
    p.add_argument(
        "-o", "--output", metavar="OUT.csv", type=path(), help="write here (default: stdout)"
    )


def run(args: argparse.Namespace) -> int:
    if args.output is not None:
        check_writable(args.output)  # a bad path fails now, not after the work
    from miniframe.engine import (
        InputTransform,
        class_probabilities,
        prepare,
        read_for_model,
        table_dataset,
    )

    model, info = read_model(args, COMMAND)
    shape = info.shape
    table = read_for_model(args.data, shape, labels_required=False, keep_cells=True)
    # as the model takes them: a value the model's dtype cannot hold is named by line, column
    data = prepare(table_dataset(table, labels=False), info.transform)
    probs = class_probabilities(model, InputTransform(), data.x)
    predicted = probs.argmax(dim=1).tolist()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if table.header is not None:
        header = list(table.header)
    else:  # the model's names for the columns
        names = iter(shape.feature_names)
        header = [
            shape.label_name if j == table.label_index else next(names) for j in range(table.width)
        ]
    writer.writerow([*header, "predicted", *(f"p_{name}" for name in shape.class_names)])
    assert table.cells is not None
    for cells, c, row in zip(table.cells, predicted, probs.tolist(), strict=True):
        writer.writerow([*cells, shape.class_names[c], *(f"{p:.{DIGITS}f}" for p in row)])
    if args.output is not None:
        write_atomic_text(args.output, out.getvalue())
    else:
        print(out.getvalue(), end="")
    if table.label_index is not None and table.n_rows:
        correct = sum(int(c == y) for c, y in zip(predicted, table.y, strict=True))
        acc = 100 * correct / table.n_rows
        say(
            f"miniframe predict: accuracy against the file's labels {acc:.1f} % "
            f"({correct}/{table.n_rows})"
        )
    if args.output is not None:
        say(f"miniframe predict: wrote {plural(table.n_rows, 'row')} to {args.output}")
    return 0
