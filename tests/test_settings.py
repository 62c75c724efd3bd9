"""One settings table (registry.SPEC_SETTINGS): the CLI's flags and overrides, the sweep grid and
RunSpec.get / with_setting all read it, so a setting added there works everywhere without
another edit. Checked for every row of the table, not for a few chosen flags."""

from __future__ import annotations

import argparse
import dataclasses
import typing

import pytest

from miniframe.cli.spec_args import GROUPS, add_spec_arguments, spec_from_args
from miniframe.engine import (
    SETTING_AT,
    SETTINGS,
    SPEC_SETTINGS,
    RunSpec,
    Setting,
    SpecError,
    ignored_by,
    load_preset,
    reads_file,
)

#: Spec fields that are not rows of the table, each for a reason the CLI and trainer handle
#: by name: a CSV file's (path, test file, label column), what the data and the solver say
#: about each other (centring goes with the generated data; Nesterov with momentum), and what
#: names a run rather than sets it.
NOT_IN_THE_TABLE = {
    "data.path", "data.test_path", "data.label_column", "data.center", "solver.nesterov",
    "name", "description",
}  # fmt: skip


def spec_fields() -> set[str]:
    """Every field path of a run spec but its layers: ``epochs``, ``solver.lr``, …"""
    out = set()
    for f in dataclasses.fields(RunSpec):
        if f.name == "layers":
            continue
        hint = typing.get_type_hints(RunSpec)[f.name]
        if dataclasses.is_dataclass(hint):
            out |= {f"{f.name}.{g.name}" for g in dataclasses.fields(hint)}
        else:
            out.add(f.name)
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_spec_arguments(p)
    return p


def a_new_value(setting: Setting, base: RunSpec) -> tuple[str | None, object]:
    """A value the setting takes that differs from ``base``'s, as typed and as parsed (None as
    typed: a switch, given by its flag alone)."""
    if setting.switch:
        return None, True
    if setting.number is not None:
        p = setting.number
        value = p.low if not p.low_open else (p.low + min(p.high, p.low + 1)) / 2
        if value == base.get(setting.path):
            value = p.low + 1 if p.type is int else (value + min(p.high, value + 1)) / 2
        return str(value), p.type(value)
    if setting.choices:
        value = next(c for c in reversed(setting.choices)
                     if c != base.get(setting.path) and not reads_file(c))  # fmt: skip
        return value, value
    return "cpu", "cpu"  # free text: the device


def test_the_table_is_every_setting_of_a_spec():
    """A spec field is a row of the table, or one of the named exceptions: a new field cannot
    be forgotten by the CLI and the trainer."""
    assert set(SETTING_AT) | NOT_IN_THE_TABLE == spec_fields()
    assert not set(SETTING_AT) & NOT_IN_THE_TABLE
    assert {s.path: s.number for s in SPEC_SETTINGS if s.number is not None} == SETTINGS
    keys = [s.key for s in SPEC_SETTINGS]
    assert len(keys) == len(set(keys))  # one flag, one trainer field each
    assert {s.group for s in SPEC_SETTINGS} == set(GROUPS)
    for s in SPEC_SETTINGS:
        assert len(s.row_label) <= 14, f"{s.path}: the trainer's label column is 14 wide"
        kinds = [s.number is not None, bool(s.choices), s.switch]
        assert sum(kinds) <= 1, f"{s.path}: a number, a choice or a switch"


@pytest.mark.parametrize("setting", [s for s in SPEC_SETTINGS if s.flag], ids=lambda s: s.key)
def test_each_flag_is_generated_from_its_row_and_sets_its_setting(setting, tmp_path):
    """``--KEY VALUE`` parses as the setting does and lands at its path in the spec (on
    blobs, which take every generated data setting, classes included; on a CSV file for what
    only a file's data read: a flag the data ignore is refused, see test_sweep_checks)."""
    context = [] if setting.key == "dataset" else ["--dataset", "blobs"]
    if ignored_by("blobs", setting.path):
        data = tmp_path / "d.csv"
        data.write_text("a,b,c\n" + "".join(f"{i % 5},{i % 3},{i % 2}\n" for i in range(100)))
        context = ["--data", str(data), "--batch-size", "4"]
    base = spec_from_args(parser().parse_args(context))
    action = {a.dest: a for a in parser()._actions}[setting.key]
    assert setting.flag_name in action.option_strings
    if setting.choices:
        assert list(action.choices) == list(setting.choices)
    typed, value = a_new_value(setting, base)
    argv = [*context, setting.flag_name] + ([] if typed is None else [typed])
    spec = spec_from_args(parser().parse_args(argv))
    assert spec.get(setting.path) == value != base.get(setting.path) or setting.key == "device"
    if setting.number is not None:  # the bounds are the setting's own
        too_big = setting.number.high * 10 + 1
        with pytest.raises(SystemExit):
            parser().parse_args([setting.flag_name, str(too_big)])


def test_rows_without_a_flag_have_none():
    flags = {o for a in parser()._actions for o in a.option_strings}
    for s in SPEC_SETTINGS:
        assert (s.flag_name in flags) == s.flag, s.path


def test_get_and_with_setting_read_and_write_by_path():
    spec = load_preset("quick")
    assert spec.get("solver.lr") == spec.solver.lr and spec.get("epochs") == spec.epochs
    new = spec.with_setting("solver.lr", 0.5).with_setting("data.seed", 7)
    assert (new.solver.lr, new.data.seed, new.epochs) == (0.5, 7, spec.epochs)
    assert spec.solver.lr != 0.5 and spec.data.seed is None  # a copy: the original is as it was
    assert new.with_setting("data.seed", None).data.seed is None  # optional: may be unset
    assert new.with_setting("stop.restore_best", True).stop.restore_best is True
    assert new.with_setting("solver.betas", [0.8, 0.9]).solver.betas == (0.8, 0.9)
    with pytest.raises(SpecError, match=r"solver\.lr: learning rate must be"):
        spec.with_setting("solver.lr", -1.0)
    with pytest.raises(SpecError, match="epochs: epochs must be a whole number"):
        spec.with_setting("epochs", 2.5)
    with pytest.raises(SpecError, match="must be true or false"):
        spec.with_setting("stop.restore_best", "yes")
    with pytest.raises(SpecError, match="epochs"):
        spec.with_setting("epochs", None)  # not optional
    for bad in ("solver.lrr", "nothing", "layers", "solver", "epochs.x"):
        with pytest.raises(KeyError):
            spec.with_setting(bad, 1)
        with pytest.raises(KeyError):
            spec.get(bad)


def test_the_sweep_grid_sets_each_number_through_the_spec():
    from miniframe.sweep import grid_keys, grid_points, parse_grid

    base = load_preset("quick").with_setting("data.name", "blobs")  # blobs take classes
    for key, path in grid_keys().items():
        number, now = SETTINGS[path], base.get(path)
        if now is None:  # unset (no data seed, no stop condition): its lowest value
            value = number.low if not number.low_open else min(number.high, 1) / 2
        else:
            value = now + 1 if number.type is int else (now or min(number.high, 1)) / 2
        points = grid_points(base, parse_grid([f"{key}={value}"]))
        assert points[0].spec.get(path) == value != now
