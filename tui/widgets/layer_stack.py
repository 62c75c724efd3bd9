"""The layer stack: one row per layer with its shape and parameter count, and the total.

The app owns the list of layers; this widget only shows it (``show``) and keeps a cursor.
Its key bindings call app actions, so the same actions are reachable from the command
palette.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from miniframe.engine.spec import LayerSpec

from ..model import layer_rows


class LayerTable(DataTable):
    """The focusable table of layers (row cursor)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "app.layer_add", "Add", id="layer.add"),
        Binding("i", "app.layer_insert", "Ins", id="layer.insert"),
        Binding("d,delete", "app.layer_delete", "Del", id="layer.delete"),
        Binding("e", "app.layer_edit", "Edit", id="layer.edit"),
        Binding("K,shift+up", "app.layer_up", "Up", id="layer.up", key_display="K"),
        Binding("J,shift+down", "app.layer_down", "Down", id="layer.down", key_display="J"),
    ]


class LayerStack(Vertical):
    """Table of layers, the parameter total, and the stack's validation message."""

    def compose(self) -> ComposeResult:
        table = LayerTable(id="layer-table", cursor_type="row", zebra_stripes=False)
        table.show_header = False
        yield table
        yield Static("", id="layer-total")
        yield Static("", id="layer-error")

    def on_mount(self) -> None:
        table = self.query_one(LayerTable)
        table.add_column("#", key="n", width=2)
        table.add_column("layer", key="layer")
        table.add_column("params", key="params")

    @property
    def table(self) -> LayerTable:
        return self.query_one(LayerTable)

    @property
    def cursor(self) -> int:
        """Index of the highlighted layer (0 when empty)."""
        return max(0, self.table.cursor_row)

    def show(
        self, layers: Sequence[LayerSpec], cursor: int | None = None, error: str | None = None
    ) -> None:
        """Redraw the rows for ``layers``, put the cursor on ``cursor``, show ``error``."""
        table = self.table
        keep = self.cursor if cursor is None else cursor
        table.clear()
        rows = layer_rows(layers)
        for i, row in enumerate(rows):
            params = (
                Text(f"{row.params:,}", justify="right")
                if row.params
                else Text("·", justify="right", style="dim")
            )
            table.add_row(str(i + 1), row.label, params, key=str(i))
        if rows:
            table.move_cursor(row=min(max(keep, 0), len(rows) - 1), animate=False)
        total = sum(r.params for r in rows)
        self.query_one("#layer-total", Static).update(
            Text.assemble(("total ", "dim"), (f"{total:,}", "bold"), (" parameters", "dim"))
        )
        err = self.query_one("#layer-error", Static)
        err.update(Text(f"✗ {error}", style="bold red") if error else "")
        err.display = bool(error)
