"""Command-palette provider (ctrl+p): every trainer action under a name a user would type."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (palette title, help text, app action). Titles hold the words people search for.
COMMANDS: list[tuple[str, str, str]] = [
    ("Train: start training", "Train the network from its current weights (t)", "start"),
    ("Train: stop training", "Stop the running training within a batch (t)", "stop"),
    ("Train: pause / resume training", "Hold training between epochs, or go on (p)", "pause"),
    ("Train: step one epoch", "Train exactly one more epoch (n)", "step"),
    ("Train: reset weights", "Re-initialise the weights and solver state (r)", "reset"),
    ("Layers: add layer after cursor", "Pick a layer kind and its size (a)", "layer_add"),
    ("Layers: insert layer at cursor", "Insert before the highlighted layer (i)", "layer_insert"),
    ("Layers: delete layer", "Remove the highlighted layer (d)", "layer_delete"),
    ("Layers: edit layer units / slope / p", "Change the highlighted layer (e)", "layer_edit"),
    ("Layers: move layer up", "Swap with the layer above (K)", "layer_up"),
    ("Layers: move layer down", "Swap with the layer below (J)", "layer_down"),
    ("Presets: load preset", "Replace the network and settings by a preset (o)", "presets"),
    ("Presets: save as preset", "Save network and settings as your own preset (s)", "save_preset"),
    ("Runs: past runs (history)", "Compare past runs' curves, load one's spec (R)", "runs"),
    ("Seeds: map shows the next seed", "With seeds > 1, show another seed's map (E)", "next_seed"),
    ("Save: model checkpoint", "Save the trained model (c)", "save_checkpoint"),
    ("Save: export metrics CSV", "Write the per-epoch metrics as CSV (x)", "export_csv"),
    (
        "View: next view",
        "Charts, decision map, neurons, layer health, confusion (v)",
        "toggle_view",
    ),
    ("View: charts", "The live loss and accuracy charts (1)", "view('charts')"),
    (
        "View: decision map / boundary",
        "The class map with the data and a legend (2)",
        "view('map')",
    ),
    ("View: neurons", "Each unit's activation over the input plane (3)", "view('neurons')"),
    (
        "View: layer health",
        "Weight and gradient norms, update ratio, dead ReLUs (4)",
        "view('health')",
    ),
    (
        "View: confusion matrix",
        "Test-set counts by true and predicted class (5)",
        "view('confusion')",
    ),
    ("Data: open CSV data", "Train on your own CSV file (D)", "open_data"),
    ("Data: new data", "Draw the data again with the next data seed (N)", "new_data"),
    ("Focus: layer stack", "Move the keyboard focus to the layers (l)", "focus_layers"),
    ("Focus: settings", "Move the keyboard focus to the settings (g)", "focus_settings"),
]


class TrainerCommands(Provider):
    """Offers the trainer's actions in the command palette."""

    async def discover(self) -> Hits:
        for title, help_text, action in COMMANDS:
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                command = partial(self._run, action)
                yield Hit(score, matcher.highlight(title), command, help=help_text)

    async def _run(self, action: str) -> None:
        if action.startswith("layer_"):  # the layer stack's own actions
            from .widgets.layer_stack import LayerStack

            await self.app.run_action(action, self.app.query_one(LayerStack))
        else:
            await self.app.run_action(action)
