"""Modal menu to add a layer (pick a kind, then its units / slope / p) or edit one."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from miniframe.engine import LAYERS, LayerSpec

from ..spec_form import (
    LAYER_MENU,
    PARAM_LABELS,
    kind_title,
    layer_param_text,
    make_layer,
    param_name,
    parse_layer_param,
)
from .dialog import Dialog

# The defaults offered and the menu entries come from the engine's registry.
DEFAULT_PARAM = {
    k.param.name: f"{k.param.default:g}"
    for k in LAYERS.values()
    if k.param and k.param.default is not None
}
MENU_HINT = {k.name: k.menu_label for k in LAYERS.values()}


class FreshInput(Input):
    """An input whose value, until the user moves in it, is replaced by the first key typed.

    Selecting the text on focus is not enough: a key that comes in the same terminal read as
    the one opening the dialog can reach the input before its selection is set, and was
    appended to the old value (``e`` then ``7`` gave ``257``). Here "fresh" is a state of the
    input itself, so the first printable key replaces the value however fast it comes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # Input's own keywords
        self.fresh = True

    def refill(self, text: str) -> None:
        """Show ``text``, fresh again (the next key replaces it)."""
        self.value = text
        self.fresh = True
        self.select_all()

    async def _on_key(self, event: events.Key) -> None:
        if self.fresh:
            if event.is_printable:
                self.select_all()
            self.fresh = event.key in ("tab", "shift+tab")
        await super()._on_key(event)

    async def _on_click(self, event: events.Click) -> None:
        self.fresh = False  # a click places the cursor: typing edits from there
        await super()._on_click(event)


class LayerDialog(Dialog[LayerSpec | None]):
    """Returns the new/edited LayerSpec, or None when cancelled (Escape)."""

    def __init__(self, title: str, layer: LayerSpec | None = None) -> None:
        super().__init__(title)
        self.editing = layer  # editing this one (kind fixed) when given
        self.kind = layer.kind if layer is not None else LAYER_MENU[0][0]

    def compose_body(self) -> ComposeResult:
        if self.editing is None:
            yield OptionList(
                *[Option(MENU_HINT.get(k, kind_title(k)), id=k) for k, _ in LAYER_MENU],
                id="layer-kinds",
            )
        yield Label("", id="param-label")
        yield FreshInput(id="param-input", compact=True)
        yield Static("", id="dialog-error", classes="dialog-error")

    def on_mount(self) -> None:
        if self.editing is not None:
            self._show_param(self.kind, layer_param_text(self.editing))
            field = self.query_one("#param-input", FreshInput)
            field.focus()
        else:
            self._show_param(self.kind, None)
            self.query_one(OptionList).focus()

    def _show_param(self, kind: str, text: str | None) -> None:
        name = param_name(kind)
        label = self.query_one("#param-label", Label)
        field = self.query_one("#param-input", FreshInput)
        label.display = field.display = name is not None
        if name is not None:
            label.update(f"{kind_title(kind)} {PARAM_LABELS[name]}:")
            field.refill(text if text is not None else DEFAULT_PARAM[name])
        self.query_one("#dialog-error", Static).update("")

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.closing:
            return
        self.kind = event.option.id or self.kind
        self._show_param(self.kind, None)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if self.closing:
            return
        self.kind = event.option.id or self.kind
        if param_name(self.kind) is None:
            self.close(make_layer(self.kind))
        else:
            self.query_one("#param-input", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.closing:
            return
        try:
            value = parse_layer_param(self.kind, event.value)
        except ValueError as e:
            self.query_one("#dialog-error", Static).update(f"✗ {e}")
            return
        self.close(make_layer(self.kind, value))
