"""A sweep's grid: ``--grid lr=1e-4,1e-3 --grid batch_size=5,32`` → the specs of its points.

Grid keys are the spec's number settings (:data:`~miniframe.engine.SETTINGS`), by name (``lr``,
``batch_size``, ``momentum``, …) or path (``solver.lr``); values are parsed and checked as the
CLI's flags are. The seed is not a grid key (the seeds are the sweep's other axis, ``--seeds``),
nor are Adam's betas (two numbers). Everything is checked before anything trains: a bad key, a
bad value, or a point whose spec does not validate is a :class:`GridError` naming it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from miniframe.engine import LIMITS, SETTINGS, RunSpec, SpecError, ignored_by, plural

Number = int | float

#: Settings a grid cannot vary, and why.
NOT_IN_GRID = {
    "seed": "the seeds are the sweep's other axis: use --seeds",
    "solver.betas": "Adam's betas are two numbers; set them in a config file",
}


class GridError(ValueError):
    """A grid that cannot be swept; the message names the key, value or point."""


def _grid_name(path: str) -> str:
    """What a grid calls the setting at ``path``: its short name (``lr``), or its path where
    the name is another setting's too (``data.seed``: ``seed`` is the run's seed)."""
    name = SETTINGS[path].name
    shared = sum(1 for p in SETTINGS if SETTINGS[p].name == name) > 1
    return path if shared else name


def grid_keys() -> dict[str, str]:
    """Every name a grid may use → the setting's path in a spec (``lr`` and ``solver.lr`` →
    ``solver.lr``; a short name two settings share is no key, only their paths are)."""
    keys: dict[str, str] = {}
    for path in SETTINGS:
        if path not in NOT_IN_GRID:
            keys[_grid_name(path)] = path
            keys[path] = path
    return keys


def _key(text: str) -> str:
    """The setting's path for a grid key; GridError lists the choices."""
    name = text.strip().replace("-", "_")
    keys = grid_keys()
    if name in keys:
        return keys[name]
    for path, why in NOT_IN_GRID.items():
        if name in (path, SETTINGS[path].name):
            raise GridError(f"--grid {text}: {why}")
    choices = ", ".join(_grid_name(p) for p in SETTINGS if p not in NOT_IN_GRID)
    raise GridError(f"--grid {text}=…: unknown setting {text!r}; choose from {choices}")


def parse_grid(items: Sequence[str]) -> dict[str, list[Number]]:
    """``["lr=1e-4,1e-3", "batch_size=5,32"]`` → ``{"solver.lr": [1e-4, 1e-3], "batch_size":
    [5, 32]}``: each value checked by the setting's own parser (its type and bounds)."""
    grid: dict[str, list[Number]] = {}
    for item in items:
        text, eq, values = item.partition("=")
        if not eq or not text.strip():
            raise GridError(f"--grid {item!r}: expected SETTING=VALUE,VALUE,… (e.g. lr=1e-4,1e-3)")
        path = _key(text)
        if path in grid:
            raise GridError(f"--grid {text}: given twice")
        texts = values.split(",")
        if len(texts) > LIMITS.max_sweep_runs:  # alone past the limit: not worth parsing
            check_size(len(texts), 1)
        parsed: dict[Number, None] = {}
        for value in texts:
            try:
                number = SETTINGS[path].parse(value)
            except ValueError as e:
                raise GridError(f"--grid {text.strip()}: {e}") from None
            if number in parsed:
                raise GridError(f"--grid {text.strip()}: {value.strip()} is listed twice")
            parsed[number] = None
        grid[path] = list(parsed)
    return grid


def check_grid(base: RunSpec, grid: Mapping[str, Sequence[Number]], seeds: int) -> None:
    """What can be said of a grid before any of its specs is built: its size (points × seeds,
    at most LIMITS.max_sweep_runs) and a key the base spec's data ignore (every value of it
    would train the same thing)."""
    check_size(math.prod(len(values) for values in grid.values()), seeds)
    for path in grid:
        why = ignored_by(base.data.name, path)
        if why:
            raise GridError(f"--grid {_grid_name(path)}=…: {why}")


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: what it sets (``{"lr": 0.001}``, by grid name) and its spec."""

    label: dict[str, Any]
    spec: RunSpec
    title: str = field(default="")

    def __post_init__(self) -> None:
        if not self.title:
            text = " ".join(f"{k}={_show(v)}" for k, v in self.label.items())
            object.__setattr__(self, "title", text or self.spec.name)


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def grid_points(base: RunSpec, grid: Mapping[str, Sequence[Number]]) -> list[SweepPoint]:
    """The grid's points (the product of its values, first key slowest), each spec checked."""
    paths = list(grid)
    points = []
    for values in itertools.product(*(grid[p] for p in paths)):
        label = {_grid_name(p): v for p, v in zip(paths, values, strict=True)}
        spec = base
        try:
            for path, value in zip(paths, values, strict=True):
                spec = spec.with_setting(path, value)
            spec.validate()
        except SpecError as e:
            raise GridError(f"grid point {SweepPoint(label, spec).title}: {e}") from None
        points.append(SweepPoint(label, spec))
    return points


def sweep_size(points: int, seeds: int) -> str:
    """``2 grid points × 1 seed = 2 runs``: a sweep's size, as the CLI and its limit say it."""
    return (
        f"{plural(points, 'grid point')} × {plural(seeds, 'seed')} = "
        f"{plural(points * seeds, 'run')}"
    )


def check_size(points: int, seeds: int) -> None:
    """At most LIMITS.max_sweep_runs runs (points × seeds) in one sweep."""
    if points * seeds > LIMITS.max_sweep_runs:
        raise GridError(f"{sweep_size(points, seeds)}; the limit is {LIMITS.max_sweep_runs}")
