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
        inter = data["interleaved"][preset]
        assert inter["blocks"] == 2 and inter["block_epochs"] == 3
        for key in ("ratio", "raw", "app_epochs_per_s", "headless_epochs_per_s", "cpu_per_epoch"):
            assert _finite_positive(inter[key]), key
        assert 0 <= inter["ui_share_app"] < 1 and 0 <= inter["ui_share_headless"] < 1
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
    for name in (
        "first paint ÷ minimal",
        "epochs/s in app",
        "interleaved",
        "key → repaint",
        "peak RSS",
    ):
        assert name in text
    assert "metric" in text and "target" in text


def _bench_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tui_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("tui_bench", module)  # its dataclasses look their module up
    spec.loader.exec_module(sys.modules["tui_bench"])
    return sys.modules["tui_bench"]


def test_interleaved_figures_charge_the_ui_time_in_headless_blocks_to_the_app() -> None:
    bench = _bench_module()
    # Two blocks a side: [epochs, wall s, UI-thread CPU s, training-thread CPU s].
    app = [[10, 1.0, 0.05, 0.95], [10, 1.0, 0.05, 0.95]]
    headless = [[10, 0.9, 0.1, 0.8], [10, 0.9, 0.1, 0.8]]
    fig = bench.interleaved_figures(app, headless)
    assert fig["raw"] == pytest.approx((20 / 2.0) / (20 / 1.8))
    # The 0.2 s the UI thread ran in the headless blocks moves to the app's side.
    assert fig["ratio"] == pytest.approx((20 / 2.2) / (20 / 1.6))
    assert fig["pairs"] == pytest.approx([(10 / 1.1) / (10 / 0.8)] * 2)
    assert fig["ui_share_app"] == pytest.approx(0.05)
    assert fig["ui_share_headless"] == pytest.approx(0.2 / 1.8)
    assert fig["cpu_per_epoch"] == pytest.approx(0.95 / 0.8)
    assert math.isnan(bench.interleaved_figures([], [])["ratio"])
