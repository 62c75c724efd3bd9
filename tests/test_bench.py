"""A smoke run of `miniframe bench`: it runs, the three trainers agree, the table has its rows.
(Timings are not asserted: benchmarks are not timed tests.)"""

from __future__ import annotations

import json

from miniframe.bench import run_bench


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
    for r in result.rows:
        assert set(r.ms) == {"engine", "torch", "bare"}
        assert all(v > 0 for v in r.ms.values())
    d = json.loads(json.dumps(result.to_dict()))
    assert d["ok"] is True and len(d["rows"]) == 4
    assert {"ratio_engine_torch", "epochs_per_s", "us_per_step"} <= set(d["rows"][0])
