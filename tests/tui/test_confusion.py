"""The confusion-matrix panel (tui/widgets/confusion.py): counts by true/predicted class,
per-class recall, fits 80×24 for few classes and scrolls for many, on a real run's matrix."""

from __future__ import annotations

from pathlib import Path

from map_helpers import trained_iris
from textual.app import App, ComposeResult
from tui_helpers import press, run, wait_for

from miniframe.tui.widgets.confusion import ConfusionView, format_confusion, recalls


def test_recalls_and_layout() -> None:
    counts = [[10, 0, 0], [0, 9, 1], [0, 0, 0]]
    assert recalls(counts) == [1.0, 0.9, None]
    text = format_confusion(counts, ["setosa", "versicolor", "virginica"]).plain
    lines = text.splitlines()
    assert lines[0].split() == ["true\\pred", "setosa", "versicolor", "virginica", "recall"]
    narrow = format_confusion(counts, ["setosa", "versicolor", "virginica"], width=30).plain
    assert narrow.splitlines()[0].split()[1:4] == ["set…", "ver…", "vir…"]
    assert lines[2].split()[-4:] == ["·", "9", "1", "90.0%"]
    assert lines[3].endswith("—")
    assert lines[-1] == "accuracy 19/20 = 95.0%"


def test_four_classes_fit_80_columns_and_twelve_get_cut_names() -> None:
    four = [[5, 1, 0, 0], [0, 6, 0, 0], [1, 0, 7, 0], [0, 0, 2, 3]]
    names = ["alpha class", "beta class", "gamma class", "delta class"]
    lines = format_confusion(four, names).plain.splitlines()
    assert len(lines) <= 22 and max(map(len, lines)) <= 78
    big = [[i * 12 + j for j in range(12)] for i in range(12)]
    lines = format_confusion(big, [f"a very long name {i}" for i in range(12)]).plain.splitlines()
    assert "a very long…" in lines[1]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield ConfusionView()


def test_real_iris_matrix_at_80x24(tmp_path: Path) -> None:
    iris = trained_iris(tmp_path)
    counts = iris.confusion_matrix()
    assert counts.shape == (3, 3)

    async def go() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(ConfusionView)
            assert "no model yet" in view.text().plain
            view.show_matrix(counts, iris.shape.class_names, iris.epoch)
            await wait_for(pilot, lambda: "setosa" in view.text().plain)
            assert view.border_subtitle == f"test set · epoch {iris.epoch}"
            total = int(counts.sum())
            assert f"/{total} = " in view.text().plain
            assert view.max_scroll_y == 0 and view.max_scroll_x == 0  # k=3 fits
            # 30 classes do not fit: the panel scrolls
            big = [[(i + j) % 3 for j in range(30)] for i in range(30)]
            view.show_matrix(big, [f"class {i}" for i in range(30)], 1)
            await wait_for(pilot, lambda: view.max_scroll_x > 0 and view.max_scroll_y > 0)
            view.focus()
            await press(pilot, "down", "right")
            await wait_for(pilot, lambda: view.scroll_y > 0 and view.scroll_x > 0)

    run(go())
