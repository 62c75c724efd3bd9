"""The run spec: round trips through dicts, JSON and TOML, error messages naming the file and
field, the limits every spec is held to, and bounded, non-blocking reads of spec files."""

import dataclasses
import json
import os
import sys

import pytest
import tomli_w
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from miniframe.engine import (
    GENERATED_DATASETS,
    INITS,
    LAYERS,
    LIMITS,
    DataSpec,
    LayerSpec,
    Run,
    RunSpec,
    SolverSpec,
    SpecError,
    build_model,
    load_preset,
)


def small_spec(**changes):
    """The quick preset, shrunk to run in well under a second."""
    spec = load_preset("quick")
    spec = spec.replace(data=dataclasses.replace(spec.data, n_train=200, n_test=100), epochs=4)
    return spec.replace(**changes)


def minimal(**extra):
    """The smallest valid raw spec (one Linear), plus ``extra`` settings."""
    return {"layers": [{"type": "linear", "units": 2}], **extra}


# ---- spec round trips -----------------------------------------------------------------------
def spec_strategy():
    layer = st.one_of(
        st.builds(LayerSpec, kind=st.sampled_from(["relu", "tanh", "sigmoid", "softmax"])),
        st.builds(LayerSpec, kind=st.just("leaky_relu"), negative_slope=st.floats(0, 1, width=32)),
        st.builds(LayerSpec, kind=st.just("dropout"), p=st.floats(0, 0.95)),
    )

    @st.composite
    def build(draw):
        hidden = draw(st.lists(st.integers(1, 64), max_size=4))
        layers = []
        width = 2
        for units in [*hidden, 2]:
            stated = draw(st.booleans())
            layers.append(LayerSpec("linear", units, in_features=width if stated else None))
            width = units
            layers += draw(st.lists(layer, max_size=2))
        n_train = draw(st.integers(1, 5000))
        solver = SolverSpec(
            name=draw(st.sampled_from(["sgd", "adam"])),
            lr=draw(st.floats(1e-8, 10)),
            momentum=draw(st.floats(0, 0.99)),
            weight_decay=draw(st.floats(0, 1)),
            betas=(draw(st.floats(0, 0.999)), draw(st.floats(0, 0.999999))),
        )
        solver.nesterov = solver.momentum > 0 and draw(st.booleans())
        return RunSpec(
            layers=layers,
            loss=draw(st.sampled_from(["mse", "cross-entropy"])),
            solver=solver,
            data=DataSpec(
                name=draw(st.sampled_from(list(GENERATED_DATASETS))),
                n_train=n_train,
                n_test=draw(st.integers(1, 5000)),
                noise=draw(st.floats(0, 1)),
                center=draw(st.booleans()),
            ),
            init=draw(st.sampled_from(list(INITS))),
            epochs=draw(st.integers(1, 10_000)),
            batch_size=draw(st.integers(1, n_train)),
            seed=draw(st.integers(0, 2**31)),
            name=draw(st.text(max_size=30)),
            description=draw(st.text(max_size=40)),
        )

    return build()


@settings(max_examples=60, deadline=None)
@given(spec=spec_strategy())
def test_spec_round_trips_through_toml_and_dict(spec):
    spec.validate()
    assert RunSpec.from_toml(spec.to_toml()) == spec
    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize("text", ["line one\nline two", 'quote " and \\ back', "tab\there"])
def test_spec_round_trips_awkward_strings(text):
    spec = small_spec(name=text, description=text)
    assert RunSpec.from_toml(spec.to_toml()) == spec


@pytest.mark.parametrize("text", ["carriage\rreturn", "esc\x1b[0m", "nul\x00", "del\x7f", "\u2028"])
def test_spec_round_trips_control_characters(text):
    """to_toml promises text that from_toml reads back: control characters must be escaped."""
    spec = small_spec(description=text)
    assert RunSpec.from_toml(spec.to_toml()) == spec


