"""Your own data: a CSV file read into features and classes, without torch.

A data file is a table of rows: numeric feature columns (any number ≥ 1) and one label column
(the last unless ``label_column`` names another, by header name or by its 1-based position;
−1 is the last). :func:`read_table` reads it:

- **Delimiter**: ``,``, ``;`` or a tab, whichever splits the first lines into the same number
  (≥ 2) of columns (the most columns wins a tie; then that order).
- **Header**: the first row is a header when none of its cells is a number; otherwise it is
  data (a typo in a first data row is an error naming it, not a header).
- **Rows**: blank lines and lines starting with ``#`` are skipped; quoted cells are read as
  the csv module reads them. Every row has the header's (or the first row's) width; every
  feature cell is a finite decimal number (``1.5``, ``-2e-3``; not ``1_0``, ``0x1``, ``nan``).
- **Classes**: the distinct labels, in sorted order: numerically when every label is an
  integer (``"01"`` and ``"1"`` are then one class, named ``"1"``), else as text (code-point
  order). Class i is the i-th name. At least 2 and at most ``LIMITS.max_classes``.

Every problem is a :class:`CSVError` naming the file, and the line and column where there is
one (``iris.csv:12: column 2 (sepal_width): 'abc' is not a number``). Files are read with
:func:`~.files.read_bytes_limited`: regular files only (a FIFO is never opened, so nothing
blocks), at most ``LIMITS.max_csv_bytes``.

The training and test rows of a ``csv`` run come from :func:`csv_split`: the ``test_path``
file, or a stratified, seeded split of ``path`` (``test_fraction`` of each class, at least one
row of each class on each side). Tables are cached while their file is unchanged (size,
modification time, inode), so validating a spec again does not read the file again.

A caller that reads big files off its UI thread can watch a read and stop it: inside
``with watch_reading(progress, cancelled):`` every :func:`read_table` of that thread reports
``progress(path, lines read, lines in all)`` as it goes and raises :class:`ReadCancelled`
once ``cancelled()`` says so (the trainer's data picker shows the one and offers the other).
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import csv
import io
import math
import os
import random
import re
import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from .errors import CSVError as CSVError  # callers import it from here too
from .errors import FileError
from .files import read_bytes_limited
from .plurals import plural
from .registry import LIMITS
from .shape import DataShape, RowOrigin

DELIMITERS = (",", ";", "\t")
SNIFF_LINES = 20  # lines the delimiter is chosen from
QUOTE_CHARS = 80  # an error quotes at most this many characters of the file
_INTEGER = re.compile(r"[+-]?[0-9]+")
_CACHE_SIZE = 2  # tables kept (a training and a test file)


class ReadCancelled(Exception):
    """A read that its watcher cancelled (see :func:`watch_reading`); nothing was kept."""


#: Told how a read goes: (the file, lines read so far, lines in the file).
ReadProgress = Callable[[Path, int, int], None]
#: Rows read between two calls of a watcher.
WATCH_ROWS = 2048
_watch: contextvars.ContextVar[tuple[ReadProgress, Callable[[], bool]] | None] = (
    contextvars.ContextVar("miniframe_read_watch", default=None)
)


@contextlib.contextmanager
def watch_reading(progress: ReadProgress, cancelled: Callable[[], bool]) -> Iterator[None]:
    """Within the block, this thread's table reads report ``progress`` every
    :data:`WATCH_ROWS` rows and raise :class:`ReadCancelled` once ``cancelled()`` is true."""
    token = _watch.set((progress, cancelled))
    try:
        yield
    finally:
        _watch.reset(token)


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` quoted for an error message, cut to ``limit`` characters."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def is_number(cell: str) -> bool:
    """Whether ``cell`` is a decimal number as data files write them (finite or not)."""
    cell = cell.strip()
    if not cell or "_" in cell or not cell.isascii():
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def parse_number(cell: str) -> float:
    """A feature cell as a finite float; ValueError says what is wrong."""
    text = cell.strip()
    if not text:
        raise ValueError("empty: every feature must be a number")
    if not is_number(text):
        raise ValueError(f"{quote(text)} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{quote(text)} is not a finite number")
    return value


# ---- reading a table ----------------------------------------------------------------------------
#: Which column holds the labels, decided once the first row (header or not) and the width are
#: known: (header, width) → 0-based index, or None for a table without labels.
LabelChooser = Callable[[tuple[str, ...] | None, int], int | None]


@dataclass(frozen=True)
class Table:
    """A data file, read: ``features`` row-major float64 (n_rows × n_features), the raw label
    cells (stripped; empty without a label column), each row's line in the file; the class
    names and each row's class index when the file has labels (``classes``, ``y``)."""

    path: Path
    delimiter: str
    header: tuple[str, ...] | None
    columns: tuple[str, ...]
    label_index: int | None
    features: array[float]
    labels: list[str]
    lines: array[int]
    classes: tuple[str, ...] = ()
    y: array[int] = field(default_factory=lambda: array("q"))
    cells: list[list[str]] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    @property
    def width(self) -> int:
        return len(self.columns)

    @property
    def n_features(self) -> int:
        return self.width - (self.label_index is not None)

    @property
    def feature_index(self) -> list[int]:
        return [j for j in range(self.width) if j != self.label_index]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.columns[j] for j in self.feature_index)

    @property
    def label_name(self) -> str:
        return "" if self.label_index is None else self.columns[self.label_index]

    def column(self, j: int) -> str:
        """``column 3 (petal_length)``: 1-based, with its header name when there is one."""
        return f"column {j + 1}" + (
            f" ({self.header[j]})" if self.header and self.header[j] else ""
        )

    def class_counts(self) -> list[int]:
        counts = [0] * len(self.classes)
        for c, n in collections.Counter(self.y).items():
            counts[c] = n
        return counts

    def origin(self, rows: Sequence[int] | None = None) -> RowOrigin:
        """Where the rows ``rows`` (default: all) came from, for messages naming a cell."""
        lines = self.lines if rows is None else array("q", (self.lines[i] for i in rows))
        return RowOrigin(self.path, lines, tuple(self.column(j) for j in self.feature_index))


