"""The registry is the one table: every consumer (the engine's classes, spec validation, the
builders, the CLI's choices and flags, the trainer's menus and fields, the benchmark's torch
mirror) agrees with it."""

from __future__ import annotations

import argparse
import dataclasses
import inspect

import pytest
import torch

from miniframe.engine import data as engine_data
from miniframe.engine import layers as engine_layers
from miniframe.engine import losses as engine_losses
from miniframe.engine import optim as engine_optim
from miniframe.engine.build import build_model
from miniframe.engine.module import Module
from miniframe.engine.registry import (
    DATASETS,
    GENERATED_DATASETS,
    INITS,
    LAYER_PARAMS,
    LAYERS,
    LIMITS,
    LOSSES,
    OPTIONS,
    SETTINGS,
    SOLVERS,
    layer_kind,
)
from miniframe.engine.spec import LayerSpec, RunSpec, SolverSpec, SpecError


def all_kinds_spec(stochastic: bool = True) -> RunSpec:
    layers = [
        LayerSpec(k.name, 3) if k.has_weights else LayerSpec(k.name)
        for k in LAYERS.values()
        if stochastic or not k.stochastic
    ]
    return RunSpec(layers=[*layers, LayerSpec("linear", 2)], batch_size=5)


# ---- the engine implements what the registry names --------------------------------------------
@pytest.mark.parametrize("kind", LAYERS.values(), ids=list(LAYERS))
def test_every_layer_kind_has_an_engine_and_a_torch_class(kind):
    cls = getattr(engine_layers, kind.engine_class)
    assert issubclass(cls, Module)
    params = set(inspect.signature(cls).parameters)
    assert {p.name for p in kind.params if not kind.has_weights} <= params
    torch_cls = getattr(torch.nn, kind.torch_class)
    assert issubclass(torch_cls, torch.nn.Module)
    torch_params = set(inspect.signature(torch_cls).parameters)
    assert {p.name for p in kind.params if not kind.has_weights} <= torch_params
    assert {name for name, _ in kind.torch_kwargs} <= torch_params


def test_builders_build_what_the_registry_names():
    model = build_model(all_kinds_spec())
    names = [type(m).__name__ for m in model]
    assert names == [LAYERS[layer.kind].engine_class for layer in all_kinds_spec().layers]


def test_losses_solvers_inits_datasets_exist_in_the_engine_and_torch():
    for loss in LOSSES.values():
        assert getattr(engine_losses, loss.engine_class) and getattr(torch.nn, loss.torch_class)
    for solver in SOLVERS.values():
        for cls in (getattr(engine_optim, solver.engine_class),
                    getattr(torch.optim, solver.torch_class)):  # fmt: skip
            assert set(solver.settings) <= set(inspect.signature(cls).parameters), cls
        assert set(solver.settings) <= {f.name for f in dataclasses.fields(SolverSpec)}
    for dataset in DATASETS.values():  # a dataset read from a file has no generator
        assert dataset.from_file or callable(getattr(engine_data, dataset.builder))
    for init in INITS:  # every registered init draws weights
        assert engine_layers.Linear(2, 3, init=init).weight.isfinite().all()


def test_layer_spec_fields_are_the_layer_parameters():
    fields = {f.name for f in dataclasses.fields(LayerSpec)} - {"kind"}
    assert fields == set(LAYER_PARAMS)


def test_aliases_resolve():
    assert layer_kind("LeakyReLU") is LAYERS["leaky_relu"]
    assert layer_kind("leaky-relu") is LAYERS["leaky_relu"]
    assert layer_kind(" Linear ") is LAYERS["linear"]
    assert layer_kind("conv") is None and layer_kind(3) is None


# ---- spec validation applies the registry's bounds -----------------------------------------------
@pytest.mark.parametrize("path", [p for p in SETTINGS if p != "solver.betas"])
def test_spec_validation_uses_each_setting_bound(path):
    p = SETTINGS[path]
    raw = {"layers": [{"type": "linear", "units": 2}], "batch_size": 1}
    *tables, field = path.split(".")
    target = raw
    for t in tables:
        target = target.setdefault(t, {})
    target[field] = p.high * 10 + 1 if p.type is int else p.high * 10
    with pytest.raises(SpecError, match=f"{path}: {p.label} must be"):
        RunSpec.from_dict(raw)


@pytest.mark.parametrize("kind", [k for k in LAYERS.values() if k.params], ids=lambda k: k.name)
def test_spec_validation_uses_each_layer_bound(kind):
    p = kind.params[0]
    layer = LayerSpec(kind.name, **{p.name: p.high + 1})
    spec = RunSpec(layers=[LayerSpec("linear", 2), layer, LayerSpec("linear", 2)])
    with pytest.raises(SpecError, match=f"{p.label} must be"):
        spec.validate()


