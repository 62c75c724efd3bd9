# ruff: noqa: E501  (the case table reads best one case per line)
"""Run the CLI's bad-input matrix and print it as a Markdown table: case, exit status, the
message seen (the last stderr line: progress lines come before it), and whether anything
already on disk changed (and the newest run's status in the case's history).

Not a test (the regression tests live in tests/): a way to see, in one place, what a user
gets for each kind of bad input. Usage: ``python tools/bad_input_matrix.py [WORD…]`` (every
case, a few minutes; with words, the cases whose name holds one of them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: (name, argv, set-up): a set-up may return a function that undoes it (ends a server).
Case = tuple[str, list[str], Callable[[Path], Callable[[], None] | None] | None]


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


def _env(folder: Path) -> dict[str, str]:
    """The case's own run history and user config (presets), inside its folder."""
    return dict(os.environ, MINIFRAME_DATA_DIR=str(folder / "data"),
                MINIFRAME_CONFIG_DIR=str(folder / "config"))  # fmt: skip


def _miniframe(folder: Path, *argv: str) -> None:
    env = _env(folder)
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


def _resigned(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    """m.safetensors (see _trained, standardised) with its metadata edited and re-signed: a
    correct checksum over content that only the content checks can refuse."""

    def setup(folder: Path) -> None:
        (folder / "d.csv").write_text(ROWS)
        _miniframe(folder, "train", "--preset", "quick", "--epochs", "1", "--data", "d.csv",
                   "--standardize", "--save", "m.safetensors", "--no-record")  # fmt: skip
        from miniframe.engine import checkpoint as ckpt

        path = folder / "m.safetensors"
        data = path.read_bytes()
        n = int.from_bytes(data[:8], "little")
        header, body = json.loads(data[8 : 8 + n]), data[8 + n :]
        meta = header["__metadata__"]
        edit(meta)
        tensors = {k: body[e["data_offsets"][0] : e["data_offsets"][1]]
                   for k, e in header.items() if k != "__metadata__"}  # fmt: skip
        meta["sha256"] = ckpt._checksum(meta["spec"], int(meta["epoch"]), tensors, meta["data"])
        new = json.dumps(header).encode()
        path.write_bytes(len(new).to_bytes(8, "little") + new + body)

    return setup


def _data_edit(key: str, field: str, index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(meta: dict[str, Any]) -> None:
        data = json.loads(meta["data"])
        data[key][field][index] = value
        meta["data"] = json.dumps(data)

    return edit


def _spec_edit(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def edit(meta: dict[str, Any]) -> None:
        meta["spec"] = meta["spec"].replace(old, new, 1)

    return edit


def _preset(name: str, text: str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        (folder / "config" / "presets").mkdir(parents=True)
        (folder / "config" / "presets" / name).write_text(text)

    return setup


def _spawn(folder: Path, argv: list[str]) -> subprocess.Popen[bytes]:
    """A helper process of a case, in a folder of its own (its files are not the case's)."""
    where = tempfile.mkdtemp(prefix="matrix-helper-")
    return subprocess.Popen(argv, cwd=where, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() or not path.read_text().strip():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} never came")
        time.sleep(0.05)


def _silent_port(folder: Path) -> Callable[[], None]:
    """A port that accepts connections and never says a word; its number in ./port."""
    code = ("import socket, sys, time\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8)\n"
            "open(sys.argv[1], 'w').write(str(s.getsockname()[1]))\nheld = []\n"
            "while True: held.append(s.accept())")  # fmt: skip
    proc = _spawn(folder, [sys.executable, "-c", code, str(folder / "port")])
    _wait_for(folder / "port")
    return proc.kill


def _scheduler(workers: int) -> Callable[[Path], Callable[[], None]]:
    """A Dask scheduler on 127.0.0.1 (its address in ./address) with ``workers`` workers."""
    dask = str(Path(sys.executable).parent / "dask")

    def setup(folder: Path) -> Callable[[], None]:
        info = Path(tempfile.mkdtemp(prefix="matrix-scheduler-")) / "s.json"
        procs = [_spawn(folder, [dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                 "--no-dashboard", "--scheduler-file", str(info)])]  # fmt: skip
        _wait_for(info)
        time.sleep(0.5)  # the file is written, then filled
        address = json.loads(info.read_text())["address"]
        for _ in range(workers):
            procs.append(_spawn(folder, [dask, "worker", address, "--nthreads", "1",
                                         "--no-nanny", "--host", "127.0.0.1"]))  # fmt: skip
        (folder / "address").write_text(address)

        def undo() -> None:
            for proc in procs:
                proc.kill()
                proc.wait()

        return undo

    return setup


HUGE = "9" * 5000
WIDE = "".join(
    ",".join(["0.12345678901234567890123456789012"] * 4000) + f",{i % 2}\n" for i in range(12)
)
STAMPS = "t,c\n" + "".join(f"{1.7e9 + 20 * (i % 2) + i % 5:.1f},{i % 2}\n" for i in range(200))
BIG_CELL = (
    "x,y,c\n"
    + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40))
    + '1,"'
    + "7" * 200_000
    + '",0\n'
)
FAR = "a,b,c\n" + "".join(f"{i},{'1e300' if i == 5 else i % 3},{i % 2}\n" for i in range(40))
SUM = "a,b,c\n" + "".join(
    f"{'1e308,1e308' if i == 5 else f'{i},{i % 3}'},{i % 2}\n" for i in range(40)
)
LABELS = "a,b,y\n" + "".join(f"{i},{i % 3},{(i - 20) / 997:.4f}\n" for i in range(40))
QUICK = '[[layers]]\nkind = "linear"\nunits = 8\n[[layers]]\nkind = "relu"\n[[layers]]\nkind = "linear"\nunits = "classes"\n'
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
    ("CSV: label >= 2**63", [*T, "--preset", "quick", "--data", "lab.csv", "--batch-size", "4"], _write("lab.csv", "x,y,c\n" + "".join(f"{i},{i % 3},{2**63 if i % 2 else 0}\n" for i in range(20)))),
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
    # 2. CSV all the way
    ("CSV: a 200 KiB cell", [*T, "--data", "big.csv"], _write("big.csv", BIG_CELL)),
    ("CSV: 4,000 features, 140 KB lines (valid)", [*T, "--data", "wide.csv", "--batch-size", "4"], _write("wide.csv", WIDE)),
    ("CSV: t≈1.7e9, classes 20 s apart, --no-standardize", [*T, "--data", "t.csv", "--no-standardize"], _write("t.csv", STAMPS)),
    ("CSV: t≈1.7e9 --standardize (valid: float64)", ["train", "--no-record", "--epochs", "30", "--data", "t.csv", "--standardize", "--json"], _write("t.csv", STAMPS)),
    ("CSV: 1e300, beyond float32, --no-standardize", [*T, "--data", "far.csv", "--no-standardize"], _write("far.csv", FAR)),
    ("CSV: 1e300 --standardize", [*T, "--data", "far.csv", "--standardize"], _write("far.csv", FAR)),
    ("CSV: 1e308,1e308 (the sum overflows), --no-standardize", [*T, "--data", "sum.csv", "--no-standardize"], _write("sum.csv", SUM)),
    ("CSV: a continuous label column", [*T, "--data", "y.csv"], _write("y.csv", LABELS)),
    ("predict: a value beyond float32", ["predict", "m.safetensors", "new.csv"], _both(_trained, _write("new.csv", "x,y\n1,2\n3,5e39\n"))),
    # 3. streams
    ("train | head -1", ["|", "$MF train --epochs 100000 --every 1 | head -1 > /dev/null"], None),
    ("train --json | head -1", ["|", "$MF train --epochs 100000 --json | head -1 > /dev/null"], None),
    ("train > /dev/full", ["|", "$MF train --epochs 100000 --every 1 > /dev/full"], None),
    ("runs list > /dev/full", ["|", "$MF runs list > /dev/full"], _recorded),
    ("predict > /dev/full", ["|", "$MF predict m.safetensors d.csv > /dev/full"], _trained),
    # 4. run history
    ("runs show 2**63", ["runs", "show", str(2**63)], _recorded),
    ("runs rm 1e20", ["runs", "rm", "1", "99999999999999999999"], _recorded),
    ("runs export 1e20 --csv", ["runs", "export", "99999999999999999999", "--csv", "out.csv"], _recorded),
    ("runs list --sweep 1e20", ["runs", "list", "--sweep", "99999999999999999999"], _recorded),
    # 5. Dask
    ("dask: --scheduler foo://h:1", ["sweep", "--backend", "dask", "--scheduler", "foo://h:1"], None),
    ("dask: --scheduler tcp://h:abc", ["sweep", "--backend", "dask", "--scheduler", "tcp://h:abc"], None),
    ("dask: --scheduler tcp://:8786", ["sweep", "--backend", "dask", "--scheduler", "tcp://:8786"], None),
    ("dask: --scheduler tcp://", ["sweep", "--backend", "dask", "--scheduler", "tcp://"], None),
    ("dask: --scheduler [::1", ["reproduce", "--backend", "dask", "--scheduler", "[::1"], None),
    ("dask: a port that never speaks", ["|", "$MF sweep --seeds 1 --backend dask --dask-wait 3 --scheduler tcp://127.0.0.1:$(cat port)"], _silent_port),
    ("dask: a scheduler without workers", ["|", "$MF sweep --seeds 1 --backend dask --dask-wait 3 --scheduler $(cat address)"], _scheduler(0)),
    ("dask: Ctrl-C (SIGINT after 20 s)", ["|", "timeout --preserve-status -s INT 20 $MF sweep --seeds 1 --epochs 100000 --backend dask --scheduler $(cat address)"], _scheduler(1)),
    ("dask: Ctrl-C to a LocalCluster sweep", ["|", "timeout --preserve-status -s INT 20 $MF sweep --seeds 2 --replicas 1 --epochs 100000 --backend dask --jobs 2"], None),
    # 6. sweeps
    ("sweep: a 1,000,000-point grid", ["sweep", "--no-record", "--grid", "lr=" + ",".join(f"{(i + 1) * 1e-6:.9g}" for i in range(1000)), "--grid", "momentum=" + ",".join(f"{i / 1001:.9g}" for i in range(1000))], None),
    ("sweep: --grid noise with CSV data", ["sweep", "--no-record", "--data", "d.csv", "--grid", "noise=0,0.1,0.2,0.3"], _write("d.csv", ROWS)),
    ("sweep: --grid n_train with CSV data", ["sweep", "--no-record", "--data", "d.csv", "--grid", "n_train=100,200"], _write("d.csv", ROWS)),
    ("sweep: --grid test_fraction on disk", ["sweep", "--no-record", "--grid", "test_fraction=0.2,0.3"], None),
    ("train: --noise with CSV data", [*T, "--data", "d.csv", "--noise", "0.1"], _write("d.csv", ROWS)),
    ("train: --test-fraction with --test-data", [*T, "--data", "d.csv", "--test-data", "d.csv", "--test-fraction", "0.3"], _write("d.csv", ROWS)),
    # 7. numbers past Python's 4,300-digit limit
    ("5,000-digit units in a TOML config", [*T, "--config", "c.toml"], _write("c.toml", f'[[layers]]\nkind = "linear"\nunits = {HUGE}\n')),
    ("5,000-digit seed in a JSON config", [*T, "--config", "c.json"], _write("c.json", f'{{"seed": {HUGE}, "layers": []}}')),
    ("5,000-digit epochs in a preset", [*T, "--preset", "big"], _preset("big.toml", f"epochs = {HUGE}\n")),
    ("5,000-digit units in a checkpoint", ["evaluate", "m.safetensors"], _resigned(_spec_edit('"units": 25', f'"units": {HUGE}'))),
    ("--seed of 5,000 digits", [*T, "--seed", HUGE], None),
    # 8. the stored input transform
    ("checkpoint std 1e-300: predict", ["predict", "m.safetensors", "d.csv"], _resigned(_data_edit("transform", "std", 0, 1e-300))),
    ("checkpoint std 1e-300: evaluate", ["evaluate", "m.safetensors"], _resigned(_data_edit("transform", "std", 0, 1e-300))),
    ("checkpoint mean 5e38", ["evaluate", "m.safetensors"], _resigned(_data_edit("transform", "mean", 1, 5e38))),
    ("checkpoint with two classes of one name", ["evaluate", "m.safetensors"], _resigned(_data_edit("shape", "class_names", 1, "0"))),
    # 9. the engine's API (through a Python one-liner: it is a library's, not the CLI's)
    ("engine: one Linear twice in a Sequential", ["|", "$PY -c 'from miniframe.engine import Linear, ReLU, Sequential; a = Linear(2, 2); Sequential(a, ReLU(), a)' 2>&1 | tail -1 >&2; exit 1"], None),
    ("engine: float64 input to a float32 model", ["|", "$PY -c 'import torch; from miniframe.engine import Linear; Linear(2, 2)(torch.ones(3, 2, dtype=torch.float64))' 2>&1 | tail -1 >&2; exit 1"], None),
    ("engine: an empty batch's loss", ["|", "$PY -c 'import torch; from miniframe.engine import MSELoss; MSELoss()(torch.empty(0, 2), torch.empty(0, 2))' 2>&1 | tail -1 >&2; exit 1"], None),
    ("engine: Linear(10**6, 10**6)", ["|", "$PY -c 'from miniframe.engine import Linear; Linear(10**6, 10**6)' 2>&1 | tail -1 >&2; exit 1"], None),
    ("engine: Linear(2, 3, device=\"cuda\") without CUDA", ["|", "$PY -c 'from miniframe.engine import Linear; Linear(2, 3, device=\"cuda\")' 2>&1 | tail -1 >&2; exit 1"], None),
    ("train --device cuda without CUDA", [*T, "--device", "cuda"], None),
    # 10. files and presets
    ("a hidden presets/.toml", [*T, "--preset", ".toml"], _preset(".toml", QUICK)),
    ("TOML config with a byte-order mark (valid)", [*T, "--config", "bom.toml"], _write_bytes("bom.toml", b"\xef\xbb\xbf" + QUICK.encode())),
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


def _last_status(folder: Path) -> str:
    """The status of the newest run in the case's history ("" if none)."""
    history = folder / "data" / "runs.sqlite3"
    if not history.exists():
        return ""
    try:
        with contextlib.closing(sqlite3.connect(history)) as db:
            row = db.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return ""
    return str(row[0]) if row else ""


def main() -> int:
    rows = ["| case | exit | message (last line of stderr) | files on disk |", "|---|---|---|---|"]
    words = sys.argv[1:]
    for name, argv, setup in CASES:
        if words and not any(w.lower() in name.lower() for w in words):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            undo = setup(folder) if setup is not None else None
            before = _digest(folder)
            env = _env(folder)
            command = [sys.executable, "-m", "miniframe", *argv]
            if argv[0] == "|":  # a shell pipeline, $MF standing for the command
                env["MF"] = f"{sys.executable} -m miniframe"
                env["PY"] = sys.executable
                command = ["bash", "-c", f"set -o pipefail; {argv[1]}"]
            try:
                proc = subprocess.run(
                    command, cwd=folder, capture_output=True, text=True, timeout=120, env=env
                )
                code, err = str(proc.returncode), proc.stderr.strip()
            except subprocess.TimeoutExpired:
                code, err = "timeout", ""
            finally:
                if undo is not None:
                    undo()
            lines = err.splitlines()
            first = lines[-1] if lines else "(no message)"
            if "Traceback" in err:
                first = "TRACEBACK: " + lines[-1]
            after = _digest(folder)
            kept = all(after.get(k) == v for k, v in before.items())
            last = _last_status(folder)
            first = first.replace("|", "\\|")[:240]
            state = ("intact" if kept else "CHANGED") + (f"; last run {last}" if last else "")
            shown = name.replace("|", "\\|")
            rows.append(f"| {shown} | {code} | {first} | {state} |")
            print(rows[-1], file=sys.stderr, flush=True)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
