"""The command line: --help, --version, bad arguments (exit 2, one line), no torch on import."""

from __future__ import annotations

import subprocess
import sys

import pytest


def cli(*args: str, env_dir: str | None = None) -> subprocess.CompletedProcess[str]:
    env = None
    if env_dir:
        import os

        env = {**os.environ, "MINIFRAME_CONFIG_DIR": env_dir}
    return subprocess.run(
        [sys.executable, "-m", "miniframe.tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_importing_the_tui_does_not_import_torch() -> None:
    code = (
        "import sys, miniframe.tui, miniframe.tui.app, miniframe.tui.__main__\n"
        "from miniframe.tui.app import TrainerApp\n"
        "TrainerApp()\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_help_and_version() -> None:
    out = cli("--help")
    assert out.returncode == 0 and "--preset" in out.stdout and "--checkpoint" in out.stdout
    from miniframe import __version__

    out = cli("--version")
    assert out.returncode == 0 and __version__ in out.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--config", "/no/such/file.toml"], "no such file"),
        (["--checkpoint", "/no/such/model.safetensors"], "no such file"),
        (["--theme", "neon"], "unknown theme"),
        (["--bogus"], "unrecognized arguments"),
        (["--preset", "quick", "--config", "x.toml"], "not allowed with"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, needle, tmp_path) -> None:
    out = cli(*args, env_dir=str(tmp_path))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_malformed_config_exits_2_naming_the_file(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("epochs = [\n")
    out = cli("--config", str(bad), env_dir=str(tmp_path))
    assert out.returncode == 2 and "bad.toml" in out.stderr and "Traceback" not in out.stderr
