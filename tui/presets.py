"""The trainer's view of the engine's preset store (:mod:`miniframe.engine.presets`): one store
for the CLI and the trainer, so a preset saved here is ``miniframe train --preset NAME`` there.

User presets live in ``platformdirs.user_config_dir("miniframe")/presets/*.toml``; tests and
users may point elsewhere with the ``MINIFRAME_CONFIG_DIR`` environment variable.
"""

from __future__ import annotations

from miniframe.engine import (
    CONFIG_ENV,
    Origin,
    PresetExistsError,
    SpecError,
    check_name,
    config_dir,
    find_preset,
    list_presets,
    load_entry,
    save_user_preset,
    user_preset_dir,
)
from miniframe.engine import Preset as PresetEntry

__all__ = [
    "CONFIG_ENV",
    "Origin",
    "PresetEntry",
    "PresetExistsError",
    "SpecError",
    "check_name",
    "config_dir",
    "find_preset",
    "list_presets",
    "load_entry",
    "save_user_preset",
    "user_preset_dir",
]