def test_spec_save_and_load(tmp_path):
    spec = load_preset("deep").replace(name="mine", seed=9)
    path = tmp_path / "sub" / "run.toml"
    spec.save(path)
    assert RunSpec.load(path) == spec
    assert [p.name for p in path.parent.iterdir()] == ["run.toml"]  # no temp files left
    jpath = tmp_path / "run.json"
    jpath.write_text(json.dumps(spec.to_dict()), encoding="utf-8")
    assert RunSpec.load(jpath) == spec


def test_spec_load_missing_file(tmp_path):
    path = tmp_path / "missing.toml"
    with pytest.raises(SpecError, match="no such file") as info:
        RunSpec.load(path)
    assert str(path) in str(info.value)


def test_spec_load_bad_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid JSON"):
        RunSpec.load(path)


def test_spec_accepts_layer_type_aliases():
    spec = RunSpec.from_dict(
        {
            "layers": [
                {"type": "Linear", "units": 4},
                {"type": "LeakyReLU"},
                {"type": "linear", "units": 2},
            ]
        }
    )
    assert [layer.kind for layer in spec.layers] == ["linear", "leaky_relu", "linear"]


# ---- spec errors ----------------------------------------------------------------------------
def table_one_typo_toml():
    """Table I's vanilla network as printed: its second Linear states in_features = 10."""
    raw = load_preset("vanilla").to_dict()
    raw["layers"][2]["in_features"] = 10
    return tomli_w.dumps(raw)


def test_mismatching_in_features_names_the_layer():
    """Table I's 'Linear(10, 25)' after a 25-unit layer is caught, naming layer 3."""
    text = table_one_typo_toml()
    assert text.count("in_features = 10") == 1
    with pytest.raises(SpecError) as info:
        RunSpec.from_toml(text, source="table.toml")
    msg = str(info.value)
    assert msg.startswith("table.toml: ")
    assert "layer 3" in msg and "Linear(10, 25)" in msg and "produces 25" in msg


def test_mismatching_in_features_second_linear():
    layers = [
        {"type": "linear", "units": 25},
        {"type": "relu"},
        {"type": "linear", "units": 25, "in_features": 10},
        {"type": "linear", "units": 2},
    ]
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict({"layers": layers})
    msg = str(info.value)
    assert "layer 3" in msg and "Linear(10, 25)" in msg and "25" in msg


def test_last_linear_must_output_two_classes():
    layers = [{"type": "linear", "units": 25}, {"type": "relu"}, {"type": "linear", "units": 3}]
    with pytest.raises(SpecError, match=r"layer 3.*3 values.*2 classes"):
        RunSpec.from_dict({"layers": layers})


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"layers": []}, "empty"),
        ({"layers": [{"type": "relu"}]}, "no Linear"),
        ({"layers": [{"type": "conv", "units": 2}]}, "unknown layer type"),
        ({"layers": [{"type": "linear", "units": 0}]}, "units"),
        ({"layers": [{"type": "linear", "units": 2, "size": 3}]}, r"unknown key.*size"),
        ({"layers": [{"type": "linear", "units": 2}], "colour": "red"}, "unknown setting.*colour"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"lrate": 1}}, "solver.*lrate"),
        ({"layers": [{"type": "linear", "units": 2}], "data": {"size": 1}}, "data.*size"),
        ({"layers": [{"type": "linear", "units": 2}], "epochs": "ten"}, "epochs"),
        ({"layers": [{"type": "linear", "units": 2}], "epochs": 0}, "epochs"),
        ({"layers": [{"type": "linear", "units": 2}], "batch_size": 2000}, "batch size 2000"),
        ({"layers": [{"type": "linear", "units": 2}], "loss": "hinge"}, "unknown loss"),
        ({"layers": [{"type": "linear", "units": 2}], "init": "zeros"}, "unknown init"),
        ({"layers": [{"type": "linear", "units": 2}], "seed": -1}, "seed"),
        ({"layers": [{"type": "linear", "units": 2}], "device": "tpu"}, "device"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"lr": 0}}, "learning rate"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"name": "rmsprop"}}, "solver"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"momentum": 1.0}}, "momentum"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"nesterov": True}}, "Nesterov"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"betas": [0.9]}}, "betas"),
        ({"layers": [{"type": "linear", "units": 2}], "data": {"name": "iris"}}, "dataset"),
        ({"layers": [{"type": "linear", "units": 2}], "data": {"n_train": 0}}, "n_train"),
        ({"layers": [{"type": "linear", "units": 2}], "data": {"noise": -1}}, "noise"),
        (
            {"layers": [{"type": "linear", "units": 2}, {"type": "dropout", "p": 1}]},
            r"Dropout.*p must be in \[0, 1\)",
        ),
        (
            {
                "layers": [
                    {"type": "linear", "units": 2},
                    {"type": "leaky_relu", "negative_slope": -1},
                ]
            },
            r"LeakyReLU.*slope must be ≥ 0",
        ),
        ({"layers": "linear"}, "layers"),
        ([1, 2], "table"),
    ],
)
def test_bad_specs_raise_spec_error(raw, match):
    with pytest.raises(SpecError, match=match):
        RunSpec.from_dict(raw, source="my.toml")


