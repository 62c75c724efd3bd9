"""Checkpoints: a trained model, its run spec and its epoch in one safetensors file.

Tensors are stored as ``layers.{i}.weight`` / ``layers.{i}.bias`` (i = position in the
Sequential); the spec travels as JSON in the file's metadata, with the epoch the weights come
from (the best one when ``restore_best`` put its weights back, else the last trained), the data
the model was trained for (its :class:`~.shape.DataShape`: inputs, classes and their names,
where the labels were) and its :class:`~.shape.InputTransform` (centring, or the training set's
mean and standard deviation), and a SHA-256 checksum over all of them. ``evaluate`` and
``predict`` read new inputs with these, without the training data. safetensors holds raw
bytes and a JSON header, so loading never unpickles (no code runs from a file), and the round
trip is bit-exact. Writes are atomic
(:func:`~.files.write_atomic_bytes`): a crash never leaves half a checkpoint in place of one.

A file is checked before anything is allocated for it: its size against
:data:`~.registry.LIMITS`, its spec (whose limits bound the model), every tensor's name, dtype,
shape and position against that spec, and the checksum, which covers the spec, the epoch, the
data description and every tensor byte (a flipped byte anywhere in them is caught).
:func:`inspect_checkpoint` does all of that without torch, so the trainer can refuse a bad file
before its screen is drawn; :func:`load_checkpoint` then builds the model (torch is imported
there, not at module import).

Version 1 files (miniframe 0.1, no epoch, no checksum) still load, with an
:class:`UnverifiedCheckpointWarning`: they cannot be verified, and saving them again adds the
checksum. Version 2 files (no data metadata) load too: their data were always a generated
dataset, whose shape and transform follow from the spec.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .documents import DocumentError, load_json
from .errors import FileError, SpecError
from .files import read_bytes_limited, write_atomic_bytes
from .plurals import plural
from .registry import DATASETS, LAYERS, LIMITS
from .shape import DataShape, InputTransform
from .spec import RunSpec

if TYPE_CHECKING:
    from torch import Tensor

    from .module import Sequential

FORMAT = "miniframe-checkpoint"
VERSION = "3"  # 2: epoch and sha256 in the metadata; 3: the data shape and input transform
CHECKED_VERSIONS = ("2", VERSION)  # versions with a checksum
UNVERIFIED_VERSIONS = ("1",)
_DTYPES = {"F32": "float32", "F64": "float64", "F16": "float16", "BF16": "bfloat16",
           "I64": "int64", "I32": "int32", "U8": "uint8", "BOOL": "bool"}  # fmt: skip


class CheckpointError(ValueError):
    """A file that is not a readable miniframe checkpoint; the message says why."""


class UnverifiedCheckpointWarning(UserWarning):
    """A checkpoint saved without a checksum (version 1): loaded, but not verified."""


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint holds, verified: its spec, the epoch its weights come from (0 for a
    version-1 file, which did not store it), its format version;
    ``verified`` is False only for a version-1 file (no checksum to check). ``shape`` and
    ``transform``: the data the model was trained for and what its inputs go through."""

    path: Path
    spec: RunSpec
    epoch: int
    version: str
    verified: bool
    n_params: int
    size: int
    shape: DataShape
    transform: InputTransform


def tensor_shapes(spec: RunSpec, shape: DataShape | None = None) -> dict[str, tuple[int, ...]]:
    """The tensors a checkpoint of ``spec`` holds, by name, with their shapes (for data of
    ``shape``; default the spec's data)."""
    shapes: dict[str, tuple[int, ...]] = {}
    widths = spec.layer_widths(shape)
    for i, (layer, (w_in, w_out)) in enumerate(zip(spec.layers, widths, strict=True)):
        if LAYERS[layer.kind].has_weights:
            shapes[f"layers.{i}.weight"] = (w_out, w_in)
            shapes[f"layers.{i}.bias"] = (w_out,)
    return shapes


def state_dict(model: Sequential) -> dict[str, Tensor]:
    """The model's parameters by checkpoint name (the very tensors, not copies)."""
    out = {}
    for i, m in enumerate(model):
        for name in ("weight", "bias"):
            t = getattr(m, name, None)
            if t is not None:
                out[f"layers.{i}.{name}"] = t
    return out


def _checksum(
    spec_json: str, epoch: int, tensors: dict[str, memoryview], data_json: str | None = None
) -> str:
    """SHA-256 over the spec text, the epoch, the data text (version 3) and each tensor's
    name and bytes (by name)."""
    h = hashlib.sha256()
    h.update(spec_json.encode("utf-8") + b"\0" + str(epoch).encode() + b"\0")
    if data_json is not None:
        h.update(data_json.encode("utf-8") + b"\0")
    for name in sorted(tensors):
        h.update(name.encode() + b"\0")
        h.update(tensors[name])
    return h.hexdigest()


