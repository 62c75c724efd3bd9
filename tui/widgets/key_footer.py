"""A footer that wraps its key bindings onto two rows on narrow terminals.

Textual's Footer is one row: at 80 columns most of the trainer's keys would be cut off. This
subclass lays the same keys out in a grid (global trainer keys first, then the focused
widget's), one row when the screen is wide and two when it is narrow.

The key widgets Footer composes are recognised by their public ``action`` attribute (the
binding's action), not by importing their class from Textual's private ``_footer`` module.
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Footer

WIDE = 150


class KeyFooter(Footer):
    """Footer with every binding visible at 80 columns (two rows)."""

    class KeysShown(Message):
        """The footer composed its keys for the first time (the app's screen is complete)."""

    _keys_shown = False

    DEFAULT_CSS = """
    KeyFooter {
        layout: grid;
        grid-columns: auto;
        grid-gutter: 0 1;
        height: 2;
    }
    KeyFooter FooterKey { margin: 0; }
    KeyFooter.-compact FooterKey { margin: 0; }
    KeyFooter FooterKey.-command-palette { dock: none; border-left: none; padding: 0; }
    KeyFooter.-one-row { height: 1; }
    """

    def compose(self) -> ComposeResult:
        items: list[Widget] = list(super().compose())
        keys = [w for w in items if isinstance(getattr(w, "action", None), str)]
        rest = [w for w in items if w not in keys]
        # Global trainer keys first, then the focused widget's (layer editing) keys.
        keys.sort(
            key=lambda w: (
                "-command-palette" in w.classes,
                _action(w).startswith("layer_"),
                _action(w) == "quit",
            )
        )
        one_row = self.app.size.width >= WIDE
        self.set_class(one_row, "-one-row")
        if keys and not self._keys_shown:
            self._keys_shown = True
            self.call_after_refresh(self.post_message, self.KeysShown())
        self.styles.grid_size_columns = max(1, len(keys) if one_row else math.ceil(len(keys) / 2))
        yield from keys
        yield from rest

    async def on_resize(self) -> None:
        one_row = self.app.size.width >= WIDE
        if one_row != self.has_class("-one-row"):
            await self.recompose()


def _action(key: Widget) -> str:
    """The action of a footer key widget (its binding's)."""
    return str(getattr(key, "action", ""))