def label_column_chooser(label_column: int | str | None, path: Path) -> LabelChooser:
    """The label column a spec's ``label_column`` names: None the last; an int its 1-based
    position (negative counts from the end: −1 is the last); a str its header name."""

    def choose(header: tuple[str, ...] | None, width: int) -> int | None:
        if label_column is None:
            return width - 1
        if isinstance(label_column, int):
            j = label_column - 1 if label_column > 0 else width + label_column
            if not 0 <= j < width:
                raise CSVError(
                    f"{path}: label_column {label_column} is not a column of a file with "
                    f"{plural(width, 'column')} (columns count from 1; −1 is the last)"
                )
            return j
        if header is None:
            raise CSVError(
                f"{path}: label_column {quote(label_column)} names a column, but the file has "
                "no header row: give the column's position instead"
            )
        matches = [j for j, name in enumerate(header) if name == label_column]
        if not matches:
            names = ", ".join(quote(h, 30) for h in header[:12])
            more = ", …" if len(header) > 12 else ""
            raise CSVError(
                f"{path}: no column is named {quote(label_column)}; the header has {names}{more}"
            )
        if len(matches) > 1:
            raise CSVError(
                f"{path}: {len(matches)} columns are named {quote(label_column)}: give the "
                "label column's position instead"
            )
        return matches[0]

    return choose


def _allow_long_fields() -> None:
    """Let the csv module read a field as long as a whole file may be (its default stops at
    128 KiB, also while a wrong delimiter is tried on a wide row): the size limit of the file
    is the one limit on its lines."""
    if csv.field_size_limit() < LIMITS.max_csv_bytes:
        csv.field_size_limit(LIMITS.max_csv_bytes)


def _lines(text: str) -> Iterator[str]:
    """The file's lines, with comment lines blanked (the csv reader's line count stays true)."""
    for line in io.StringIO(text, newline=""):
        yield "\n" if line.lstrip().startswith("#") else line


def sniff_delimiter(text: str) -> str:
    """``,``, ``;`` or tab: the one that splits the first lines into the same number (≥ 2) of
    columns, the most columns winning; a comma when none does."""
    sample = []
    for line in _lines(text):
        if line.strip():
            sample.append(line)
            if len(sample) == SNIFF_LINES:
                break
    best, best_score = ",", (False, 0)
    for d in DELIMITERS:
        widths = {len(row) for row in csv.reader(sample, delimiter=d) if row}
        width = max(widths, default=0)
        score = (len(widths) == 1 and width >= 2, width)
        if score > best_score:
            best, best_score = d, score
    return best