# ---- saving -----------------------------------------------------------------------------------
def save_checkpoint(
    path: str | Path,
    model: Sequential,
    spec: RunSpec,
    *,
    epoch: int = 0,
    shape: DataShape | None = None,
    transform: InputTransform | None = None,
) -> None:
    """Write ``model``'s parameters, ``spec``, the ``epoch`` they come from, the data
    ``shape`` and the input ``transform`` to ``path`` atomically (a :class:`~.train.Run`
    passes its own; by default they are worked out from the spec's data again, which reads a
    CSV file)."""
    from safetensors.torch import save as st_save

    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be a whole number ≥ 0, got {epoch!r}")
    if shape is None:
        shape = spec.shape()
    if transform is None:
        from .build import build_transform

        transform = build_transform(spec)
    tensors = {k: t.detach().cpu().contiguous() for k, t in state_dict(model).items()}
    spec_json = json.dumps(spec.to_dict(), allow_nan=False)
    data_json = json.dumps(
        {"shape": shape.to_dict(), "transform": transform.to_dict()}, allow_nan=False
    )
    meta = {
        "format": FORMAT, "version": VERSION, "spec": spec_json, "epoch": str(epoch),
        "data": data_json,
    }  # fmt: skip
    # The checksum covers the tensor bytes as stored: serialise once to read them back from
    # the file layout, then again with the checksum in the header (the data part is the same).
    draft = st_save(tensors, metadata=meta)
    header, offset = _header(Path(path), draft)
    meta["sha256"] = _checksum(spec_json, epoch, _tensor_bytes(draft, header, offset), data_json)
    write_atomic_bytes(path, st_save(tensors, metadata=meta))


# ---- reading ----------------------------------------------------------------------------------
def inspect_checkpoint(path: str | Path) -> CheckpointInfo:
    """Read and verify a checkpoint without torch: CheckpointError says what is wrong."""
    return _inspect(Path(path))[0]


def read_checkpoint(path: str | Path) -> tuple[Sequential, CheckpointInfo]:
    """The stored model (on the CPU) and what :func:`inspect_checkpoint` says of the file."""
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    from .build import build_model

    info, data = _inspect(Path(path))
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: corrupt tensor data ({e})") from None
    model = build_model(info.spec.replace(device="cpu"), shape=info.shape)
    for key, target in state_dict(model).items():
        src = tensors[key]
        if src.shape != target.shape or src.dtype != target.dtype:  # checked from the header
            raise CheckpointError(f"{path}: {key} does not match its header")
        target.copy_(src)
    if not info.verified:
        warnings.warn(
            UnverifiedCheckpointWarning(
                f"{path}: saved without a checksum (checkpoint version {info.version}), so its "
                "tensors cannot be verified; save it again to add one"
            ),
            stacklevel=2,
        )
    return model, info


def load_checkpoint(path: str | Path) -> tuple[Sequential, RunSpec]:
    """Rebuild the model from the stored spec, with the stored parameters in it."""
    model, info = read_checkpoint(path)
    return model, info.spec


def _inspect(path: Path) -> tuple[CheckpointInfo, bytes]:
    try:
        data = read_bytes_limited(path, LIMITS.max_checkpoint_bytes, "checkpoint")
    except FileError as e:
        raise CheckpointError(str(e)) from None
    header, offset = _header(path, data)
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file, but not a miniframe checkpoint")
    version = meta.get("version")
    if version not in CHECKED_VERSIONS and version not in UNVERIFIED_VERSIONS:
        raise CheckpointError(f"{path}: checkpoint version {str(version)[:20]!r} unsupported")
    spec_json = meta.get("spec")
    if not isinstance(spec_json, str):
        raise CheckpointError(f"{path}: the stored run spec is not JSON text")
    data_json = meta.get("data") if version == VERSION else None
    shape, transform = _data_meta(path, data_json, spec_json)
    try:
        spec = RunSpec.from_json(spec_json, source=f"{path} (spec)", shape=shape)
    except SpecError as e:
        raise CheckpointError(str(e)) from None
    if shape is None:  # before version 3: generated data, whose shape the spec states
        shape = spec.shape()
    if transform is None:
        transform = InputTransform("center") if spec.data.center else InputTransform()
    epoch = 0
    if version in CHECKED_VERSIONS:
        text = meta.get("epoch")
        if not (isinstance(text, str) and text.isdigit() and len(text) <= 12):
            raise CheckpointError(f"{path}: the stored epoch is not a whole number")
        epoch = int(text)
    _check_tensors(path, header, spec, shape, len(data) - offset)
    verified = False
    if version in CHECKED_VERSIONS:
        stored = meta.get("sha256")
        actual = _checksum(spec_json, epoch, _tensor_bytes(data, header, offset), data_json)
        if stored != actual:
            raise CheckpointError(
                f"{path}: the checksum does not match: the file is corrupt (or was edited)"
            )
        verified = True
    n_params = sum(math.prod(e["shape"]) for e in header.values())
    info = CheckpointInfo(
        path, spec, epoch, str(version), verified, n_params, len(data), shape, transform
    )
    return info, data


