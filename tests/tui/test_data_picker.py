"""The data picker: path completion from the folder listing, the CSV-only tree, the typed
result, cancel, and the inline error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import Checkbox, DirectoryTree, Input, Static
from tui_helpers import press, run, type_text, wait_closed, wait_dialog, wait_for

from miniframe.tui.widgets.data_picker import (
    CsvChoice,
    CsvTree,
    DataPicker,
    complete_path,
    parse_label_column,
)


def make_folder(tmp_path: Path) -> Path:
    (tmp_path / "iris.csv").write_text("a,b,species\n1,2,x\n")
    (tmp_path / "notes.txt").write_text("not data")
    (tmp_path / ".hidden.csv").write_text("a\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cancer.csv").write_text("a,label\n1,0\n")
    return tmp_path


def test_completion_offers_folders_and_csv_files_only(tmp_path: Path) -> None:
    root = make_folder(tmp_path)
    assert complete_path(f"{root}/ir") == f"{root}/iris.csv"
    assert complete_path(f"{root}/d") == f"{root}/data/"
    assert complete_path(f"{root}/data/") == f"{root}/data/cancer.csv"
    assert complete_path(f"{root}/no") is None  # a .txt file is not offered
    assert complete_path(f"{root}/.h") is None  # nor a hidden one
    assert complete_path(f"{root}/missing/x") is None
    assert complete_path("") is None


def test_label_column_is_a_name_an_index_or_the_default() -> None:
    assert parse_label_column("") is None
    assert parse_label_column(" 2 ") == 2
    assert parse_label_column("species") == "species"


class Host(App[None]):
    def __init__(self, picker: DataPicker) -> None:
        super().__init__()
        self.picker = picker
        self.results: list[CsvChoice | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.picker, self.results.append)


def test_tab_completes_and_enter_returns_the_choice(tmp_path: Path) -> None:
    root = make_folder(tmp_path)

    async def go() -> None:
        app = Host(DataPicker(root=root))
        async with app.run_test(size=(80, 24)) as pilot:
            dialog = await wait_dialog(pilot, DataPicker)
            path = dialog.query_one("#dp-path", Input)
            path.value = f"{root}/ir"
            path.cursor_position = len(path.value)
            await wait_for(pilot, lambda: path._suggestion == f"{root}/iris.csv")
            await press(pilot, "tab")
            await wait_for(pilot, lambda: path.value == f"{root}/iris.csv")
            dialog.query_one("#dp-label", Input).focus()
            await type_text(pilot, "species")
            dialog.query_one("#dp-standardize", Checkbox).value = True
            await press(pilot, "enter")
            await wait_closed(pilot, DataPicker)
            await wait_for(pilot, lambda: app.results, what="the dialog's result")
            assert app.results == [CsvChoice(root / "iris.csv", "species", True)]

    run(go())


def test_tree_lists_csv_files_and_picks_one(tmp_path: Path) -> None:
    root = make_folder(tmp_path)

    async def go() -> None:
        app = Host(DataPicker(root=root))
        async with app.run_test(size=(80, 24)) as pilot:
            dialog = await wait_dialog(pilot, DataPicker)
            tree = dialog.query_one(CsvTree)
            await wait_for(pilot, lambda: len(tree.root.children) > 0, what="the tree to load")
            names = {str(n.label) for n in tree.root.children}
            assert names == {"data", "iris.csv"}
            iris = next(n for n in tree.root.children if str(n.label) == "iris.csv")
            tree.post_message(DirectoryTree.FileSelected(iris, root / "iris.csv"))
            path = dialog.query_one("#dp-path", Input)
            await wait_for(pilot, lambda: path.value == str(root / "iris.csv"))
            assert dialog.query_one("#dp-label", Input).has_focus

    run(go())


def test_empty_path_is_an_inline_error_and_escape_cancels(tmp_path: Path) -> None:
    async def go() -> None:
        app = Host(DataPicker(root=tmp_path))
        async with app.run_test(size=(80, 24)) as pilot:
            dialog = await wait_dialog(pilot, DataPicker)
            await press(pilot, "enter")
            error = dialog.query_one("#dp-error", Static)
            await wait_for(pilot, lambda: "Choose a file" in str(error.render()))
            assert app.results == []
            await press(pilot, "escape")
            await wait_closed(pilot, DataPicker)
            await wait_for(pilot, lambda: app.results, what="the dialog's result")
            assert app.results == [None]

    run(go())


def test_reopened_with_the_engines_error(tmp_path: Path) -> None:
    choice = CsvChoice(tmp_path / "bad.csv", 0, True)

    async def go() -> None:
        app = Host(DataPicker(root=tmp_path, initial=choice, error="bad.csv line 3: 'x'"))
        async with app.run_test(size=(80, 24)) as pilot:
            dialog: Any = await wait_dialog(pilot, DataPicker)
            assert "line 3" in str(dialog.query_one("#dp-error", Static).render())
            assert dialog.query_one("#dp-label", Input).value == "0"
            await press(pilot, "enter")
            await wait_closed(pilot, DataPicker)
            await wait_for(pilot, lambda: app.results, what="the dialog's result")
            assert app.results == [choice]

    run(go())


# ---- reading with progress and a cancel -------------------------------------------------------
def big_csv(path: Path, rows: int) -> Path:
    with path.open("w") as f:
        f.write("a,b,c,label\n")
        for i in range(rows):
            f.write(f"{i % 97 * 0.5},{i % 13},{(i * 7) % 31 - 15},{'xy'[i % 2]}\n")
    return path


def test_enter_reads_with_progress_and_escape_cancels_the_read(tmp_path: Path) -> None:
    """A slow read shows how far it got and no time limit ends it; the first Escape cancels it
    (the reading thread sees the cancel, its late answer is dropped, the dialog stays), the
    second closes the dialog."""
    import threading

    from miniframe.tui.jobs import ReadWatch

    gate = threading.Event()
    seen_cancel = threading.Event()

    def load(choice: CsvChoice, watch: ReadWatch) -> str:
        watch.report(choice.path, 250, 1000)
        deadline = 60.0
        while not watch.cancelled and deadline > 0:
            gate.wait(0.01)
            deadline -= 0.01
        if watch.cancelled:
            seen_cancel.set()
        return "late"

    async def go() -> None:
        app = Host(DataPicker(root=tmp_path, initial=CsvChoice(tmp_path / "x.csv"), load=load))
        async with app.run_test(size=(80, 24)) as pilot:
            dialog: Any = await wait_dialog(pilot, DataPicker)
            await press(pilot, "enter")
            error = dialog.query_one("#dp-error", Static)
            await wait_for(pilot, lambda: "line 250 of 1,000" in str(error.render()))
            bar = dialog.query_one("#dp-progress")
            assert bar.display and bar.progress == 250 and bar.total == 1000
            assert dialog.reading is not None and app.screen is dialog
            await press(pilot, "escape")
            await wait_for(pilot, seen_cancel.is_set, what="the read to see its cancel")
            await wait_for(pilot, lambda: "cancelled" in str(error.render()))
            assert app.results == [] and not bar.display
            await press(pilot, "escape")
            await wait_closed(pilot, DataPicker)
            await wait_for(pilot, lambda: app.results, what="the dialog's result")
            assert app.results == [None]

    run(go())


def test_a_real_read_reports_lines_and_returns_what_load_returned(tmp_path: Path) -> None:
    from miniframe.engine import read_table
    from miniframe.tui.jobs import ReadWatch

    data = big_csv(tmp_path / "big.csv", 20000)
    progress: list[tuple[int, int]] = []

    def load(choice: CsvChoice, watch: ReadWatch) -> int:
        original = watch._on_progress
        watch._on_progress = lambda p, done, total: (progress.append((done, total)),
                                                     original(p, done, total))  # fmt: skip
        with watch.watching():
            return read_table(choice.path).n_rows

    async def go() -> None:
        app = Host(DataPicker(root=tmp_path, initial=CsvChoice(data), load=load))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_dialog(pilot, DataPicker)
            await press(pilot, "enter")
            await wait_closed(pilot, DataPicker)
            await wait_for(pilot, lambda: app.results, what="the dialog's result")
            assert app.results == [CsvChoice(data)]
            result = app.results[0]
            assert result is not None and result.loaded == 20000

    run(go())
    assert progress[-1] == (20001, 20001)  # the end is always reported
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_a_read_cancelled_in_the_engine_stops_at_once(tmp_path: Path) -> None:
    """The engine's read checks the cancel every few thousand rows: ReadCancelled, nothing
    cached, and the next read of the file starts over."""
    import pytest

    from miniframe.engine import ReadCancelled, read_table, watch_reading

    data = big_csv(tmp_path / "big.csv", 20000)
    seen: list[int] = []

    def progress(path: Path, done: int, total: int) -> None:
        seen.append(done)

    with pytest.raises(ReadCancelled), watch_reading(progress, lambda: len(seen) >= 2):
        read_table(data)
    assert len(seen) == 2 and seen[-1] < 20000
    assert read_table(data).n_rows == 20000  # outside the watch: no reports, no cancel
    assert len(seen) == 2
