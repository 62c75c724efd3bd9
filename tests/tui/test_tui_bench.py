"""Smoke run of the trainer benchmark (``python -m miniframe.tui.bench --quick``).

Not a timed test: it checks the benchmark runs and reports sane figures, never the targets.
"""

from __future__ import annotations

import json
import math

from miniframe.tui import bench


def _finite_positive(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_quick_benchmark_reports_the_four_metrics(config_dir, tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--json", str(out)]) == 0
    text = capsys.readouterr().out

    data = json.loads(out.read_text())
    for preset in ("vanilla", "deep"):
        speed = data["speed"][preset]
        assert _finite_positive(speed["headless_epochs_per_s"])
        assert _finite_positive(speed["app_epochs_per_s"])
        assert _finite_positive(speed["ratio"])
    for latency in data["latency"].values():
        assert latency["missed"] == 0
        assert _finite_positive(latency["p50_ms"]) and _finite_positive(latency["p95_ms"])
        assert latency["p50_ms"] <= latency["p95_ms"] <= latency["max_ms"]
    assert _finite_positive(data["rss"]["app_deep_mb"])
    assert _finite_positive(data["rss"]["torch_only_mb"])
    assert _finite_positive(data["first_paint"]["first_paint_s"])
    assert _finite_positive(data["first_paint"]["ready_s"])

    rows = bench.table_rows(bench.Results(**{k: data[k] for k in bench.asdict(bench.Results())}))
    metrics = " ".join(r[0] for r in rows)
    for name in ("epochs/s in app", "key → repaint", "peak RSS", "first paint"):
        assert name in metrics and name in text
    assert "metric" in text and "target" in text