def _data_meta(
    path: Path, data_json: object, spec_json: str
) -> tuple[DataShape | None, InputTransform | None]:
    """The stored data shape and input transform, checked; (None, None) for a file without
    them (before version 3), whose data must then be generated (their shape follows from the
    spec). The checksum of a version-3 file covers the data text: it cannot be dropped."""
    if data_json is None:
        try:  # only generated data existed then: a csv spec would be a file edited by hand
            name = load_json(spec_json).get("data", {}).get("name")
        except (ValueError, AttributeError):
            name = None
        if isinstance(name, str) and name in DATASETS and DATASETS[name].from_file:
            raise CheckpointError(f"{path}: a checkpoint of CSV data without its data metadata")
        return None, None
    if not isinstance(data_json, str):
        raise CheckpointError(f"{path}: the stored data description is not JSON text")
    try:
        raw = load_json(data_json)
        shape = DataShape.from_dict(raw.get("shape") if isinstance(raw, dict) else None)
        transform = InputTransform.from_dict(raw.get("transform"), shape.n_inputs)
    except ValueError as e:  # DocumentError too
        raise CheckpointError(f"{path}: corrupt data description ({e})") from None
    return shape, transform


def _header(path: Path, data: bytes) -> tuple[dict[str, Any], int]:
    """The safetensors header (8-byte little-endian length, then that much JSON) and the
    offset at which the tensor data starts."""
    if len(data) < 8:
        raise CheckpointError(f"{path}: too short to be a checkpoint ({plural(len(data), 'byte')})")
    (n,) = struct.unpack("<Q", data[:8])
    if n > LIMITS.max_header_bytes:
        raise CheckpointError(f"{path}: not a checkpoint (a header of {n:,} bytes)")
    if n > len(data) - 8:
        raise CheckpointError(f"{path}: truncated or not a safetensors file (bad header length)")
    try:
        header = load_json(data[8 : 8 + n].decode("utf-8"))
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: corrupt header (not a safetensors file?)") from None
    except DocumentError as e:
        why = "not a safetensors file?" if str(e).startswith("not valid JSON") else str(e)
        raise CheckpointError(f"{path}: corrupt header ({why})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt header")
    return header, 8 + n


def _check_tensors(
    path: Path, header: dict[str, Any], spec: RunSpec, data: DataShape, data_len: int
) -> None:
    """Every tensor the spec implies (for ``data``), and no other, with its dtype, shape and a
    place in the data that together tile it exactly: checked before anything is allocated."""
    expected = tensor_shapes(spec, data)
    if set(expected) != set(header):
        missing = sorted(set(expected) - set(header))
        extra = sorted(str(k)[:60] for k in set(header) - set(expected))[:10]
        raise CheckpointError(
            f"{path}: tensors do not match the stored layer stack "
            f"(missing {missing or 'none'}, unexpected {extra or 'none'})"
        )
    spans = []
    for key, shape in expected.items():
        entry = header[key]
        if not isinstance(entry, dict):
            raise CheckpointError(f"{path}: corrupt header entry for {key}")
        dtype, stored, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if not (isinstance(stored, list) and all(type(d) is int and d >= 0 for d in stored)):
            raise CheckpointError(f"{path}: corrupt shape for {key}")
        if dtype != "F32" or tuple(stored) != shape:
            name = _DTYPES.get(str(dtype), str(dtype)[:20])
            raise CheckpointError(
                f"{path}: {key} has shape {tuple(stored)} {name}, expected {shape} float32"
            )
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(o) is int for o in offsets)
            and offsets[1] - offsets[0] == 4 * math.prod(shape)
        ):
            raise CheckpointError(f"{path}: corrupt data offsets for {key}")
        spans.append((offsets[0], offsets[1]))
    end = 0
    for begin, stop in sorted(spans):
        if begin != end:
            raise CheckpointError(f"{path}: corrupt data offsets (gap or overlap at {begin})")
        end = stop
    if end != data_len:
        raise CheckpointError(f"{path}: truncated or padded tensor data")


def _tensor_bytes(data: bytes, header: dict[str, Any], offset: int) -> dict[str, memoryview]:
    view = memoryview(data)
    return {
        k: view[offset + e["data_offsets"][0] : offset + e["data_offsets"][1]]
        for k, e in header.items()
        if k != "__metadata__"
    }
