"""The focusable table of layers (row cursor) inside :class:`~.layer_stack.LayerStack`.

Its own module so that the first frame, which shows the rows as text, does not import
DataTable. Its key bindings call app actions, so they are in the command palette too.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class LayerTable(DataTable[object]):
    """The focusable table of layers (row cursor)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "app.layer_add", "Add", id="layer.add"),
        Binding("i", "app.layer_insert", "Ins", id="layer.insert"),
        Binding("d,delete", "app.layer_delete", "Del", id="layer.delete"),
        Binding("e", "app.layer_edit", "Edit", id="layer.edit"),
        Binding("K,shift+up", "app.layer_up", "Up", id="layer.up", key_display="K"),
        Binding("J,shift+down", "app.layer_down", "Down", id="layer.down", key_display="J"),
    ]