def read_table(
    path: str | Path,
    label: LabelChooser | None = None,
    *,
    what: str = "CSV data file",
    keep_cells: bool = False,
    with_classes: bool = True,
) -> Table:
    """Read the data file ``path`` (see the module's docstring for the format).

    ``label`` picks the label column (default: the last); it may return None (no labels: every
    column is a feature). ``keep_cells``: keep every row's cells as text too (``predict``
    echoes them). ``with_classes``: find the classes and each row's class.
    """
    path = Path(path)
    try:
        data = read_bytes_limited(path, LIMITS.max_csv_bytes, what)
    except FileError as e:
        raise CSVError(str(e)) from None
    try:
        text = data.decode("utf-8-sig")  # -sig: a leading byte-order mark is dropped
    except UnicodeDecodeError as e:
        raise CSVError(f"{path}: not a UTF-8 text file (byte {e.start:,})") from None
    del data
    if "\0" in text:
        raise CSVError(f"{path}: not a text file (it holds NUL bytes)")
    watch = _watch.get()
    total_lines = text.count("\n") + (not text.endswith("\n"))
    next_watch = 0 if watch is None else 1
    _allow_long_fields()
    delimiter = sniff_delimiter(text)
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    choose = label if label is not None else label_column_chooser(None, path)
    header: tuple[str, ...] | None = None
    columns: tuple[str, ...] = ()
    label_index: int | None = None
    features: array[float] = array("d")
    labels: list[str] = []
    lines: array[int] = array("q")
    cells: list[list[str]] | None = [] if keep_cells else None
    feature_index: list[int] = []
    width = 0
    try:
        for row in reader:
            if not row:
                continue  # a blank or comment line
            line = reader.line_num
            if next_watch and line >= next_watch:
                assert watch is not None
                _report(watch, path, line, total_lines)
                next_watch = line + WATCH_ROWS
            if not width:
                width = len(row)
                if width > LIMITS.max_features + 1:
                    raise CSVError(
                        f"{path}:{line}: {width:,} columns; the limit is "
                        f"{LIMITS.max_features:,} features and a label"
                    )
                if not any(is_number(c) for c in row):
                    header = tuple(c.strip() for c in row)
                columns = tuple(
                    (header[j] if header and header[j] else f"column {j + 1}") for j in range(width)
                )
                label_index = choose(header, width)
                feature_index = [j for j in range(width) if j != label_index]
                if not feature_index:
                    raise CSVError(
                        f"{path}: only {width} column: the data need at least one feature "
                        "column besides the labels"
                    )
                if header is not None:
                    continue
            if len(row) != width:
                first = "the header" if header is not None else "the first row"
                raise CSVError(
                    f"{path}:{line}: {plural(len(row), 'column')}, but {first} has {width}"
                )
            values = [row[j] for j in feature_index]
            try:
                numbers = [float(v) for v in values]
                joined = "".join(values)
                if "_" in joined or not joined.isascii():
                    raise ValueError
                # The sum is one fast test of every value; one that overflowed (1e308 + 1e308)
                # says nothing, so then each value is looked at.
                if not math.isfinite(sum(numbers)) and not all(map(math.isfinite, numbers)):
                    raise ValueError
            except ValueError:
                _raise_bad_cell(path, line, row, feature_index, header, label_index)
            features.extend(numbers)
            if label_index is not None:
                cell = row[label_index].strip()
                if not cell:
                    col = _column(label_index, header)
                    raise CSVError(f"{path}:{line}: {col}: the label is empty")
                labels.append(cell)
            lines.append(line)
            if cells is not None:
                cells.append(row)
            if len(lines) > LIMITS.max_samples:
                raise CSVError(f"{path}: more than {LIMITS.max_samples:,} rows")
    except csv.Error as e:
        raise CSVError(f"{path}:{reader.line_num}: not valid CSV ({e})") from None
    if not lines:
        raise CSVError(f"{path}: " + ("the file is empty" if not width else "no data rows"))
    if watch is not None:
        _report(watch, path, total_lines, total_lines)
    table = Table(
        path, delimiter, header, columns, label_index, features, labels, lines, cells=cells
    )
    if with_classes and label_index is not None:
        classes = class_order(labels)
        table = Table(
            path, delimiter, header, columns, label_index, features, labels, lines,
            classes=classes, y=encode_labels(table, classes), cells=cells,
        )  # fmt: skip
    return table


