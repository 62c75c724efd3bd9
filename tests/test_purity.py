"""The engine is from scratch: no autograd, torch.nn, torch.optim or UI imports, no tensor that
requires grad, and it works with autograd switched off. The spec module loads without torch."""

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from miniframe.engine import CrossEntropyLoss, LayerSpec, Linear, Run, load_preset

ENGINE = Path(__file__).resolve().parents[1] / "engine"
ENGINE_FILES = sorted(ENGINE.glob("*.py"))
FORBIDDEN_MODULES = (
    "torch.nn",
    "torch.optim",
    "torch.autograd",
    "torch.func",
    "textual",
    "plotext",
)
FORBIDDEN_TORCH_ATTRS = {"nn", "optim", "autograd", "func", "enable_grad", "load"}
FORBIDDEN_TENSOR_METHODS = {"requires_grad_", "retain_grad"}
DYNAMIC_IMPORTS = {"__import__", "import_module"}


def forbidden(module):
    return any(module == m or module.startswith(m + ".") for m in FORBIDDEN_MODULES)


def attribute_chain(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def offences(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    torch_names = {"torch"}
    found = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if forbidden(alias.name) or alias.name == "pickle":
                    found.append(f"{where}: import {alias.name}")
                if alias.name == "torch" and alias.asname:
                    torch_names.add(alias.asname)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if forbidden(node.module) or node.module == "pickle":
                found.append(f"{where}: from {node.module} import ...")
            for alias in node.names:
                if forbidden(f"{node.module}.{alias.name}"):
                    found.append(f"{where}: from {node.module} import {alias.name}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in DYNAMIC_IMPORTS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and forbidden(node.args[0].value)
        ):
            found.append(f"{where}: dynamic import of {node.args[0].value}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain = attribute_chain(node) or ""
            head, _, rest = chain.partition(".")
            if head in torch_names and rest.split(".")[0] in FORBIDDEN_TORCH_ATTRS:
                found.append(f"{path.name}:{node.lineno}: uses {chain}")
            if node.attr in FORBIDDEN_TENSOR_METHODS:
                found.append(f"{path.name}:{node.lineno}: calls .{node.attr}")
        if isinstance(node, ast.keyword) and node.arg == "requires_grad":
            found.append(f"{path.name}: passes requires_grad=")
    return found


def test_engine_files_found():
    names = {p.name for p in ENGINE_FILES}
    assert {"module.py", "layers.py", "losses.py", "optim.py", "train.py", "spec.py"} <= names


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: p.name)
def test_engine_imports_no_autograd_nn_optim_or_ui(path):
    assert offences(path) == []


def test_the_checker_catches_offences(tmp_path):
    """The scan itself bites: each of these lines is flagged."""
    bad = [
        "import torch.nn as nn",
        "from torch import nn",
        "from torch import autograd",
        "from torch.optim import SGD",
        "import textual.app",
        "from plotext import plot",
        "import torch\nx = torch.nn.functional.relu",
        "import torch as T\nT.autograd.grad",
        "import torch\nwith torch.enable_grad(): pass",
        "x.requires_grad_()",
        "import pickle",
        "import torch\ntorch.load('f')",
        "__import__('torch.func')",
        "import importlib\nimportlib.import_module('textual')",
    ]
    for i, src in enumerate(bad):
        path = tmp_path / f"bad{i}.py"
        path.write_text(src, encoding="utf-8")
        assert offences(path), src
    ok = tmp_path / "ok.py"
    ok.write_text('"""torch.nn and torch.optim in a docstring are fine."""\nimport torch\n')
    assert offences(ok) == []


def tiny_spec(**changes):
    spec = load_preset("quick")
    layers = [
        LayerSpec("linear", 8),
        LayerSpec("leaky_relu"),
        LayerSpec("dropout", p=0.2),
        LayerSpec("tanh"),
        LayerSpec("linear", 6),
        LayerSpec("sigmoid"),
        LayerSpec("linear", 4),
        LayerSpec("softmax"),
        LayerSpec("relu"),
        LayerSpec("linear", 2),
    ]
    data = dataclasses.replace(spec.data, n_train=64, n_test=32)
    return spec.replace(layers=layers, data=data, epochs=3, batch_size=16).replace(**changes)


def no_grad_anywhere(run):
    tensors = [t for pair in run.model.param() for t in pair]
    x = run.test_data.x
    tensors.append(run.model.forward(x))
    tensors.append(run.model.backward(torch.ones(len(x), 2)))
    tensors += [run.loss.forward(tensors[-2], run.test_data.y), run.loss.backward()]
    tensors.append(run.predict_proba(torch.rand(5, 2)))
    opt = run.optimizer
    for name in ("m", "v", "velocity"):
        tensors += [t for t in getattr(opt, name, []) if t is not None]
    return all(not t.requires_grad and t.grad_fn is None for t in tensors)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_no_engine_tensor_requires_grad(solver):
    spec = tiny_spec()
    spec = spec.replace(solver=dataclasses.replace(spec.solver, name=solver, momentum=0.9))
    run = Run(spec)
    summaries = list(run.fit())
    assert summaries[-1].status == "finished"
    assert no_grad_anywhere(run)


def test_training_works_with_autograd_disabled():
    """The whole loop runs under set_grad_enabled(False) and gives the very same numbers."""
    spec = tiny_spec(loss="mse")
    with_grad = [s.train_loss for s in Run(spec).fit()]
    prev = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        run = Run(spec)
        without = [s.train_loss for s in run.fit()]
        assert no_grad_anywhere(run)
    finally:
        torch.set_grad_enabled(prev)
    assert without == with_grad


def test_layers_work_in_inference_mode():
    with torch.inference_mode():
        lin = Linear(3, 2)
        x = torch.randn(4, 3)
        loss = CrossEntropyLoss()
        loss.forward(lin.forward(x), torch.tensor([0, 1, 1, 0]))
        lin.backward(loss.backward())
        assert torch.count_nonzero(lin.grad_weight) > 0


def run_python(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_spec_side_modules_do_not_import_torch(tmp_path):
    """The terminal trainer reads the registry, specs, presets and checkpoints' headers before
    torch loads: registry, spec, presets, files and inspect_checkpoint import no torch."""
    code = (
        "import sys\n"
        "import miniframe, miniframe.engine, miniframe.engine.spec as s\n"
        "import miniframe.engine.registry, miniframe.engine.presets, miniframe.engine.files\n"
        "import miniframe.engine.checkpoint\n"
        "spec = miniframe.engine.presets.load_preset('vanilla')\n"
        "spec.validate(); s.RunSpec.from_toml(spec.to_toml()); spec.param_counts()\n"
        "from miniframe.engine import (RunSpec, SpecError, load_preset, preset_names, LAYERS,\n"
        "    LIMITS, list_presets, save_user_preset, write_atomic_text, inspect_checkpoint)\n"
        "assert preset_names() and list_presets()\n"
        f"save_user_preset('mine', spec, {str(tmp_path)!r})\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]\n"
        "print('LOADED', bad)\n"
        "assert not bad, bad\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LOADED []" in result.stdout


def test_engine_exports_are_declared_for_type_checkers():
    """engine/__init__.py lists its lazy exports twice (a table for runtime, imports for type
    checkers): the two agree, and every name resolves."""
    import miniframe.engine as engine

    tree = ast.parse((ENGINE / "__init__.py").read_text(encoding="utf-8"))
    declared = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                declared[alias.asname or alias.name] = node.module
    assert declared == engine._WHERE
    assert sorted(engine.__all__) == sorted(engine._WHERE)
    for name in engine.__all__:
        assert getattr(engine, name) is not None


def test_importing_the_engine_package_is_lazy():
    code = (
        "import sys, miniframe.engine as e\n"
        "assert 'torch' not in sys.modules\n"
        "e.Linear\n"
        "assert 'torch' in sys.modules\n"
        "print('OK')\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def engine_imports():
    """Each engine module → the engine modules it imports anywhere (top level, in a function,
    or for type checkers only): every import is a dependency a reader has to follow."""
    graph = {}
    for path in ENGINE_FILES:
        name = path.stem
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        graph[name] = found - {name}
    return graph


def import_order(graph):
    """The modules, each after every module it imports; AssertionError names a circle."""
    done, order = set(), []

    def visit(name, path):
        assert name not in path, "import circle: " + " -> ".join([*path, name])
        if name in done:
            return
        for dep in sorted(graph.get(name, ())):
            visit(dep, [*path, name])
        done.add(name)
        order.append(name)

    for name in sorted(graph):
        visit(name, [])
    return order


def test_the_engine_imports_point_one_way():
    """No circle among the engine's modules, however lazily they import each other; errors and
    registry are the bottom (they import no engine module); a run spec reads its data through
    the CSV reader, which builds on the data's shape; build and train build on the spec."""
    graph = engine_imports()
    graph.pop("__init__")  # the package's face: it names every module, none imports it
    position = {name: i for i, name in enumerate(import_order(graph))}
    assert graph["errors"] == set() and graph["registry"] == set()
    layers = (("spec", "table"), ("table", "shape"), ("build", "spec"), ("train", "build"))
    for upper, lower in layers:
        assert position[lower] < position[upper], f"{upper} must build on {lower}"


def test_the_import_check_finds_a_circle():
    """The check bites: a lazy import back from table to spec would be a circle."""
    graph = engine_imports()
    graph.pop("__init__")
    graph["table"].add("spec")
    with pytest.raises(AssertionError, match=r"import circle: .*spec -> .*table"):
        import_order(graph)