def test_batch_size_larger_than_training_set():
    spec = small_spec(batch_size=201)
    with pytest.raises(SpecError, match=r"batch size 201.*\(200\)"):
        spec.validate()


def test_bad_toml():
    with pytest.raises(SpecError, match="not valid TOML") as info:
        RunSpec.from_toml("name = [unclosed", source="broken.toml")
    assert "broken.toml" in str(info.value)


def test_spec_error_is_a_value_error():
    assert issubclass(SpecError, ValueError)


def test_layer_kinds_all_build():
    layers = [LayerSpec(k, 3) if LAYERS[k].has_weights else LayerSpec(k) for k in LAYERS]
    spec = small_spec(layers=[*layers, LayerSpec("linear", 2)])
    model = build_model(spec)
    assert len(model) == len(LAYERS) + 1
    assert model.forward(torch.zeros(4, 2)).shape == (4, 2)


# ---- each default stated once, parsing driven by the dataclasses ---------------------------------
def test_defaults_come_from_the_dataclasses():
    """A table that leaves everything out gets exactly the dataclasses' defaults."""
    spec = RunSpec.from_dict(minimal())
    assert spec == RunSpec(layers=[LayerSpec("linear", 2)])
    assert spec.solver == SolverSpec() and spec.data == DataSpec()
    layer = LayerSpec.from_dict({"type": "leaky_relu"})
    assert layer.negative_slope == LAYERS["leaky_relu"].param_named("negative_slope").default
    assert LayerSpec.from_dict({"type": "dropout"}).p == LAYERS["dropout"].param_named("p").default


def set_fields(obj):
    return {f.name for f in dataclasses.fields(obj) if getattr(obj, f.name) is not None}


def test_to_dict_has_every_field():
    """Every field that has a value: an unset optional one (None) is left out (TOML has no
    null), and reads back as its default."""
    spec = load_preset("vanilla")
    d = spec.to_dict()
    assert set(d) == {f.name for f in dataclasses.fields(RunSpec)}
    assert set(d["solver"]) == {f.name for f in dataclasses.fields(SolverSpec)}
    assert set(d["data"]) == set_fields(spec.data)
    assert set(d["stop"]) == set_fields(spec.stop)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (minimal(solver={"lr": "fast"}), "solver.lr"),
        (minimal(solver={"momentum": "x"}), "solver.momentum"),
        (minimal(solver={"weight_decay": "x"}), "solver.weight_decay"),
        (minimal(solver={"betas": [0.9, "x"]}), "solver.betas[1]"),
        (minimal(solver={"nesterov": 1}), "solver.nesterov"),
        (minimal(data={"n_train": 1.5}), "data.n_train"),
        (minimal(data={"center": "yes"}), "data.center"),
        (minimal(epochs=True), "epochs"),
        (minimal(name=3), "name"),
        (minimal(solver=[1]), "solver"),
    ],
)
def test_type_errors_name_file_and_field(raw, path):
    """Every field's error starts `source: table.field:` (they used to differ field by field)."""
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(raw, source="my.toml")
    assert str(info.value).startswith(f"my.toml: {path}: "), str(info.value)


