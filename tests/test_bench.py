"""A smoke run of `miniframe bench`: it runs, the three trainers agree, the table has its rows.
(Timings are not asserted: benchmarks are not timed tests.)"""

from __future__ import annotations

import json

import pytest

from miniframe.bench import BenchError, run_bench


def test_quick_bench_runs_and_weights_match():
    result = run_bench(presets=("vanilla", "deep"), batch_sizes=(5, 50), quick=True)
    assert result.ok, [r.max_weight_diff for r in result.rows]
    assert [(r.preset, r.batch_size) for r in result.rows] == [
        ("vanilla", 5), ("vanilla", 50), ("deep", 5), ("deep", 50)
    ]  # fmt: skip
    table = result.table()
    for row in ("| vanilla | 5 |", "| vanilla | 50 |", "| deep | 5 |", "| deep | 50 |"):
        assert row in table
    assert "engine/torch" in table
    assert "median of 1 × 1 epoch after a warm-up" in table and "1 intra-op thread." in table
    for r in result.rows:
        assert set(r.ms) == {"engine", "torch", "bare"}
        assert all(v > 0 for v in r.ms.values())
    d = json.loads(json.dumps(result.to_dict()))
    assert d["ok"] is True and len(d["rows"]) == 4
    assert {"ratio_engine_torch", "epochs_per_s", "us_per_step"} <= set(d["rows"][0])


def test_adam_preset_benchmarks_and_matches():
    """The quick preset (Adam): the float64 check used to fail in lerp_ (state in float32)."""
    result = run_bench(presets=("quick",), batch_sizes=(32,), quick=True)
    assert result.ok, [r.max_weight_diff for r in result.rows]
    assert set(result.rows[0].ms) == {"engine", "torch"}  # the bare loop does plain SGD only


def test_stochastic_layers_are_refused_with_a_reason():
    from miniframe.engine import LayerSpec, load_preset

    spec = load_preset("quick")
    spec = spec.replace(layers=[*spec.layers[:2], LayerSpec("dropout", p=0.1), *spec.layers[2:]])
    with pytest.raises(BenchError, match="dropout layers draw random masks"):
        run_bench(presets=(spec,), batch_sizes=(32,), quick=True)


def test_cli_bench_json(tmp_path, capsys):
    from miniframe.cli import main

    code = main(["bench", "--quick", "--presets", "vanilla", "--batch-sizes", "50", "--json",
                 str(tmp_path)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "is a folder; refusing to replace it" in err
    target = tmp_path / "bench.json"
    code = main(["bench", "--quick", "--presets", "vanilla", "--batch-sizes", "50", "--json",
                 str(target)])  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == 0 and f"wrote {target}" in out

    def refuse(token):
        raise ValueError(token)

    d = json.loads(target.read_text(), parse_constant=refuse)
    assert d["ok"] is True and d["rows"][0]["batch_size"] == 50
