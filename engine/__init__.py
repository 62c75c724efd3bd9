"""miniframe.engine: a deep-learning framework written on PyTorch tensors alone.

No autograd, no torch.nn, no torch.optim: every backward pass is derived by hand with the chain
rule and sits beside its forward pass. Read in this order: module.py (the contract and
Sequential), layers.py, losses.py, optim.py, data.py, train.py, spec.py, checkpoint.py.
"""

from importlib import import_module
from typing import Any

# Names resolve lazily (PEP 562), so `import miniframe.engine.spec` does not import torch:
# the terminal trainer reads specs and presets while torch loads in the background.
_EXPORTS = {
    "checkpoint": ["CheckpointError", "load_checkpoint", "save_checkpoint"],
    "data": ["DATASETS", "CSVError", "Dataset", "load_csv", "make_dataset"],
    "layers": ["Dropout", "LeakyReLU", "Linear", "ReLU", "Sigmoid", "Softmax", "Tanh"],
    "losses": ["CrossEntropyLoss", "Loss", "MSELoss"],
    "module": ["Module", "Sequential"],
    "optim": ["SGD", "Adam", "Optimizer"],
    "spec": ["DataSpec", "LayerSpec", "RunSpec", "SolverSpec", "SpecError", "load_preset",
             "preset_names"],
    "train": ["EpochSummary", "Run", "Trainer", "train_spec"],
}  # fmt: skip
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_WHERE))


__all__ = [
    "DATASETS",
    "SGD",
    "Adam",
    "CSVError",
    "CheckpointError",
    "CrossEntropyLoss",
    "DataSpec",
    "Dataset",
    "Dropout",
    "EpochSummary",
    "LayerSpec",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "Optimizer",
    "ReLU",
    "Run",
    "RunSpec",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SolverSpec",
    "SpecError",
    "Tanh",
    "Trainer",
    "load_checkpoint",
    "load_csv",
    "load_preset",
    "make_dataset",
    "preset_names",
    "save_checkpoint",
    "train_spec",
]
