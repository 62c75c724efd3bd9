"""The trainer's views beside the charts: the decision map (with its class legend), the
neurons view, the layer-health panel and the confusion matrix; what each needs computed.

One table (:data:`VIEWS`) names each view, its key and the panel that shows it. The app keeps
which view is chosen; on a narrow screen that view fills the right-hand side (``charts``: the
live charts), on a wide one the charts stay and the chosen view (the map for ``charts``)
sits beside them.

The map, the neurons and the confusion matrix need forward passes: :func:`compute_views`
runs in a worker thread under the session's lock (from the training loop at most every
two seconds, :data:`~.session.BOUNDARY_EVERY_S`, and within 1 % of the time,
:func:`~.session.views_gap`; or from the app's views worker when the user
asks for something new) and posts :class:`ViewsReady` with plain data. Before any model,
:func:`compute_preview` previews the data (:class:`PreviewReady`). The layer health is no
computation of the app's: the engine records it in every epoch's summary
(``Run(spec, layer_stats=True)``) and the app feeds the panel from its records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from miniframe.engine.spec import RunSpec
    from miniframe.engine.train import Run

    from .widgets.boundary import MapData, PreviewData


@dataclass(frozen=True)
class View:
    """A view: its ``name`` (the app's action ``view_<name>``), ``title`` (the footer's and
    the palette's word), ``key`` and the id of the panel showing it (None: the charts)."""

    name: str
    title: str
    key: str
    panel: str | None


VIEWS: tuple[View, ...] = (
    View("charts", "Charts", "1", None),
    View("map", "Decision map", "2", "map-pane"),
    View("neurons", "Neurons", "3", "neurons"),
    View("health", "Layer health", "4", "health"),
    View("confusion", "Confusion matrix", "5", "confusion"),
)
VIEW_NAMES: tuple[str, ...] = tuple(v.name for v in VIEWS)
#: The views whose data a worker computes (forward passes); the map is always kept current.
COMPUTED = frozenset({"map", "neurons", "confusion"})


def next_view(name: str) -> str:
    """The view after ``name`` in :data:`VIEWS` (the ``v`` key cycles through them)."""
    i = VIEW_NAMES.index(name) if name in VIEW_NAMES else 0
    return VIEW_NAMES[(i + 1) % len(VIEW_NAMES)]


def insight_panel(name: str) -> str:
    """The panel id beside the charts for view ``name`` (the map for ``charts``)."""
    for view in VIEWS:
        if view.name == name and view.panel is not None:
            return view.panel
    return "map-pane"


def wanted(name: str) -> frozenset[str]:
    """What a worker computes while view ``name`` is chosen: the map, and that view's data."""
    return frozenset({"map"} | ({name} & COMPUTED))


# ---- what the workers post ---------------------------------------------------------------------
@dataclass(frozen=True)
class NeuronData:
    """The neurons view's data: the layers to pick from, the layer shown and its units' grids."""

    choices: Sequence[tuple[int, str]]
    layer: int
    grids: Sequence[Sequence[Sequence[float]]]
    epoch: int


@dataclass(frozen=True)
class ConfusionData:
    """The test set's confusion counts (true by row, predicted by column)."""

    counts: Sequence[Sequence[int]]
    class_names: tuple[str, ...]
    epoch: int


class ViewsReady(Message):
    """Fresh data for the views of a model (each None when not computed this time)."""

    def __init__(
        self,
        map_data: MapData | None = None,
        neurons: NeuronData | None = None,
        confusion: ConfusionData | None = None,
    ) -> None:
        super().__init__()
        self.map_data = map_data
        self.neurons = neurons
        self.confusion = confusion


class PreviewReady(Message):
    """The data before any model (``generation``: the app's map generation it was asked at;
    ``error``: why the data could not be drawn or read)."""

    def __init__(
        self, preview: PreviewData | None, generation: int, error: str | None = None
    ) -> None:
        super().__init__()
        self.preview = preview
        self.generation = generation
        self.error = error


# ---- worker side (any thread but the UI's) ------------------------------------------------------
def valid_features(features: tuple[int, int], n_inputs: int) -> tuple[int, int]:
    """``features`` if both are inputs of the data, else the first two."""
    i, j = features
    if i == j or max(i, j) >= n_inputs or min(i, j) < 0:
        return (0, 1)
    return features


def compute_views(
    run: Run, want: frozenset[str], features: tuple[int, int], layer: int | None
) -> ViewsReady:
    """The data of the views in ``want`` for ``run`` now (hold the session's lock)."""
    from .replica_session import ReplicaRun
    from .widgets.boundary import map_from_run
    from .widgets.neurons import default_layer, layer_choices, neuron_grids_from_run

    if isinstance(run, ReplicaRun):  # K seeds: the views show the chosen one
        run = run.shown_run()
    features = valid_features(features, run.shape.n_inputs)
    map_data = map_from_run(run, features) if "map" in want else None
    neurons = None
    if "neurons" in want:
        modules = list(run.model)
        choices = layer_choices(modules, run.shape.n_inputs)
        positions = {pos for pos, _ in choices}
        chosen = layer if layer in positions else default_layer(modules)
        grids = neuron_grids_from_run(run, chosen, features) if choices else []
        neurons = NeuronData(choices, chosen, grids, run.epoch)
    confusion = None
    if "confusion" in want:
        counts: Any = run.confusion_matrix().tolist()
        confusion = ConfusionData(counts, tuple(run.shape.class_names), run.epoch)
    return ViewsReady(map_data, neurons, confusion)


def compute_preview(spec: RunSpec, features: tuple[int, int]) -> PreviewData:
    """The training points of ``spec``'s data, drawn or read (no model)."""
    from miniframe.engine.analysis import preview_data

    from .widgets.boundary import preview_from

    preview = preview_data(spec)
    return preview_from(preview, valid_features(features, preview.shape.n_inputs))
