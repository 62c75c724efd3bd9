"""Reading runs side by side: their settings as flat rows, the ones that differ, a one-line
network summary, and a chart of one metric over the epochs of several runs.

Everything here works on the specs as stored (dicts), so a run recorded by another version of
miniframe still shows; nothing imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from miniframe.engine import (
    CLASSES_UNITS,
    LAYERS,
    N_INPUTS,
    RunSpec,
    infer_widths,
    reads_file,
)

#: Spec fields that name or describe a run rather than set it.
NOT_SETTINGS = ("name", "description")


def _layer_text(layer: Mapping[str, Any]) -> str:
    """``linear(25)``, ``leaky_relu(0.01)``, ``relu``: a layer's kind and its parameters."""
    kind = str(layer.get("type", layer.get("kind", "?")))
    params = [f"{v:g}" if isinstance(v, float) else str(v)
              for k, v in layer.items() if k not in ("type", "kind")]  # fmt: skip
    return f"{kind}({', '.join(params)})" if params else kind


def settings(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A stored spec as flat settings: ``loss``, ``solver.lr``, ``data.noise``, …, and
    ``layers`` as one line (``linear(25) relu … linear(2)``); name and description left out."""
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key in NOT_SETTINGS:
            continue
        if key == "layers" and isinstance(value, list):
            out["layers"] = " ".join(_layer_text(v) for v in value if isinstance(v, Mapping))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                out[f"{key}.{k}"] = v
        else:
            out[key] = value
    return out


def differing(specs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The settings whose values are not the same in every spec (a setting some spec lacks
    counts as differing), in the order they first appear."""
    flat = [settings(s) for s in specs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1]


def differences(base: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What ``other`` sets differently from ``base``: setting → (base value, other value)."""
    a, b = settings(base), settings(other)
    return {k: (a.get(k), b.get(k)) for k in differing([base, other])}


def _readable(spec: Mapping[str, Any]) -> RunSpec | None:
    """A stored spec as this version reads it (its data read too), or None when it cannot be
    (a CSV file that is gone or changed, a spec of another version)."""
    try:
        return RunSpec.from_dict(dict(spec))
    except (ValueError, TypeError, KeyError, OSError):  # SpecError and CSVError are ValueErrors
        return None


def network_summary(spec: Mapping[str, Any]) -> str:
    """The widths and activations in one short line: ``2-25-25-25-2 ReLU``; ``4-16-16-3
    LeakyReLU+Tanh``. Widths are the engine's (:func:`~miniframe.engine.infer_widths`: the
    data's inputs, ``units = "classes"`` the data's classes). A spec whose data cannot be read
    any more shows what it states: the first Linear's ``in_features`` (else ``?`` for a file,
    2 for generated data) and ``k`` for ``"classes"``."""
    run = _readable(spec)
    acts: dict[str, None] = {}
    widths: list[str] = []
    if run is not None:
        shape = run.shape()
        inferred = infer_widths(run.layers, shape.n_inputs, shape.n_classes, strict=False)
        for layer, w in zip(run.layers, inferred, strict=True):
            kind = LAYERS[layer.kind]
            if kind.has_weights:
                if not widths:
                    widths.append(str(w.n_in))
                widths.append(str(w.n_out))
            else:
                acts.setdefault(kind.title)
    else:
        data = spec.get("data")
        from_file = isinstance(data, Mapping) and reads_file(data.get("name"))
        n_inputs = "?" if from_file else str(N_INPUTS)
        for raw in (v for v in spec.get("layers", []) if isinstance(v, Mapping)):
            found = LAYERS.get(str(raw.get("type", raw.get("kind"))))
            if found is None:
                continue
            if found.has_weights:
                if not widths:
                    widths.append(str(raw.get("in_features") or n_inputs))
                units = raw.get("units", "?")
                widths.append("k" if units == CLASSES_UNITS else str(units))
            else:
                acts.setdefault(found.title)
    text = "-".join(widths) or "(no Linear)"
    return f"{text} {'+'.join(acts)}" if acts else text


def data_summary(spec: Mapping[str, Any]) -> str:
    """The data in a word: a CSV file's name, else the generated dataset's (``spirals×3`` with
    more than two classes)."""
    data = spec.get("data")
    if not isinstance(data, Mapping):
        return "?"
    name = str(data.get("name", "?"))
    if reads_file(name):
        return PurePath(str(data.get("path") or "?")).name
    classes = data.get("classes", 2)
    return f"{name}×{classes}" if isinstance(classes, int) and classes != 2 else name


def show_value(value: Any) -> str:
    """A setting as a table cell: ``1e-04`` → ``0.0001``, lists joined, None as ``–``."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    return str(value)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Markers that tell the lines apart without colour.
_MARKERS = ("•", "+", "x", "o", "*", "#", "@", "%", "&", "$")


def chart(
    curves: Mapping[str, Sequence[tuple[int, float | None]]],
    metric: str,
    width: int = 80,
    height: int = 20,
    colour: bool = False,
) -> str:
    """A plotext line chart of ``metric`` against the epoch, one line per curve (its label
    the key), as text. Without ``colour`` the lines differ by marker and the text holds no
    escape codes. Epochs without a value (None) are left out of their line."""
    import plotext as plt  # type: ignore[import-untyped]  # plotext ships no type hints

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("pro" if colour else "clear")
    for i, (label, points) in enumerate(curves.items()):
        xs = [e for e, v in points if v is not None]
        ys = [v for _, v in points if v is not None]
        if not xs:
            continue
        marker = "hd" if colour else _MARKERS[i % len(_MARKERS)]
        plt.plot(xs, ys, label=label, marker=marker)
    plt.title(metric)
    plt.xlabel("epoch")
    text = str(plt.build())
    plt.clear_figure()
    return text if colour else _ANSI.sub("", text)
