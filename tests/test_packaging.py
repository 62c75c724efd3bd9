"""The wheel: the package-dir mapping puts engine/, tui/ and presets/ under miniframe/, and
nothing from the repository's top level leaks in."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = (".venv", ".lock-venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
        ".hypothesis")  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Build from a copy of the working tree, so the build leaves nothing in the repository."""
    tmp = tmp_path_factory.mktemp("wheel")
    src, out = tmp / "src", tmp / "dist"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*SKIP))
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check"]
    result = subprocess.run(
        [*cmd, "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = list(out.glob("miniframe-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def names(wheel):
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def dist_info_file(wheel, names, filename):
    (path,) = [n for n in names if n.endswith(f".dist-info/{filename}")]
    with zipfile.ZipFile(wheel) as z:
        return z.read(path).decode("utf-8")


@pytest.mark.parametrize(
    "path",
    [
        "miniframe/__init__.py",
        "miniframe/__main__.py",
        "miniframe/cli/__init__.py",
        "miniframe/cli/train.py",
        "miniframe/reproduce.py",
        "miniframe/engine/registry.py",
        "miniframe/engine/__init__.py",
        "miniframe/engine/layers.py",
        "miniframe/tui/__init__.py",
        "miniframe/tui/web/page.html",
        "miniframe/presets/__init__.py",
        "miniframe/presets/vanilla.toml",
        "miniframe/presets/deep.toml",
        "miniframe/presets/quick.toml",
    ],
)
def test_wheel_contains(names, path):
    assert path in names, sorted(names)


def test_wheel_has_every_engine_cli_runs_sweep_tui_and_preset_file(names):
    expected = {f"miniframe/engine/{p.name}" for p in (ROOT / "engine").glob("*.py")}
    for package in ("cli", "runs", "sweep"):
        folder = ROOT / "miniframe" / package
        expected |= {f"miniframe/{package}/{p.name}" for p in folder.glob("*.py")}
    expected |= {f"miniframe/presets/{p.name}" for p in (ROOT / "presets").glob("*.toml")}
    for p in (ROOT / "tui").rglob("*"):
        if p.suffix in (".py", ".tcss", ".html") and "__pycache__" not in p.parts:
            expected.add("miniframe/tui/" + p.relative_to(ROOT / "tui").as_posix())
    assert expected - names == set()


def test_wheel_has_no_stray_top_level_entries(names):
    tops = {n.split("/", 1)[0] for n in names}
    assert {"engine", "tui", "presets", "tests"}.isdisjoint(tops), sorted(tops)
    assert all(t == "miniframe" or t.endswith(".dist-info") for t in tops), sorted(tops)
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_entry_points(wheel, names):
    text = dist_info_file(wheel, names, "entry_points.txt")
    assert "[console_scripts]" in text
    assert "miniframe = miniframe.cli:main" in text
    assert "miniframe-tui = miniframe.tui.__main__:main" in text


def test_metadata(wheel, names):
    text = dist_info_file(wheel, names, "METADATA")
    assert "Name: miniframe" in text
    assert "Requires-Dist: torch" in text
    assert "Requires-Dist: safetensors" in text
    assert "Requires-Dist: tomli-w" in text
    assert "Provides-Extra: dask" in text
    assert "Provides-Extra: web" in text  # miniframe-tui --serve
    assert "textual-serve" in text and 'extra == "web"' in text


def test_unpacked_wheel_imports_and_reads_presets(wheel, tmp_path):
    """The installed layout works: the engine imports and presets load as package data."""
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path)
    code = (
        "import miniframe, miniframe.engine.layers\n"
        "from miniframe.engine import load_preset, preset_names\n"
        f"assert miniframe.__file__.startswith({str(tmp_path)!r}), miniframe.__file__\n"
        "assert {'vanilla', 'deep', 'quick'} <= set(preset_names()), preset_names()\n"
        "assert load_preset('deep').loss == 'cross-entropy'\n"
        "print('OK')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
