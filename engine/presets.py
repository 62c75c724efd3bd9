"""Presets: the shipped ones and the user's own, one store for the CLI and the trainer.

Built-in presets are TOML files in the ``miniframe.presets`` package. The user's live in
``platformdirs.user_config_dir("miniframe")/presets/*.toml`` (``$MINIFRAME_CONFIG_DIR/presets``
when that variable is set). A name means one preset: the user's file if there is one (it
*shadows* the built-in of that name), else the built-in. Saving never replaces a file or hides
a built-in silently: :func:`save_user_preset` raises :class:`PresetExistsError` unless the
caller says ``overwrite=True`` / ``shadow=True`` (a UI turns the error into a question).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

from .errors import SpecError
from .files import write_atomic_text
from .registry import LIMITS
from .spec import RunSpec

CONFIG_ENV = "MINIFRAME_CONFIG_DIR"
_PACKAGE = "miniframe.presets"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Origin(StrEnum):
    BUILTIN = "built-in"
    USER = "user"


class PresetExistsError(ValueError):
    """Saving would replace the user's file (``reason`` "file") or hide a built-in preset
    (``reason`` "builtin"); call again with ``overwrite=True`` / ``shadow=True`` to do it."""

    def __init__(self, name: str, path: Path, reason: str) -> None:
        self.name, self.path, self.reason = name, path, reason
        if reason == "file":
            text = f"a preset named {name!r} already exists ({path}); overwrite it?"
        else:
            text = f"{name!r} is a built-in preset; yours would hide it. Save anyway?"
        super().__init__(text)


@dataclass(frozen=True)
class Preset:
    """A preset by name: built-in, or the user's file (``shadows``: hiding a built-in)."""

    name: str
    origin: Origin
    path: Path | None = None
    shadows: bool = False

    @property
    def where(self) -> str:
        """``built-in``, ``yours`` or ``yours, shadows built-in``."""
        if self.origin is Origin.BUILTIN:
            return "built-in"
        return "yours, shadows built-in" if self.shadows else "yours"

    @property
    def title(self) -> str:
        return f"{self.name}  ({self.where})"


# ---- where they live ------------------------------------------------------------------------
def config_dir(override: str | Path | None = None) -> Path:
    """The miniframe config folder: ``override``, else ``$MINIFRAME_CONFIG_DIR``, else
    platformdirs' user config folder."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("miniframe"))


def user_preset_dir(override: str | Path | None = None) -> Path:
    """Where user presets are read from and saved to."""
    return config_dir(override) / "presets"


def builtin_names() -> list[str]:
    """The shipped presets' names, sorted."""
    folder = resources.files(_PACKAGE)
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if _is_preset_file(p.name))


def _is_preset_file(name: str) -> bool:
    """``NAME.toml``, not hidden: ``.toml``, ``.mine.toml`` and editors' ``.#x.toml`` are not
    presets (nor could ``--preset`` name the first)."""
    return name.endswith(".toml") and not name.startswith(".")


def _user_files(override: str | Path | None) -> dict[str, Path]:
    try:
        files = sorted(user_preset_dir(override).glob("*.toml"))
    except OSError:
        return {}
    return {p.name[: -len(".toml")]: p for p in files if _is_preset_file(p.name)}


# ---- listing and loading --------------------------------------------------------------------
def list_presets(override: str | Path | None = None) -> list[Preset]:
    """Every preset name once: the built-ins (yours where you shadow one), then yours."""
    builtin = builtin_names()
    user = _user_files(override)
    entries = [
        Preset(n, Origin.USER, user[n], shadows=True) if n in user else Preset(n, Origin.BUILTIN)
        for n in builtin
    ]
    return entries + [Preset(n, Origin.USER, p) for n, p in user.items() if n not in builtin]


def preset_names(override: str | Path | None = None) -> list[str]:
    """Every preset name once (built-in and yours), in :func:`list_presets` order."""
    return [p.name for p in list_presets(override)]


def find_preset(name: str, override: str | Path | None = None) -> Preset | None:
    """The preset ``name`` means: the user's file if there is one, else the built-in."""
    return next((p for p in list_presets(override) if p.name == name), None)


def load_entry(entry: Preset) -> RunSpec:
    """Read a preset; SpecError names the file (or built-in) and the problem."""
    if entry.origin is Origin.BUILTIN:
        text = resources.files(_PACKAGE).joinpath(f"{entry.name}.toml").read_text("utf-8")
        return RunSpec.from_toml(text, source=f"preset {entry.name}")
    if entry.path is None:
        raise SpecError(f"preset {entry.name}: no file")
    return RunSpec.load(entry.path)


def load_preset(name: str, override: str | Path | None = None) -> RunSpec:
    """A preset by name (yours before a built-in); SpecError for an unknown or empty name,
    listing each known name once, with its origin when it is yours."""
    if not name:
        raise SpecError("empty preset name")
    entry = find_preset(name, override)
    if entry is None:
        names = ", ".join(
            p.name if p.origin is Origin.BUILTIN else f"{p.name} ({p.where})"
            for p in list_presets(override)
        )
        raise SpecError(f"unknown preset {name[:100]!r}; choose one of {names}")
    return load_entry(entry)


def load_builtin(name: str) -> RunSpec:
    """A shipped preset, whatever the user's folder holds (e.g. Table I's own networks)."""
    if name not in builtin_names():
        raise SpecError(f"unknown built-in preset {name[:100]!r}; choose one of "
                        f"{', '.join(builtin_names())}")  # fmt: skip
    return load_entry(Preset(name, Origin.BUILTIN))


# ---- saving -----------------------------------------------------------------------------------
def check_name(name: str) -> str:
    """A valid preset file name (``.toml`` dropped), or ValueError saying what is allowed."""
    name = name.strip()
    if name.endswith(".toml"):
        name = name[: -len(".toml")]
    if not _NAME_RE.match(name):
        raise ValueError(
            "preset names use letters, digits, '-', '_' and '.', start with a letter or "
            "digit, and have at most 64 characters"
        )
    return name


def save_user_preset(
    name: str,
    spec: RunSpec,
    override: str | Path | None = None,
    *,
    overwrite: bool = False,
    shadow: bool = False,
) -> Path:
    """Write ``spec`` as ``<name>.toml`` in the user preset folder, atomically.

    PresetExistsError when that file exists (unless ``overwrite``) or ``name`` is a built-in
    preset the new file would hide (unless ``shadow``); SpecError for an invalid spec.
    """
    name = check_name(name)
    spec = spec.replace(name=name)
    spec.validate()
    path = user_preset_dir(override) / f"{name}.toml"
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise PresetExistsError(name, path, "file")
    elif name in builtin_names() and not shadow:
        raise PresetExistsError(name, path, "builtin")
    text = spec.to_toml()
    if len(text.encode("utf-8")) > LIMITS.max_spec_bytes:
        raise SpecError(f"preset {name}: too large to save")
    write_atomic_text(path, text)
    return path
