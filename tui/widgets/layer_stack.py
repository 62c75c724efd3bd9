"""The layer stack: one row per layer with its shape and parameter count, and the total.

This widget owns the list of layers and edits it: add (a), insert (i), delete (d), edit (e,
or enter on a row), move up / down (K / J). Each edit posts :class:`LayerStack.Changed` with
the new list; the app turns it into a spec and tells the stack why that spec's stack is
invalid (:meth:`LayerStack.show_error`). The app calls :meth:`LayerStack.load` to show
another spec's layers (no message), and runs the layer actions of the command palette on this
widget (``app.run_action("layer_add", stack)``).

For a fast first frame the stack starts as plain text laid out like the table's rows (a
DataTable costs ~0.1 s to build and draw); the app calls :meth:`LayerStack.mount_table`
just after the first frame, and from then on the rows live in the focusable table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Static

from miniframe.engine import LayerSpec

from ..errors import guarded
from ..spec_form import LayerRow, layer_rows, param_name

if TYPE_CHECKING:
    from textual.widgets import DataTable

    from .layer_table import LayerTable


class LayerStack(Vertical):
    """Table of layers, the parameter total, and the stack's validation message."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "layer_add", "Add", id="layer.add"),
        Binding("i", "layer_insert", "Ins", id="layer.insert"),
        Binding("d,delete", "layer_delete", "Del", id="layer.delete"),
        Binding("e", "layer_edit", "Edit", id="layer.edit"),
        Binding("K,shift+up", "layer_up", "Up", id="layer.up", key_display="K"),
        Binding("J,shift+down", "layer_down", "Down", id="layer.down", key_display="J"),
    ]

    class Changed(Message):
        """The user edited the stack: ``layers`` is the new list (a copy). A plain class,
        not a dataclass: this module is imported before the first frame."""

        def __init__(self, stack: LayerStack, layers: list[LayerSpec]) -> None:
            super().__init__()
            self.stack = stack
            self.layers = layers

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._layers: list[LayerSpec] = []
        self._cursor = 0
        self._error: str | None = None
        self._shape = (2, 2)  # the data's (inputs, classes): the first and last widths
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
    def layer_list(self) -> list[LayerSpec]:
        """The layers shown (a copy). (Not ``layers``: that is a Widget's CSS layers.)"""
        return list(self._layers)

    def load(self, layers: Sequence[LayerSpec], error: str | None = None) -> None:
        """Show ``layers`` (another spec's), cursor on the first; posts no message."""
        self.show(layers, 0, error)

    def set_shape(self, n_inputs: int, n_classes: int) -> None:
        """The data's inputs and classes (the first Linear's input width, ``units =
        "classes"``); redraws when they change."""
        if (n_inputs, n_classes) != self._shape:
            self._shape = (n_inputs, n_classes)
            self.show(self._layers, None, self._error)

    def show_error(self, error: str | None) -> None:
        """Show why the stack is invalid (None: it is fine)."""
        if error != self._error:
            self.show(self._layers, None, error)

    # ---- editing ------------------------------------------------------------------------
    def _edited(self, layers: list[LayerSpec], cursor: int) -> None:
        self.show(layers, cursor, self._error)
        self.post_message(self.Changed(self, list(layers)))

    def _ask(self, title: str, layer: LayerSpec | None, done: Any) -> None:
        from .layer_dialog import LayerDialog

        def answered(new: LayerSpec | None) -> None:
            if new is not None:
                done(new)
            self.focus_table()

        self.app.push_screen(LayerDialog(title, layer), guarded(self.app, title, answered))

    def action_layer_add(self) -> None:
        """Add a layer after the cursor (menu of kinds)."""
        at = self.cursor + 1 if self._layers else 0
        self._ask("Add layer", None, lambda layer: self._insert(at, layer))

    def action_layer_insert(self) -> None:
        """Insert a layer at the cursor (before the highlighted one)."""
        at = self.cursor if self._layers else 0
        self._ask("Insert layer", None, lambda layer: self._insert(at, layer))

    def _insert(self, at: int, layer: LayerSpec) -> None:
        layers = list(self._layers)
        layers.insert(min(at, len(layers)), layer)
        self._edited(layers, at)

    def action_layer_delete(self) -> None:
        """Delete the highlighted layer."""
        if not self._layers:
            self.notify("The stack is empty.", severity="warning")
            return
        at = self.cursor
        layers = list(self._layers)
        del layers[at]
        self._edited(layers, min(at, max(0, len(layers) - 1)))

    def action_layer_edit(self) -> None:
        """Edit the highlighted layer's units / slope / p."""
        if not self._layers:
            self.notify("The stack is empty: add a layer with 'a'.", severity="warning")
            return
        at = self.cursor
        layer = self._layers[at]
        if param_name(layer.kind) is None:
            self.notify(f"{layer.label()} has nothing to edit.", severity="warning")
            return

        def done(new: LayerSpec) -> None:
            if at < len(self._layers):
                layers = list(self._layers)
                layers[at] = new
                self._edited(layers, at)

        self._ask(f"Edit layer {at + 1}", layer, done)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row edits that layer."""
        event.stop()
        self.action_layer_edit()

    def _move(self, delta: int) -> None:
        at = self.cursor
        to = at + delta
        if not self._layers or not 0 <= to < len(self._layers):
            return
        layers = list(self._layers)
        layers[at], layers[to] = layers[to], layers[at]
        self._edited(layers, to)

    def action_layer_up(self) -> None:
        """Move the highlighted layer up."""
        self._move(-1)

    def action_layer_down(self) -> None:
        """Move the highlighted layer down."""
        self._move(+1)

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
        rows = layer_rows(layers, *self._shape)
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
