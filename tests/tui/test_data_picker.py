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
            assert app.results == [choice]

    run(go())
