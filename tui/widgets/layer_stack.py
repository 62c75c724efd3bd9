"""The layer stack: one row per layer with its shape and parameter count, and the total.

The app owns the list of layers; this widget only shows it (``show``) and keeps a cursor.
Its key bindings call app actions, so the same actions are reachable from the command
palette.

For a fast first frame the stack starts as plain text laid out like the table's rows (a
DataTable costs ~0.1 s to build and draw); the app calls :meth:`LayerStack.mount_table`
just after the first frame, and from then on the rows live in the focusable table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Static

from miniframe.engine.spec import LayerSpec

from ..model import LayerRow, layer_rows

if TYPE_CHECKING:
    from .layer_table import LayerTable


class LayerStack(Vertical):
    """Table of layers, the parameter total, and the stack's validation message."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._layers: list[LayerSpec] = []
        self._cursor = 0
        self._error: str | None = None
        self._table: LayerTable | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="layer-preview")  # rows, total and error, as text

    async def mount_table(self) -> None:
        """Replace the text preview by the focusable table (after the first frame)."""
        if self._table is not None:
            return
        from .layer_table import LayerTable

        table = LayerTable(id="layer-table", cursor_type="row", zebra_stripes=False)
        table.show_header = False
        await self.query_one("#layer-preview").remove()
        await self.mount(table, Static("", id="layer-total"), Static("", id="layer-error"))
        table.add_column("#", key="n", width=2)
        table.add_column("layer", key="layer")
        table.add_column("params", key="params")
        self._table = table
        self.show(self._layers, self._cursor, self._error)

    @property
    def table(self) -> LayerTable:
        """The table of layers (NoMatches before :meth:`mount_table`)."""
        if self._table is None:
            raise NoMatches("the layer table is not mounted yet")
        return self._table

    @property
    def has_table(self) -> bool:
        return self._table is not None

    @property
    def cursor(self) -> int:
        """Index of the highlighted layer (0 when empty)."""
        if self._table is None:
            return self._cursor
        return max(0, self._table.cursor_row)

    def focus_table(self) -> None:
        """Give the table the keyboard focus (once it is mounted)."""
        if self._table is not None:
            self._table.focus()

    def show(
        self, layers: Sequence[LayerSpec], cursor: int | None = None, error: str | None = None
    ) -> None:
        """Redraw the rows for ``layers``, put the cursor on ``cursor``, show ``error``."""
        keep = self.cursor if cursor is None else cursor
        rows = layer_rows(layers)
        self._layers, self._error = list(layers), error
        self._cursor = min(max(keep, 0), max(0, len(rows) - 1))
        if self._table is None:
            self.query_one("#layer-preview", Static).update(_preview(rows, error))
            return
        table = self._table
        table.clear()
        for i, row in enumerate(rows):
            params = (
                Text(f"{row.params:,}", justify="right")
                if row.params
                else Text("·", justify="right", style="dim")
            )
            table.add_row(str(i + 1), row.label, params, key=str(i))
        if rows:
            table.move_cursor(row=self._cursor, animate=False)
        self.query_one("#layer-total", Static).update(_total(rows))
        err = self.query_one("#layer-error", Static)
        err.update(_error(error))
        err.display = bool(error)


def _total(rows: Sequence[LayerRow]) -> Text:
    total = sum(r.params for r in rows)
    return Text.assemble(("total ", "dim"), (f"{total:,}", "bold"), (" parameters", "dim"))


def _error(error: str | None) -> Text:
    return Text(f"✗ {error}", style="bold red") if error else Text("")


def _preview(rows: Sequence[LayerRow], error: str | None) -> Text:
    """The rows as the table lays them out (cell padding 1, params right-aligned), then
    the total and the error, as the stack shows them."""
    # the table sizes a column to its widest cell or its (hidden) header label
    label_w = max([len("layer"), *(len(r.label) for r in rows)])
    params = [f"{r.params:,}" if r.params else "·" for r in rows]
    params_w = max([len("params"), *(len(p) for p in params)])
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (row, count) in enumerate(zip(rows, params, strict=True)):
        if i:
            text.append("\n")
        text.append(f" {i + 1:<2}  {row.label:<{label_w}}  ")
        text.append(f"{count:>{params_w}} ", style="" if row.params else "dim")
    text.append("\n")
    text.append_text(_total(rows))
    if error:
        text.append("\n")
        text.append_text(_error(error))
    return text