def _report(
    watch: tuple[ReadProgress, Callable[[], bool]], path: Path, done: int, total: int
) -> None:
    progress, cancelled = watch
    if cancelled():
        raise ReadCancelled(f"{path}: reading cancelled")
    progress(path, done, total)


def _column(j: int, header: tuple[str, ...] | None) -> str:
    return f"column {j + 1}" + (f" ({header[j]})" if header and header[j] else "")


def _raise_bad_cell(
    path: Path,
    line: int,
    row: list[str],
    feature_index: list[int],
    header: tuple[str, ...] | None,
    label_index: int | None,
) -> None:
    for j in feature_index:
        try:
            parse_number(row[j])
        except ValueError as e:
            hint = ""
            if not is_number(row[j]) and row[j].strip() and label_index is not None:
                hint = (
                    f" (the labels are {_column(label_index, header)}; "
                    "label_column chooses another)"
                )
            raise CSVError(f"{path}:{line}: {_column(j, header)}: {e}{hint}") from None
    raise CSVError(f"{path}:{line}: a feature is not a finite number")  # pragma: no cover


#: How a user chooses the label column, on the command line and in a spec.
CHOOSE_LABEL = "choose the label column with --label-column (label_column in a spec)"


def numeric_labels_hint(table: Table) -> str:
    """When the label column holds numbers that are not all whole (``-0.0171``): a hint that
    it looks like a measured feature rather than classes, and how to choose another; else
    ``""``."""
    if table.label_index is None or not table.classes:
        return ""
    if not all(is_number(c) for c in table.classes) or integer_classes(table.classes):
        return ""
    example = next(c for c in table.classes if not _INTEGER.fullmatch(c))
    return (
        f"; the label column ({table.column(table.label_index)}) holds numbers such as "
        f"{quote(example, 30)}, which look like a measured value, not a class: {CHOOSE_LABEL}"
    )


def class_order(labels: Sequence[str]) -> tuple[str, ...]:
    """The distinct labels as class names, in class order: numerically when every label is an
    integer (named by its plain decimal form), else sorted as text."""
    distinct = set(labels)
    if all(_INTEGER.fullmatch(x) and len(x) <= 30 for x in distinct):
        return tuple(str(v) for v in sorted({int(x) for x in distinct}))
    return tuple(sorted(distinct))


def canonical_label(cell: str, integer_classes: bool) -> str:
    """A label cell as a class name: its plain decimal form when the classes are integers."""
    if integer_classes and _INTEGER.fullmatch(cell) and len(cell) <= 30:
        return str(int(cell))
    return cell


def integer_classes(classes: Sequence[str]) -> bool:
    return all(_INTEGER.fullmatch(c) for c in classes)


def encode_labels(table: Table, classes: Sequence[str], whose: str = "the model's") -> array[int]:
    """Each row's class index in ``classes``; CSVError names a row whose label is none of them
    (``whose`` classes they are, in the message)."""
    index = {name: i for i, name in enumerate(classes)}
    ints = integer_classes(classes)
    out: array[int] = array("q")
    for cell, line in zip(table.labels, table.lines, strict=True):
        c = index.get(canonical_label(cell, ints))
        if c is None:
            assert table.label_index is not None
            shown = ", ".join(quote(n, 30) for n in classes[:10]) + (", …" * (len(classes) > 10))
            raise CSVError(
                f"{table.path}:{line}: {table.column(table.label_index)}: the label "
                f"{quote(cell)} is not one of {whose} classes ({shown})"
            )
        out.append(c)
    return out


# ---- a csv run's data ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CSVData:
    """A ``csv`` run's data, read and split: the table(s), the rows of each set, the shape."""

    shape: DataShape
    train: Table
    train_rows: list[int]
    test: Table
    test_rows: list[int]
    test_y: array[int]


_cache: collections.OrderedDict[tuple[object, ...], object] = collections.OrderedDict()
_cache_lock = threading.Lock()