# ---- the CLI -----------------------------------------------------------------------------------
def cli_actions(command: str) -> dict[str, argparse.Action]:
    from miniframe.cli import build_parser

    parser, _ = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices[command]._actions}


def test_cli_choices_are_the_registry():
    train = cli_actions("train")
    assert list(train["loss"].choices) == list(LOSSES)
    assert list(train["solver"].choices) == list(SOLVERS)
    assert list(train["init"].choices) == list(INITS)
    assert list(train["dataset"].choices) == list(DATASETS)
    # evaluate draws a fresh test set: of a generated dataset (a file is --data)
    assert list(cli_actions("evaluate")["dataset"].choices) == list(GENERATED_DATASETS)


@pytest.mark.parametrize(
    ("command", "dest", "param"),
    [
        ("train", "epochs", SETTINGS["epochs"]),
        ("train", "lr", SETTINGS["solver.lr"]),
        ("train", "batch_size", SETTINGS["batch_size"]),
        ("train", "momentum", SETTINGS["solver.momentum"]),
        ("train", "weight_decay", SETTINGS["solver.weight_decay"]),
        ("train", "noise", SETTINGS["data.noise"]),
        ("train", "seed", SETTINGS["seed"]),
        ("train", "threads", OPTIONS["threads"]),
        ("evaluate", "n", OPTIONS["samples"]),
        ("evaluate", "seed", SETTINGS["seed"]),
        ("reproduce", "seeds", OPTIONS["seeds"]),
    ],
)
def test_cli_flags_accept_what_the_registry_accepts(command, dest, param):
    parse = cli_actions(command)[dest].type
    high = str(param.high) if param.type is int else f"{param.high:g}"
    if param.high_open:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(high)
    else:
        assert parse(high) == param.high
    with pytest.raises(argparse.ArgumentTypeError):
        parse(str(param.high * 2 + 1))


# ---- the trainer -------------------------------------------------------------------------------
def test_trainer_menus_are_the_registry():
    from miniframe.tui import spec_form
    from miniframe.tui.widgets import layer_dialog

    assert [k for k, _ in spec_form.LAYER_MENU] == list(LAYERS)
    assert dict(spec_form.LAYER_MENU) == {k: (v.param.name if v.param else None)
                                      for k, v in LAYERS.items()}  # fmt: skip
    assert [v for _, v in spec_form.LOSS_CHOICES] == list(LOSSES)
    assert [v for _, v in spec_form.INIT_CHOICES] == list(INITS)
    # every dataset, the CSV file included (its path comes from the data picker)
    assert [v for _, v in spec_form.DATASET_CHOICES] == list(DATASETS)
    assert set(GENERATED_DATASETS) < set(DATASETS)
    assert set(SOLVERS) <= {v for _, v in spec_form.SOLVER_CHOICES}
    for kind in LAYERS.values():
        assert spec_form.kind_title(kind.name) == kind.title
        assert layer_dialog.MENU_HINT[kind.name] == kind.menu_label
        if kind.param is not None:
            assert spec_form.PARAM_LABELS[kind.param.name] == kind.param.label
            assert float(layer_dialog.DEFAULT_PARAM[kind.param.name]) == kind.param.default
            assert spec_form.make_layer(kind.name).params()[kind.param.name] == kind.param.default


def test_trainer_fields_accept_what_a_spec_accepts():
    """The trainer used to cap units at 4096 where specs had no cap: now both use LIMITS."""
    from miniframe.tui import spec_form

    assert spec_form.parse_layer_param("linear", str(LIMITS.max_units)) == LIMITS.max_units
    with pytest.raises(ValueError, match="≤ 4096"):
        spec_form.parse_layer_param("linear", str(LIMITS.max_units + 1))
    for field, path in spec_form.FIELD_PATHS.items():
        label, parse = spec_form.TEXT_FIELDS[field]
        assert label == spec_form.SHORT_LABELS.get(field, SETTINGS[path].label)
        with pytest.raises(ValueError):
            parse(str(SETTINGS[path].high * 2 + 1))
    for field, option in spec_form.TRAINER_FIELDS.items():  # the trainer's own (seeds K)
        label, parse = spec_form.TEXT_FIELDS[field]
        assert label == option.label
        with pytest.raises(ValueError):
            parse(str(option.high + 1))


# ---- the benchmark's torch mirror ----------------------------------------------------------------
def test_bench_mirrors_every_kind_with_its_torch_class():
    from miniframe.bench import TorchSide

    spec = all_kinds_spec(stochastic=False)
    side = TorchSide(spec)
    assert [type(m).__name__ for m in side.net] == [
        LAYERS[la.kind].torch_class for la in spec.layers
    ]
    assert type(side.loss_fn).__name__ == LOSSES[spec.loss].torch_class
    assert type(side.opt).__name__ == SOLVERS[spec.solver.name].torch_class
