"""Shipped and user presets: list, load, and save (atomically) as TOML.

User presets live in ``platformdirs.user_config_dir("miniframe")/presets/*.toml``; tests and
users may point elsewhere with the ``MINIFRAME_CONFIG_DIR`` environment variable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from miniframe.engine.spec import RunSpec, SpecError, atomic_write_text, load_preset, preset_names

CONFIG_ENV = "MINIFRAME_CONFIG_DIR"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def config_dir(override: str | Path | None = None) -> Path:
    """The miniframe config folder: ``override``, else $MINIFRAME_CONFIG_DIR, else
    platformdirs' user config dir."""
    if override is not None:
        return Path(override)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("miniframe"))


def user_preset_dir(override: str | Path | None = None) -> Path:
    """Where user presets are read from and saved to."""
    return config_dir(override) / "presets"


@dataclass(frozen=True)
class PresetEntry:
    """A preset in the picker: shipped (by name) or the user's own (a file)."""

    name: str
    source: str  # "shipped" or "user"
    path: Path | None = None

    @property
    def title(self) -> str:
        return f"{self.name}  ({'built-in' if self.source == 'shipped' else 'yours'})"


def list_presets(override: str | Path | None = None) -> list[PresetEntry]:
    """Shipped presets, then the user's (sorted), without reading the files."""
    entries = [PresetEntry(name, "shipped") for name in preset_names()]
    folder = user_preset_dir(override)
    try:
        files = sorted(folder.glob("*.toml"))
    except OSError:
        files = []
    entries += [PresetEntry(p.stem, "user", p) for p in files]
    return entries


def load_entry(entry: PresetEntry) -> RunSpec:
    """Read a preset; SpecError names the file and the problem."""
    if entry.source == "shipped":
        return load_preset(entry.name)
    assert entry.path is not None
    return RunSpec.load(entry.path)


def find_preset(name: str, override: str | Path | None = None) -> PresetEntry | None:
    """A preset by name, the user's taking precedence over a shipped one of that name."""
    matches = [e for e in list_presets(override) if e.name == name]
    return matches[-1] if matches else None


def check_name(name: str) -> str:
    """A valid preset file name, or ValueError explaining which characters are allowed."""
    name = name.strip()
    if name.endswith(".toml"):
        name = name[: -len(".toml")]
    if not _NAME_RE.match(name):
        raise ValueError(
            "preset names use letters, digits, '-', '_' and '.', start with a letter or "
            "digit, and have at most 64 characters"
        )
    return name


def save_user_preset(name: str, spec: RunSpec, override: str | Path | None = None) -> Path:
    """Write ``spec`` as ``<name>.toml`` in the user preset folder (tmp file + os.replace)."""
    name = check_name(name)
    spec.validate()
    path = user_preset_dir(override) / f"{name}.toml"
    atomic_write_text(path, spec.replace(name=name).to_toml())
    return path


__all__ = [
    "CONFIG_ENV",
    "PresetEntry",
    "SpecError",
    "check_name",
    "config_dir",
    "find_preset",
    "list_presets",
    "load_entry",
    "save_user_preset",
    "user_preset_dir",
]