def _file_key(path: Path) -> tuple[object, ...]:
    try:
        st = os.stat(path)
    except OSError:
        return (str(path),)  # reading it will say what is wrong
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _cached(key: tuple[object, ...], make: Callable[[], object]) -> object:
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = make()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > 2 * _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget every table read (the next read goes to the file)."""
    with _cache_lock:
        _cache.clear()


class CSVSource(Protocol):
    """What a ``csv`` run says about its file(s): a spec's ``data`` table
    (:class:`~.spec.DataSpec`) is one. This module reads it and needs nothing else of a spec."""

    @property
    def path(self) -> str | None: ...
    @property
    def test_path(self) -> str | None: ...
    @property
    def test_fraction(self) -> float: ...
    @property
    def label_column(self) -> int | str | None: ...


def data_path(spec_data: CSVSource, attr: str = "path") -> Path:
    """``data.path`` (or ``data.test_path``) as a Path, ``~`` expanded."""
    value = getattr(spec_data, attr)
    if not value:
        raise CSVError(f"data.{attr}: a csv dataset needs the path of a CSV file")
    return Path(value).expanduser()


def load_table(path: Path, label_column: int | str | None, what: str) -> Table:
    """:func:`read_table` of ``path`` with the spec's ``label_column``, cached while the file
    is unchanged."""
    key = ("table", *_file_key(path), repr(label_column), what)
    table = _cached(
        key, lambda: read_table(path, label_column_chooser(label_column, path), what=what)
    )
    assert isinstance(table, Table)
    return table


def csv_split(data: CSVSource, seed: int) -> CSVData:
    """The training and test rows of a ``csv`` run's ``data`` (a spec's data table), the test
    rows drawn with ``seed`` (the data seed, :func:`~.spec.data_seed`) unless a test file is
    given; checked: CSVError says what is wrong."""
    train = load_table(data_path(data), data.label_column, "CSV data file")
    key: tuple[object, ...] = ("split", *_file_key(train.path), repr(data.label_column))
    if data.test_path:
        test_path = data_path(data, "test_path")
        key += ("test", *_file_key(test_path))
    else:
        key += ("fraction", data.test_fraction, seed)
    result = _cached(key, lambda: _split(data, seed, train))
    assert isinstance(result, CSVData)
    return result


def _split(data: CSVSource, seed: int, train: Table) -> CSVData:
    classes = train.classes
    if len(classes) < 2:
        assert train.label_index is not None
        raise CSVError(
            f"{train.path}: the labels ({train.column(train.label_index)}) hold only one class, "
            f"{quote(classes[0])}: a classifier needs at least 2"
        )
    if len(classes) > LIMITS.max_classes:
        assert train.label_index is not None
        raise CSVError(
            f"{train.path}: the labels ({train.column(train.label_index)}) hold "
            f"{len(classes):,} distinct values; the limit is {LIMITS.max_classes} classes"
            + (numeric_labels_hint(train) or " (is it the label column? " + CHOOSE_LABEL + ")")
        )
    if data.test_path:
        test_path = data_path(data, "test_path")
        test = read_table(
            test_path,
            label_column_chooser(data.label_column, test_path),
            what="CSV test file",
            with_classes=False,
        )
        check_same_columns(test, train)
        test_y = encode_labels(test, classes, "the training data's")
        present = set(test_y)
        missing = [classes[c] for c in range(len(classes)) if c not in present]
        if missing:
            raise CSVError(
                f"{test_path}: class {quote(missing[0])} of the training data has no row in the "
                "test file: every class must be tested"
            )
        train_rows = list(range(train.n_rows))
        test_rows = list(range(test.n_rows))
    else:
        train_rows, test_rows = stratified_split(
            train.y, len(classes), data.test_fraction, seed, train
        )
        test, test_y = train, array("q", (train.y[i] for i in test_rows))
    shape = DataShape(
        n_inputs=train.n_features,
        n_classes=len(classes),
        class_names=classes,
        feature_names=train.feature_names,
        n_train=len(train_rows),
        n_test=len(test_rows),
        label_name=train.label_name,
        label_position=train.label_index if train.label_index is not None else train.width,
    )
    return CSVData(shape, train, train_rows, test, test_rows, test_y)


def check_same_columns(table: Table, reference: Table) -> None:
    """``table`` has ``reference``'s columns: the same width and label position, and the same
    names where both have a header."""
    if table.width != reference.width or table.label_index != reference.label_index:
        raise CSVError(
            f"{table.path}: {plural(table.width, 'column')} with the labels in column "
            f"{(table.label_index or 0) + 1}, but the training data have {reference.width} "
            f"with the labels in column {(reference.label_index or 0) + 1}"
        )
    if table.header and reference.header:
        for j, (a, b) in enumerate(zip(table.header, reference.header, strict=True)):
            if a != b:
                raise CSVError(
                    f"{table.path}: column {j + 1} is {quote(a)}, but in the training data it is "
                    f"{quote(b)}"
                )


def stratified_split(
    y: Sequence[int], n_classes: int, fraction: float, seed: int, table: Table
) -> tuple[list[int], list[int]]:
    """Row indices (train, test): of each class's n_c rows, t_c = round(fraction · n_c),
    at least 1 and at most n_c − 1, go to the test set, drawn with ``random.Random(seed)``;
    both lists in file order. A class of one row cannot be split: CSVError."""
    by_class: list[list[int]] = [[] for _ in range(n_classes)]
    for i, c in enumerate(y):
        by_class[c].append(i)
    rng = random.Random(seed)
    test: list[int] = []
    for c, rows in enumerate(by_class):
        if len(rows) < 2:
            raise CSVError(
                f"{table.path}: class {quote(table.classes[c])} has {len(rows)} row: too few rows "
                "for the split (each class needs one for training and one for testing)"
                + (numeric_labels_hint(table) or "; add rows or give a test file")
            )
        t = min(max(math.floor(fraction * len(rows) + 0.5), 1), len(rows) - 1)
        rng.shuffle(rows)
        test.extend(rows[:t])
    test.sort()
    chosen = set(test)
    return [i for i in range(len(y)) if i not in chosen], test


def csv_shape(data: CSVSource, seed: int) -> DataShape:
    """The shape of a ``csv`` run's data (reads and checks the file(s); cached)."""
    return csv_split(data, seed).shape