def test_a_layer_error_names_the_layer_and_its_key():
    with pytest.raises(SpecError, match=r"^my.toml: layer 2: unknown key units for a ReLU"):
        RunSpec.from_dict(
            {"layers": [{"type": "linear", "units": 2}, {"type": "relu", "units": 3}]},
            source="my.toml",
        )
    with pytest.raises(SpecError, match=r"^my.toml: layer 1 \(Linear\): units must be a whole"):
        RunSpec.from_dict({"layers": [{"type": "linear", "units": "2"}]}, source="my.toml")


# ---- limits ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"layers": [{"type": "linear", "units": 10**9}]}, "units must be ≤ 4096"),
        ({"layers": [{"type": "linear", "units": 10**30}]}, "units must be ≤ 4096"),
        ({"layers": [{"type": "linear", "units": 2, "in_features": 10**30}]}, "in_features"),
        (
            {"layers": [{"type": "linear", "units": 4096}] * 3 + [{"type": "linear", "units": 2}]},
            r"the network has 33,583,106 parameters; the limit is 20,000,000",
        ),
        ({"layers": [{"type": "relu"}] * 65 + [{"type": "linear", "units": 2}]}, "limit is 64"),
        (minimal(data={"n_train": 10**12}), r"data.n_train: train size must be ≤ 10000000"),
        (minimal(data={"n_test": 10**8}), r"data.n_test: test size must be ≤ 10000000"),
        (minimal(epochs=10**7), r"epochs: epochs must be ≤ 1000000"),
        (minimal(seed=2**63), r"seed: seed must be ≤ 4611686018427387903"),
        (minimal(seed=10**20), r"seed: seed must be ≤"),
        (minimal(solver={"lr": 1e40}), r"solver.lr: learning rate must be ≤ 1e\+06"),
        (minimal(solver={"lr": 10**400}), r"solver.lr: learning rate must be ≤"),
        (minimal(solver={"lr": float("nan")}), r"solver.lr: learning rate must be a finite"),
        (minimal(solver={"weight_decay": 1e300}), r"weight decay must be ≤"),
        (minimal(data={"noise": float("inf")}), r"noise must be a finite"),
        ({"layers": [{"type": "leaky_relu", "negative_slope": 1e40}]}, r"slope must be ≤"),
        (minimal(device="cuda:x"), "device"),
    ],
)
def test_limits_apply_to_specs(raw, match):
    """One set of limits (registry.LIMITS): a spec file cannot ask for 8 GB or overflow float32."""
    with pytest.raises(SpecError, match=match):
        RunSpec.from_dict(raw, source="big.json")


