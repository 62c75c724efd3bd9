"""Type-check miniframe with mypy, as it is installed: ``python tools/typecheck.py [mypy args]``.

pyproject.toml maps top-level folders into the package (``engine/`` is ``miniframe.engine``,
``tui/`` is ``miniframe.tui``). The editable install resolves that with an import hook, which
mypy cannot follow (it reads source paths, not hooks), and ``mypy engine/`` would check a
package called ``engine``. So this script lays the installed layout out as a tree of symbolic
links in ``.venv/mypy-tree`` (rebuilt from ``[tool.setuptools]`` each run, so new modules are
seen at once), runs mypy there with the ``[tool.mypy]`` settings, and prints mypy's messages
with the repository's own paths (``engine/spec.py:12: error: ...``).

What is checked is ``[tool.mypy] packages`` / ``modules`` in pyproject.toml.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / ".venv" / "mypy-tree"


def source_dirs() -> dict[str, Path]:
    """Each installed package and the folder its modules come from."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tool = config["tool"]["setuptools"]
    mapping: dict[str, str] = tool.get("package-dir", {})
    out = {}
    for package in tool["packages"]:
        parent = max((p for p in mapping if package == p or package.startswith(p + ".")), key=len)
        rest = package[len(parent) :].lstrip(".").replace(".", "/")
        out[package] = ROOT / mapping[parent] / rest
    return out


def build_tree() -> dict[str, str]:
    """Link every module into TREE; the tree prefix → repository prefix of each package."""
    shutil.rmtree(TREE / "miniframe", ignore_errors=True)
    prefixes = {}
    for package, folder in source_dirs().items():
        dest = TREE / package.replace(".", "/")
        dest.mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            if path.suffix in (".py", ".pyi") or path.name == "py.typed":
                (dest / path.name).symlink_to(path)
        prefixes[package.replace(".", "/") + "/"] = folder.relative_to(ROOT).as_posix() + "/"
    return prefixes


def main(argv: list[str]) -> int:
    prefixes = build_tree()
    # Longest first, so miniframe/engine/ is rewritten before miniframe/.
    order = sorted(prefixes, key=len, reverse=True)
    pattern = re.compile("^(" + "|".join(re.escape(p) for p in order) + ")")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *argv],
        cwd=TREE,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in (result.stdout + result.stderr).splitlines():
        print(pattern.sub(lambda m: prefixes[m.group(1)], line))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