# ---- new inputs for a trained model ------------------------------------------------------------
def _default_name(name: str, j: int) -> bool:
    return name == f"column {j + 1}"


def read_for_model(
    path: str | Path, shape: DataShape, *, labels_required: bool, keep_cells: bool = False
) -> Table:
    """A data file for a model trained on data of ``shape`` (``evaluate --data``,
    ``predict``): its n_inputs feature columns in the training order, and the label column
    where it was in training (found by its header name, else by its position), which
    ``evaluate`` requires and ``predict`` may do without. Labels are the model's classes.

    CSVError when the file's width fits neither (n_inputs or n_inputs + 1 columns), a header
    names the features differently from the training data's header, or a label is none of
    the model's classes (named by line)."""
    path = Path(path)
    n = shape.n_inputs

    def choose(header: tuple[str, ...] | None, width: int) -> int | None:
        if width == n + 1:
            if header is not None and header.count(shape.label_name) == 1:
                return header.index(shape.label_name)
            return shape.label_position
        if width == n and not labels_required:
            return None
        label = f"the labels ({_describe_label(shape)})"
        if width == n:
            raise CSVError(
                f"{path}: {plural(width, 'column')}: the model's {plural(n, 'feature')}, but "
                f"no column for {label}"
            )
        features = plural(n, "feature")
        fits = f"{features} and {label}" + ("" if labels_required else f", or the {features}")
        raise CSVError(
            f"{path}: {plural(width, 'column')}, but the model was trained on {features}: "
            f"give {fits}"
        )

    table = read_table(
        path, choose, what="CSV data file", keep_cells=keep_cells, with_classes=False
    )
    if table.header is not None:
        trained = [
            (j, name)
            for j, name in enumerate(shape.feature_names)
            if not _default_name(name, j + (j >= shape.label_position))
        ]
        given = table.feature_names
        for j, name in trained:
            if given[j] != name:
                raise CSVError(
                    f"{path}: feature {j + 1} is {quote(given[j])}, but the model's feature "
                    f"{j + 1} is {quote(name)} (the columns must come in the training order)"
                )
    if table.label_index is None:
        return table
    return replace(table, classes=shape.class_names, y=encode_labels(table, shape.class_names))


def _describe_label(shape: DataShape) -> str:
    where = f"column {shape.label_position + 1}"
    if _default_name(shape.label_name, shape.label_position):
        return where
    return f"{where}, {quote(shape.label_name)}"
