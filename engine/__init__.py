"""miniframe.engine: a deep-learning framework written on PyTorch tensors alone.

No autograd, no torch.nn, no torch.optim: every backward pass is derived by hand with the chain
rule and sits beside its forward pass. Read in this order: module.py (the contract and
Sequential), layers.py, losses.py, optim.py, data.py, train.py and results.py (what training
says: statuses, epoch summaries, the spread over seeds); then registry.py (every kind and
limit), errors.py, spec.py (the run spec), shape.py (the data's shape, the input transform),
table.py (CSV files), build.py (spec → engine objects), analysis.py and layer_stats.py
(looking inside a model), presets.py, checkpoint.py, documents.py (JSON and TOML text) and
files.py.

Import what you need from here: ``from miniframe.engine import RunSpec, Run``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names resolve lazily (PEP 562): `from miniframe.engine import RunSpec, LAYERS, load_preset`
# imports no torch, so the terminal trainer reads specs and presets while torch loads in the
# background. The torch-free modules are errors, plurals, registry, results, spec, shape,
# table, tabular, holdout, presets, documents, files and checkpoint's inspect_checkpoint. Their
# imports point one way, from the bottom: registry, errors, plurals and documents; shape (what
# data look like); table (CSV files); spec (a run, which reads its data's shape through
# table); then build and train.
_EXPORTS = {
    "analysis": ["DataPreview", "FeatureSummary", "InputPlane", "activations",
                 "class_probabilities", "confusion_matrix", "plane_inputs", "preview_data"],
    "build": ["build_data", "build_dataset", "build_layer", "build_loss", "build_model",
              "build_optimizer", "build_raw_data", "build_run_data", "build_transform", "prepare"],
    "checkpoint": ["CheckpointError", "CheckpointInfo", "UnverifiedCheckpointWarning",
                   "inspect_checkpoint", "load_checkpoint", "read_checkpoint", "save_checkpoint"],
    "data": ["Dataset", "centre_inputs", "csv_datasets", "load_csv", "make_dataset",
             "table_dataset"],
    "errors": ["CSVError", "FileError", "SpecError"],
    "files": ["check_output", "check_writable", "read_bytes_limited", "same_file",
              "write_atomic_bytes", "write_atomic_text"],
    "layers": ["Dropout", "LeakyReLU", "Linear", "ReLU", "Sigmoid", "Softmax", "Tanh",
               "init_parameters"],
    "losses": ["CrossEntropyLoss", "Loss", "MSELoss"],
    "module": ["Module", "Sequential"],
    "optim": ["SGD", "Adam", "Optimizer"],
    "plurals": ["agree", "plural"],
    "presets": ["CONFIG_ENV", "Origin", "Preset", "PresetExistsError", "builtin_names",
                "check_name", "config_dir", "find_preset", "list_presets", "load_builtin",
                "load_entry", "load_preset", "preset_names", "save_user_preset", "user_preset_dir"],
    "registry": ["CLASSES_UNITS", "DATASETS", "FILE_DATASET", "GENERATED_DATASETS", "INITS",
                 "LAYERS", "LIMITS", "LOSSES", "N_CLASSES", "N_INPUTS", "OPTIONS", "SETTINGS",
                 "SETTING_AT", "SOLVERS", "SPEC_SETTINGS", "Circle", "DatasetKind", "LayerKind",
                 "Limits", "ParamSpec", "Setting", "ignored_by", "layer_kind", "reads_file"],
    "replicas": ["ReplicaTrainer", "replica_support"],
    "results": ["HIGHER_IS_BETTER", "METRICS", "Band", "EpochSummary", "LayerStats",
                "ReplicaEpoch", "Status", "spread"],
    "shape": ["DataShape", "InputTransform"],
    "spec": ["DataSpec", "LayerSpec", "LayerWidths", "RunSpec", "SolverSpec", "StopSpec",
             "data_seed", "data_shape", "infer_widths", "true_boundary"],
    "tabular": ["file_data", "tabular_spec", "with_file"],
    "table": ["ReadCancelled", "Table", "clear_cache", "csv_split", "label_column_chooser",
              "read_for_model", "read_table", "watch_reading"],
    "train": ["Run", "Trainer", "train_spec"],
}  # fmt: skip
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}

if TYPE_CHECKING:  # the same names, for type checkers (a test keeps the two in step)
    from .analysis import DataPreview as DataPreview
    from .analysis import FeatureSummary as FeatureSummary
    from .analysis import InputPlane as InputPlane
    from .analysis import activations as activations
    from .analysis import class_probabilities as class_probabilities
    from .analysis import confusion_matrix as confusion_matrix
    from .analysis import plane_inputs as plane_inputs
    from .analysis import preview_data as preview_data
    from .build import build_data as build_data
    from .build import build_dataset as build_dataset
    from .build import build_layer as build_layer
    from .build import build_loss as build_loss
    from .build import build_model as build_model
    from .build import build_optimizer as build_optimizer
    from .build import build_raw_data as build_raw_data
    from .build import build_run_data as build_run_data
    from .build import build_transform as build_transform
    from .build import prepare as prepare
    from .checkpoint import CheckpointError as CheckpointError
    from .checkpoint import CheckpointInfo as CheckpointInfo
    from .checkpoint import UnverifiedCheckpointWarning as UnverifiedCheckpointWarning
    from .checkpoint import inspect_checkpoint as inspect_checkpoint
    from .checkpoint import load_checkpoint as load_checkpoint
    from .checkpoint import read_checkpoint as read_checkpoint
    from .checkpoint import save_checkpoint as save_checkpoint
    from .data import Dataset as Dataset
    from .data import centre_inputs as centre_inputs
    from .data import csv_datasets as csv_datasets
    from .data import load_csv as load_csv
    from .data import make_dataset as make_dataset
    from .data import table_dataset as table_dataset
    from .errors import CSVError as CSVError
    from .errors import FileError as FileError
    from .errors import SpecError as SpecError
    from .files import check_output as check_output
    from .files import check_writable as check_writable
    from .files import read_bytes_limited as read_bytes_limited
    from .files import same_file as same_file
    from .files import write_atomic_bytes as write_atomic_bytes
    from .files import write_atomic_text as write_atomic_text
    from .layers import Dropout as Dropout
    from .layers import LeakyReLU as LeakyReLU
    from .layers import Linear as Linear
    from .layers import ReLU as ReLU
    from .layers import Sigmoid as Sigmoid
    from .layers import Softmax as Softmax
    from .layers import Tanh as Tanh
    from .layers import init_parameters as init_parameters
    from .losses import CrossEntropyLoss as CrossEntropyLoss
    from .losses import Loss as Loss
    from .losses import MSELoss as MSELoss
    from .module import Module as Module
    from .module import Sequential as Sequential
    from .optim import SGD as SGD
    from .optim import Adam as Adam
    from .optim import Optimizer as Optimizer
    from .plurals import agree as agree
    from .plurals import plural as plural
    from .presets import CONFIG_ENV as CONFIG_ENV
    from .presets import Origin as Origin
    from .presets import Preset as Preset
    from .presets import PresetExistsError as PresetExistsError
    from .presets import builtin_names as builtin_names
    from .presets import check_name as check_name
    from .presets import config_dir as config_dir
    from .presets import find_preset as find_preset
    from .presets import list_presets as list_presets
    from .presets import load_builtin as load_builtin
    from .presets import load_entry as load_entry
    from .presets import load_preset as load_preset
    from .presets import preset_names as preset_names
    from .presets import save_user_preset as save_user_preset
    from .presets import user_preset_dir as user_preset_dir
    from .registry import CLASSES_UNITS as CLASSES_UNITS
    from .registry import DATASETS as DATASETS
    from .registry import FILE_DATASET as FILE_DATASET
    from .registry import GENERATED_DATASETS as GENERATED_DATASETS
    from .registry import INITS as INITS
    from .registry import LAYERS as LAYERS
    from .registry import LIMITS as LIMITS
    from .registry import LOSSES as LOSSES
    from .registry import N_CLASSES as N_CLASSES
    from .registry import N_INPUTS as N_INPUTS
    from .registry import OPTIONS as OPTIONS
    from .registry import SETTING_AT as SETTING_AT
    from .registry import SETTINGS as SETTINGS
    from .registry import SOLVERS as SOLVERS
    from .registry import SPEC_SETTINGS as SPEC_SETTINGS
    from .registry import Circle as Circle
    from .registry import DatasetKind as DatasetKind
    from .registry import LayerKind as LayerKind
    from .registry import Limits as Limits
    from .registry import ParamSpec as ParamSpec
    from .registry import Setting as Setting
    from .registry import ignored_by as ignored_by
    from .registry import layer_kind as layer_kind
    from .registry import reads_file as reads_file
    from .replicas import ReplicaTrainer as ReplicaTrainer
    from .replicas import replica_support as replica_support
    from .results import HIGHER_IS_BETTER as HIGHER_IS_BETTER
    from .results import METRICS as METRICS
    from .results import Band as Band
    from .results import EpochSummary as EpochSummary
    from .results import LayerStats as LayerStats
    from .results import ReplicaEpoch as ReplicaEpoch
    from .results import Status as Status
    from .results import spread as spread
    from .shape import DataShape as DataShape
    from .shape import InputTransform as InputTransform
    from .spec import DataSpec as DataSpec
    from .spec import LayerSpec as LayerSpec
    from .spec import LayerWidths as LayerWidths
    from .spec import RunSpec as RunSpec
    from .spec import SolverSpec as SolverSpec
    from .spec import StopSpec as StopSpec
    from .spec import data_seed as data_seed
    from .spec import data_shape as data_shape
    from .spec import infer_widths as infer_widths
    from .spec import true_boundary as true_boundary
    from .table import ReadCancelled as ReadCancelled
    from .table import Table as Table
    from .table import clear_cache as clear_cache
    from .table import csv_split as csv_split
    from .table import label_column_chooser as label_column_chooser
    from .table import read_for_model as read_for_model
    from .table import read_table as read_table
    from .table import watch_reading as watch_reading
    from .tabular import file_data as file_data
    from .tabular import tabular_spec as tabular_spec
    from .tabular import with_file as with_file
    from .train import Run as Run
    from .train import Trainer as Trainer
    from .train import train_spec as train_spec


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_WHERE))


__all__ = sorted(_WHERE)
