"""Checkpoints: a trained model and its run spec in one safetensors file.

Tensors are stored as ``layers.{i}.weight`` / ``layers.{i}.bias`` (i = position in the
Sequential); the spec travels as JSON in the file's metadata. safetensors holds raw bytes and a
JSON header, so loading never unpickles (no code runs from a file), and the round trip is
bit-exact. Writes go to a temporary file that is then renamed over the target, so a crash never
leaves a half-written checkpoint in place of a good one.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .module import Sequential
from .spec import RunSpec, SpecError, write_atomic_bytes

FORMAT = "miniframe-checkpoint"
VERSION = "1"


class CheckpointError(ValueError):
    """A file that is not a readable miniframe checkpoint; the message says why."""


def save_checkpoint(path: str | Path, model: Sequential, spec: RunSpec) -> None:
    """Write ``model``'s parameters and ``spec`` to ``path`` atomically."""
    tensors = {}
    for i, m in enumerate(model):
        for name in ("weight", "bias"):
            t = getattr(m, name, None)
            if t is not None:
                tensors[f"layers.{i}.{name}"] = t.detach().cpu().contiguous()
    meta = {"format": FORMAT, "version": VERSION, "spec": json.dumps(spec.to_dict())}
    write_atomic_bytes(Path(path), st_save(tensors, metadata=meta))


def load_checkpoint(path: str | Path) -> tuple[Sequential, RunSpec]:
    """Rebuild the model from the stored spec and copy the stored parameters into it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
    meta = _read_metadata(path, data)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file, but not a miniframe checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {meta.get('version')!r} unsupported")
    try:
        spec = RunSpec.from_dict(json.loads(meta.get("spec", "")), source=f"{path} (spec)")
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: the stored run spec is not valid JSON") from None
    except SpecError as e:
        raise CheckpointError(str(e)) from None
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: corrupt tensor data ({e})") from None
    model = spec.replace(device="cpu").build_model()
    expected = {}
    for i, m in enumerate(model):
        for name in ("weight", "bias"):
            t = getattr(m, name, None)
            if t is not None:
                expected[f"layers.{i}.{name}"] = t
    if set(expected) != set(tensors):
        missing = sorted(set(expected) - set(tensors))
        extra = sorted(set(tensors) - set(expected))
        raise CheckpointError(
            f"{path}: tensors do not match the stored layer stack "
            f"(missing {missing or 'none'}, unexpected {extra or 'none'})"
        )
    for key, target in expected.items():
        src = tensors[key]
        if src.shape != target.shape or src.dtype != target.dtype:
            raise CheckpointError(
                f"{path}: {key} has shape {tuple(src.shape)} {src.dtype}, "
                f"expected {tuple(target.shape)} {target.dtype}"
            )
        target.copy_(src)
    return model, spec


def _read_metadata(path: Path, data: bytes) -> dict[str, str]:
    """The safetensors header: 8-byte little-endian length, then that many bytes of JSON."""
    if len(data) < 8:
        raise CheckpointError(f"{path}: too short to be a checkpoint ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise CheckpointError(f"{path}: truncated or not a safetensors file (bad header length)")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: corrupt header (not a safetensors file?)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt header")
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: corrupt metadata")
    return meta