def test_the_largest_accepted_spec_is_within_the_limits():
    biggest = RunSpec(layers=[LayerSpec("linear", LIMITS.max_units), LayerSpec("linear", 2)])
    biggest.validate()
    assert sum(biggest.param_counts()) <= LIMITS.max_params
    biggest.replace(seed=LIMITS.max_seed).validate()
    assert 2 * LIMITS.max_seed + 1 < 2**63  # the test set's seed still fits torch's generator


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_deeply_nested_files_are_a_spec_error(tmp_path, suffix):
    """100,000 levels of nesting give one line, not a RecursionError."""
    path = tmp_path / f"deep{suffix}"
    depth = 100_000
    if suffix == ".json":
        path.write_text("[" * depth + "]" * depth)
    else:
        path.write_text("x = " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(SpecError, match=r"nested too deeply|not valid") as info:
        RunSpec.load(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_long_values_are_quoted_short():
    """An error quotes what it was given, cut short: never a megabyte of it."""
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(minimal(loss="x" * 1_000_000))
    assert len(str(info.value)) < 300


# ---- reading files -----------------------------------------------------------------------------
def test_load_refuses_oversized_files(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_bytes(b"#" * (LIMITS.max_spec_bytes + 1))
    with pytest.raises(SpecError, match=r"too large for a run spec \(limit 1,048,576\)"):
        RunSpec.load(path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_load_refuses_devices():
    with pytest.raises(SpecError, match=r"/dev/zero: is a character device, not a run spec"):
        RunSpec.load("/dev/zero")


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs")
def test_load_refuses_a_fifo_without_blocking(tmp_path):
    """Opening a FIFO for reading would block until a writer comes: it is never opened."""
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="FIFO"):
        RunSpec.load(fifo)
    link = tmp_path / "link.toml"
    link.symlink_to(fifo)
    with pytest.raises(SpecError, match="FIFO"):
        RunSpec.load(link)


def test_load_refuses_a_folder_and_binary(tmp_path):
    with pytest.raises(SpecError, match="folder"):
        RunSpec.load(tmp_path)
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SpecError, match="UTF-8"):
        RunSpec.load(path)


def test_spec_error_on_batch_size_larger_than_training_set_when_running():
    spec = small_spec(batch_size=201)
    with pytest.raises(SpecError, match=r"batch size 201.*\(200\)"):
        Run(spec)


def test_to_toml_is_written_by_tomli_w():
    """Written by a TOML library, read by tomllib: no hand-made escaping to get wrong."""
    spec = small_spec(description='tab\t quote " back \\ nul \x00 del \x7f')
    assert RunSpec.from_toml(spec.to_toml()) == spec
    assert RunSpec.from_json(spec.to_json()) == spec


# ---- one function infers the widths -------------------------------------------------------------
def test_infer_widths_is_what_validation_and_parameter_counts_use():
    from miniframe.engine import LayerWidths, infer_widths

    spec = load_preset("deep")
    shape = spec.shape()
    widths = infer_widths(spec.layers, shape.n_inputs, shape.n_classes)
    assert widths == infer_widths(spec.layers, shape.n_inputs, shape.n_classes, strict=False)
    assert spec.layer_widths() == [(w.n_in, w.n_out) for w in widths]
    assert spec.param_counts() == [w.params for w in widths]
    assert widths[0] == LayerWidths(2, 10, 2 * 10 + 10) and widths[1] == LayerWidths(10, 10, 0)
    assert widths[-1].n_out == 2


def test_infer_widths_for_a_stack_being_edited_never_raises():
    """Not strict: unknown kinds and units yet unset pass their input width on, 0 parameters;
    "classes" is the data's classes."""
    from miniframe.engine import infer_widths

    layers = [LayerSpec("linear", 8), LayerSpec("gelu?"), LayerSpec("linear", None),
              LayerSpec("relu"), LayerSpec("linear", "classes")]  # fmt: skip
    widths = infer_widths(layers, 4, 3, strict=False)
    assert [(w.n_in, w.n_out, w.params) for w in widths] == [
        (4, 8, 40), (8, 8, 0), (8, 8, 0), (8, 8, 0), (8, 3, 27),
    ]  # fmt: skip
    assert infer_widths([], 2, 2, strict=False) == []
    for bad, match in (
        (layers, "unknown layer type"),
        ([], "empty"),
        ([LayerSpec("linear", "classes"), LayerSpec("linear", 2)], "last Linear"),
        ([LayerSpec("relu")], "no Linear"),
        ([LayerSpec("linear", 5)], "outputs 5 values"),
        ([LayerSpec("linear", 5, in_features=3)], "expects 3 input features"),
    ):
        with pytest.raises(SpecError, match=match):
            infer_widths(bad, 4, 3)


def test_data_seed_and_the_true_boundary_are_facts_of_the_spec():
    from miniframe.engine import DATASETS, Circle, data_seed, true_boundary

    spec = load_preset("vanilla")
    assert data_seed(spec.replace(seed=7)) == 7
    assert data_seed(spec.replace(seed=7, data=dataclasses.replace(spec.data, seed=3))) == 3
    disk = true_boundary(spec)
    assert isinstance(disk, Circle) and disk == DATASETS["disk"].boundary
    assert (disk.x, disk.y) == (0.5, 0.5) and abs(3.141592653589793 * disk.radius**2 - 0.5) < 1e-12
    for name in DATASETS:
        if name != "disk":
            other = spec.replace(data=dataclasses.replace(spec.data, name=name))
            assert true_boundary(other) is None
