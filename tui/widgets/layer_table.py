"""The focusable table of layers (row cursor) inside :class:`~.layer_stack.LayerStack`.

Its own module so that the first frame, which shows the rows as text, does not import
DataTable. The layer-editing keys are the stack's bindings (they apply while the table has
the focus).
"""

from __future__ import annotations

from textual.widgets import DataTable


class LayerTable(DataTable[object]):
    """The focusable table of layers (row cursor)."""
