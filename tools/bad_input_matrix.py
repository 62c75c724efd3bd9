# ruff: noqa: E501  (the case table reads best one case per line)
"""Run the CLI's bad-input matrix and print it as a Markdown table: case, exit status, the
message seen (first stderr line), and whether anything already on disk changed.

Not a test (the regression tests live in tests/): a way to see, in one place, what a user
gets for each kind of bad input. Usage: ``python tools/bad_input_matrix.py`` (about a minute).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

Case = tuple[str, list[str], Callable[[Path], None] | None]


def _write(name: str, text: str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        (folder / name).write_text(text)

    return setup


def _write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        (folder / name).write_bytes(data)

    return setup


def _fifo(name: str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        os.mkfifo(folder / name)

    return setup


def _flipped_checkpoint(folder: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "miniframe", "train", "--preset", "quick", "--epochs", "1",
         "--save", str(folder / "good.safetensors")],
        check=True, capture_output=True,
    )  # fmt: skip
    data = bytearray((folder / "good.safetensors").read_bytes())
    data[-5] ^= 0x40  # one bit of the last tensor's bytes
    (folder / "flipped.safetensors").write_bytes(bytes(data))


def _huge_units_checkpoint(folder: Path) -> None:
    _flipped_checkpoint(folder)
    data = (folder / "good.safetensors").read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = data[8 : 8 + n].decode()
    import json

    meta = json.loads(header)
    spec = json.loads(meta["__metadata__"]["spec"])
    spec["layers"][0]["units"] = 10**9
    meta["__metadata__"]["spec"] = json.dumps(spec)
    new = json.dumps(meta).encode()
    (folder / "huge.safetensors").write_bytes(len(new).to_bytes(8, "little") + new + data[8 + n :])


def _both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        for step in setups:
            step(folder)

    return setup


ROWS = "x,y,c\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(40))


def _miniframe(folder: Path, *argv: str) -> None:
    env = dict(os.environ, MINIFRAME_DATA_DIR=str(folder / "data"))
    subprocess.run([sys.executable, "-m", "miniframe", *argv], cwd=folder, env=env, check=True,
                   capture_output=True)  # fmt: skip


def _trained(folder: Path) -> None:
    """d.csv and m.safetensors, a model trained on it."""
    (folder / "d.csv").write_text(ROWS)
    _miniframe(folder, "train", "--preset", "quick", "--epochs", "1", "--data", "d.csv",
               "--save", "m.safetensors", "--no-record")  # fmt: skip


def _recorded(folder: Path) -> None:
    """A run history (data/runs.sqlite3) with one run in it."""
    _miniframe(folder, "train", "--preset", "quick", "--epochs", "1")


def _link(name: str, target: str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        os.symlink(target, folder / name)

    return setup


T = ["train", "--no-record", "--epochs", "1"]
CASES: list[Case] = [
    ("deeply nested JSON config", [*T, "--config", "deep.json"], _write("deep.json", "[" * 100000 + "]" * 100000)),
    ("deeply nested TOML config", [*T, "--config", "deep.toml"], _write("deep.toml", "a = " + "[" * 100000 + "]" * 100000)),
    ("config is a FIFO", [*T, "--config", "pipe.toml"], _fifo("pipe.toml")),
    ("config is /dev/zero", [*T, "--config", "/dev/zero"], None),
    ("empty --config ''", [*T, "--config", ""], None),
    ("empty --preset ''", [*T, "--preset", ""], None),
    ("unknown preset", [*T, "--preset", "nosuch"], None),
    ("units = 10**30 in JSON", [*T, "--config", "big.json"], _write("big.json", '{"layers": [{"kind": "linear", "units": 1000000000000000000000000000000}, {"kind": "relu"}, {"kind": "linear", "units": 2}]}')),
    ("units = 10**9 in TOML", [*T, "--config", "big.toml"], _write("big.toml", '[[layers]]\nkind = "linear"\nunits = 1000000000\n[[layers]]\nkind = "linear"\nunits = 2\n')),
    ("--lr 1e40", [*T, "--preset", "quick", "--lr", "1e40"], None),
    ("--lr nan", [*T, "--preset", "quick", "--lr", "nan"], None),
    ("--seed 2**63", [*T, "--preset", "quick", "--seed", str(2**63)], None),
    ("--seed 10**20", [*T, "--preset", "quick", "--seed", str(10**20)], None),
    ("--threads 3e9", [*T, "--preset", "quick", "--threads", "3e9"], None),
    ("--threads 100000", [*T, "--preset", "quick", "--threads", "100000"], None),
    ("--save onto a FIFO", [*T, "--preset", "quick", "--save", "out.fifo"], _fifo("out.fifo")),
    ("--save /dev/null", [*T, "--preset", "quick", "--save", "/dev/null"], None),
    ("--save ''", [*T, "--preset", "quick", "--save", ""], None),
    ("--save into a missing folder", [*T, "--preset", "quick", "--save", "nodir/m.safetensors"], None),
    ("evaluate /dev/zero", ["evaluate", "/dev/zero"], None),
    ("evaluate a truncated checkpoint", ["evaluate", "trunc.safetensors"], _write_bytes("trunc.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{")),
    ("evaluate a flipped tensor byte", ["evaluate", "flipped.safetensors"], _flipped_checkpoint),
    ("evaluate a checkpoint with units 10**9", ["evaluate", "huge.safetensors"], _huge_units_checkpoint),
    ("evaluate --n 1e9", ["evaluate", "good.safetensors", "--n", "1000000000"], _flipped_checkpoint),
    ("CSV: typo in first data row", [*T, "--preset", "quick", "--data", "typo.csv"], _write("typo.csv", "0.5,0..3,1\n0.1,0.2,0\n0.3,0.1,1\n")),
    ("CSV: 1_0 as a number", [*T, "--preset", "quick", "--data", "under.csv"], _write("under.csv", "x,y,c\n1_0,2,0\n1,2,1\n")),
    ("CSV: label >= 2**63", [*T, "--preset", "quick", "--data", "lab.csv"], _write("lab.csv", "x,y,c\n" + "".join(f"{i},{i % 3},{2**63 if i % 2 else 0}\n" for i in range(20)))),
    ("CSV: one class", [*T, "--preset", "quick", "--data", "one.csv"], _write("one.csv", "x,y,c\n1,2,0\n1,3,0\n2,2,0\n")),
    ("CSV: empty file", [*T, "--preset", "quick", "--data", "empty.csv"], _write("empty.csv", "")),
    ("CSV: NaN value", [*T, "--preset", "quick", "--data", "nan.csv"], _write("nan.csv", "x,y,c\n1,nan,0\n1,3,1\n2,2,0\n3,3,1\n")),
    ("bench --json onto a folder", ["bench", "--quick", "--json", "."], None),
    # 1. an output never replaces an input or the run history
    ("predict -o onto its input", ["predict", "m.safetensors", "d.csv", "-o", "d.csv"], _trained),
    ("predict -o onto its input via ./", ["predict", "m.safetensors", "d.csv", "-o", "./d.csv"], _trained),
    ("predict -o onto its model", ["predict", "m.safetensors", "d.csv", "-o", "m.safetensors"], _trained),
    ("predict -o onto a link to its input", ["predict", "m.safetensors", "d.csv", "-o", "l.csv"], _both(_trained, _link("l.csv", "d.csv"))),
    ("train --save onto --data", [*T, "--data", "d.csv", "--save", "d.csv"], _write("d.csv", ROWS)),
    ("train --save onto --test-data", [*T, "--data", "d.csv", "--test-data", "t.csv", "--save", "t.csv"], _both(_write("d.csv", ROWS), _write("t.csv", ROWS))),
    ("train --save onto --config", [*T, "--config", "c.toml", "--save", "c.toml"], _write("c.toml", '[[layers]]\nkind = "linear"\nunits = 2\n')),
    ("train --save onto the data its config names", [*T, "--config", "c.toml", "--save", "d.csv"], _both(_write("d.csv", ROWS), _write("c.toml", '[[layers]]\nkind = "linear"\nunits = "classes"\n[data]\nname = "csv"\npath = "d.csv"\n'))),
    ("train --save onto the run history", ["train", "--epochs", "1", "--save", "data/runs.sqlite3"], _recorded),
    ("train --save onto the history's -wal", ["train", "--epochs", "1", "--save", "data/runs.sqlite3-wal"], _recorded),
    ("runs export --csv onto the run history", ["runs", "export", "1", "--csv", "data/runs.sqlite3"], _recorded),
    ("bench --json onto the run history", ["bench", "--quick", "--json", "data/runs.sqlite3"], _recorded),
    ("bench on an unknown preset", ["bench", "--quick", "--presets", "nosuch"], None),
]  # fmt: skip


def _digest(folder: Path) -> dict[str, str]:
    """Every file's SHA-256 (the run history's files aside: reading them may rewrite them),
    and the number of runs the history holds."""
    out = {}
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink() and not p.name.startswith("runs.sqlite3"):
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    history = folder / "data" / "runs.sqlite3"
    if history.exists():
        try:
            with contextlib.closing(sqlite3.connect(history)) as db:
                out["(runs in the history)"] = str(
                    db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                )
        except sqlite3.Error as e:
            out["(runs in the history)"] = f"unreadable: {e}"
    return out


def main() -> int:
    rows = ["| case | exit | message (first line of stderr) | files on disk |", "|---|---|---|---|"]
    for name, argv, setup in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if setup is not None:
                setup(folder)
            before = _digest(folder)
            env = dict(os.environ, MINIFRAME_DATA_DIR=str(folder / "data"))
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", "miniframe", *argv],
                    cwd=folder, capture_output=True, text=True, timeout=120, env=env,
                )  # fmt: skip
                code, err = str(proc.returncode), proc.stderr.strip()
            except subprocess.TimeoutExpired:
                code, err = "timeout", ""
            lines = err.splitlines()
            first = lines[0] if lines else "(no message)"
            if "Traceback" in err:
                first = "TRACEBACK: " + lines[-1]
            after = _digest(folder)
            kept = all(after.get(k) == v for k, v in before.items())
            first = first.replace("|", "\\|")[:150]
            rows.append(f"| {name} | {code} | {first} | {'intact' if kept else 'CHANGED'} |")
            print(rows[-1], file=sys.stderr, flush=True)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
