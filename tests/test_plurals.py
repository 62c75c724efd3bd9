"""Counted nouns agree with their numbers in every message: one helper (engine.plural) says
them, no string hedges with ``(s)``, and the commands say ``1 run``, never ``1 runs``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from miniframe.cli import main
from miniframe.engine import agree, plural

ROOT = Path(__file__).resolve().parents[1]

#: ``1 runs``, ``1 worker processes``: a count of one with a plural noun (of one or two words)
#: after it; not the ``1`` of ``0.1`` or ``−1``.
ONE_PLURAL = re.compile(r"(?<![\d.,−-])\b1 (?:[a-z-]+ )?([a-z-]+s)\b")
VERBS = {"is", "has", "was", "does", "this", "as"}
HEDGE = re.compile(r"\w\((?:s|es)\)")


def is_plural(word: str) -> bool:
    """``runs``, ``classes``, ``entries``: the plural of some noun (``process`` is not)."""
    stems = (word[:-1], word[:-2], word[:-3] + "y")
    return any(agree(2, stem) == word for stem in stems if stem)


def wrong_plurals(text: str) -> list[str]:
    ones = [
        m.group(0)
        for m in ONE_PLURAL.finditer(text)
        if m.group(1) not in VERBS and is_plural(m.group(1))
    ]
    return ones + HEDGE.findall(text)


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (1, "run", "1 run"),
        (0, "run", "0 runs"),
        (2, "grid point", "2 grid points"),
        (1, "worker process", "1 worker process"),
        (3, "worker process", "3 worker processes"),
        (2, "class", "2 classes"),
        (4, "epoch", "4 epochs"),  # a hard ch: not "epoches"
        (2, "batch", "2 batches"),
        (2, "entry", "2 entries"),
        (2, "key", "2 keys"),
        (2, "index", "2 indexes"),
        (2, "datum", "2 data"),
        (-1, "step", "-1 step"),
    ],
)
def test_plural(n, noun, expected):
    irregular = "data" if noun == "datum" else None
    assert plural(n, noun, irregular) == expected


def test_agree_is_the_noun_alone():
    assert (agree(1, "key"), agree(2, "key"), agree(2, "intra-op thread")) == (
        "key",
        "keys",
        "intra-op threads",
    )


def test_the_pattern_finds_what_it_should():
    assert wrong_plurals("1 grid point(s) × 1 seed(s) = 1 runs") == ["1 runs", "t(s)", "d(s)"]
    assert wrong_plurals("1 classes, 1 entries, 1 worker processes") == [
        "1 classes",
        "1 entries",
        "1 worker processes",
    ]
    assert wrong_plurals("1 run in 0.1 s wall; −1 is the last; 0.1 seeds; 21 runs") == []
    assert wrong_plurals("1 process, 1 class, 1 worker process") == []


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string constant of a module that is not a docstring (messages, f-string parts)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_message_hedges_with_s_in_brackets():
    """The class, in the source: no string of the CLI, the sweeps, the benchmark or the engine
    (whose errors the CLI prints) says ``run(s)``; they count with :func:`plural`."""
    found = []
    for folder in ("miniframe", "engine"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, text in _strings(ast.parse(path.read_text(encoding="utf-8"))):
                if HEDGE.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert not found, "\n".join(found)


# ---- what the commands print, with counts of one -------------------------------------------
def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def test_a_sweep_of_one_run(capsys):
    """The issue's example: ``1 grid point(s) × 1 seed(s) = 1 runs``."""
    code, text = run(capsys, "sweep", "--preset", "quick", "--epochs", "1", "--seeds", "1",
                     "--jobs", "1")  # fmt: skip
    assert code == 0, text
    assert "1 grid point × 1 seed = 1 run\n" in text
    assert "1 run in " in text and "(local, 1 process)" in text
    assert wrong_plurals(text) == [], text


def test_reproduce_with_one_seed(capsys):
    code, text = run(capsys, "reproduce", "--seeds", "1", "--presets", "quick", "--epochs", "1",
                     "--jobs", "1", "--no-record")  # fmt: skip
    assert code == 0, text
    assert "1 run in " in text and "(1 process)" in text
    assert wrong_plurals(text) == [], text


def test_runs_export_and_rm_of_one(capsys, tmp_path):
    code, text = run(capsys, "train", "--preset", "quick", "--epochs", "1")
    assert code == 0, text
    code, text = run(capsys, "runs", "list", "--json")
    run_id = str(max(int(line.split('"id": ')[1].split(",")[0]) for line in text.splitlines()
                     if '"id": ' in line))  # fmt: skip
    code, text = run(capsys, "runs", "export", run_id, "--csv", str(tmp_path / "one.csv"))
    assert code == 0 and f"wrote 1 epoch of run {run_id}" in text, text
    code, text = run(capsys, "runs", "rm", run_id)
    assert code == 0 and "removed 1 run\n" in text, text


def test_predict_and_evaluate_of_one_row(capsys, tmp_path):
    data = tmp_path / "train.csv"
    rows = [f"{x / 20:.3f},{(x * 7 % 20) / 20:.3f},{int(x % 2)}" for x in range(40)]
    data.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    one = tmp_path / "one.csv"
    one.write_text("x1,x2,label\n0.5,0.5,1\n")
    model = tmp_path / "m.safetensors"
    code, text = run(capsys, "train", "--preset", "quick", "--data", str(data), "--epochs", "1",
                     "--save", str(model), "--no-record")  # fmt: skip
    assert code == 0, text
    code, text = run(capsys, "evaluate", str(model), "--data", str(one))
    assert code == 0 and f"on 1 row of {one} (weights of epoch 1)" in text, text
    code, text = run(capsys, "predict", str(model), str(one), "-o", str(tmp_path / "p.csv"))
    assert code == 0 and "wrote 1 row to" in text, text
    assert wrong_plurals(text) == [], text


def test_engine_messages_of_one(capsys, tmp_path):
    """Errors the CLI prints: a last Linear of one unit, a one-byte checkpoint, one unknown
    setting, a one-column file."""
    config = tmp_path / "one.toml"
    config.write_text(
        'name = "one"\n[[layers]]\nkind = "linear"\nunits = 1\n'
        '[solver]\nname = "sgd"\nlr = 0.1\nbogus = 1\n'
    )
    code, text = run(capsys, "train", "--config", str(config))
    assert code == 2 and "unknown setting solver.bogus" in text, text
    config.write_text('name = "one"\n[[layers]]\nkind = "linear"\nunits = 1\n')
    code, text = run(capsys, "train", "--config", str(config))
    assert code == 2 and "outputs 1 value, but the data have 2 classes" in text, text
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(b"x")
    code, text = run(capsys, "evaluate", str(tiny))
    assert code == 2 and "(1 byte)" in text, text
    column = tmp_path / "column.csv"
    column.write_text("label\n0\n1\n0\n1\n")
    code, text = run(capsys, "train", "--preset", "quick", "--data", str(column),
                     "--label-column", "2")  # fmt: skip
    assert code == 2 and "a file with 1 column (" in text, text
