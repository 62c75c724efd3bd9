"""Sweeps (miniframe.sweep, `miniframe sweep`): the grid checked before anything trains, the
numbers those of lone runs, the same numbers on every backend, every run recorded."""

from __future__ import annotations

import dataclasses
import sys

import pytest
from progress_checks import check_progress

from miniframe.cli import main
from miniframe.engine import LayerSpec, Run, load_preset, replica_support
from miniframe.progress import Progress
from miniframe.runs import Recording, RunStore
from miniframe.sweep import (
    GridError,
    SweepPoint,
    grid_keys,
    grid_points,
    parse_grid,
    plan_tasks,
    run_sweep,
    seed_groups,
)


def small(spec, n=60, epochs=2):
    return spec.replace(data=dataclasses.replace(spec.data, n_train=n, n_test=n), epochs=epochs)


def numbers(result):
    """Every seed's final metrics, point by point: what must be equal across backends."""
    keys = ("train_loss", "train_acc", "test_loss", "test_acc")
    return [{s: {k: r[k] for k in keys} for s, r in sorted(f.items())} for f in result.final]


# ---- the grid ------------------------------------------------------------------------------
def test_parse_grid_reads_settings_by_name_or_path():
    grid = parse_grid(["lr=1e-4,1e-3", "batch-size=5,32", "data.noise=0,0.1"])
    assert grid == {"solver.lr": [1e-4, 1e-3], "batch_size": [5, 32], "data.noise": [0.0, 0.1]}
    assert {"lr", "momentum", "batch_size", "epochs", "solver.weight_decay"} <= set(grid_keys())


def test_the_data_seed_is_a_grid_key_by_its_path_alone():
    """``seed`` is the run's seed (the sweep's --seeds); the data's seed shares the short name,
    so a grid names it by path, and so do the point's label and table."""
    assert "seed" not in grid_keys() and grid_keys()["data.seed"] == "data.seed"
    grid = parse_grid(["data.seed=3,4"])
    assert grid == {"data.seed": [3, 4]}
    points = grid_points(small(load_preset("quick")), grid)
    assert [p.label for p in points] == [{"data.seed": 3}, {"data.seed": 4}]
    assert [p.spec.data.seed for p in points] == [3, 4] and points[0].spec.seed == 0


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["foo=1"], "unknown setting 'foo'; choose from lr, momentum"),
        (["seed=1,2"], "use --seeds"),
        (["betas=0.9"], "Adam's betas"),
        (["lr=abc"], "--grid lr: learning rate: 'abc' is not a number"),
        (["lr=0"], "learning rate must be a positive number"),
        (["batch_size=5.5"], "not a whole number"),
        (["lr="], "learning rate: required"),
        (["lr"], "expected SETTING=VALUE"),
        (["lr=1e-3", "lr=1e-2"], "given twice"),
        (["lr=1e-3,0.001"], "listed twice"),
    ],
)
def test_bad_grids_are_named(items, message):
    with pytest.raises(GridError, match=None) as e:
        parse_grid(items)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_grid_points_are_the_product_and_each_is_checked():
    base = load_preset("quick")
    points = grid_points(base, parse_grid(["lr=1e-3,1e-2", "batch_size=5,32"]))
    assert [p.label for p in points] == [
        {"lr": 1e-3, "batch_size": 5}, {"lr": 1e-3, "batch_size": 32},
        {"lr": 1e-2, "batch_size": 5}, {"lr": 1e-2, "batch_size": 32},
    ]  # fmt: skip
    assert points[2].spec.solver.lr == 1e-2 and points[2].spec.batch_size == 5
    assert points[2].title == "lr=0.01 batch_size=5"
    with pytest.raises(GridError, match="grid point batch_size=5000: batch_size: batch size 5000"):
        grid_points(base, parse_grid(["batch_size=5,5000"]))


def test_seed_groups_are_even_and_planned_per_point():
    assert seed_groups(list(range(10)), 4) == [(0, 1, 2, 3), (4, 5, 6), (7, 8, 9)]
    assert seed_groups(list(range(10)), 10) == [tuple(range(10))]
    assert seed_groups([3], 5) == [(3,)]
    points = [SweepPoint({"p": i}, load_preset("quick")) for i in range(2)]
    tasks = plan_tasks(points, list(range(5)), 3)
    assert [(t.point, t.seeds) for t in tasks] == [(0, (0, 1, 2)), (0, (3, 4)),
                                                   (1, (0, 1, 2)), (1, (3, 4))]  # fmt: skip


# ---- the numbers ---------------------------------------------------------------------------
def test_a_sweep_equals_lone_runs_and_records_every_run(tmp_path):
    base = small(load_preset("vanilla"))
    points = grid_points(base, parse_grid(["lr=1e-5,1e-4"]))
    rec = Recording.open(path=tmp_path / "runs.sqlite3")
    result = run_sweep("vanilla", points, [0, 1, 2], jobs=1, recording=rec, grid={"lr": [1, 2]})
    for p, point in enumerate(points):
        for seed in (0, 1, 2):
            *_, last = Run(point.spec.replace(seed=seed)).fit()
            got = result.final[p][seed]
            assert got["train_acc"] == pytest.approx(last.train_acc, abs=100 / 60 + 1e-9)
            assert got["test_loss"] == pytest.approx(last.test_loss, rel=1e-5)
    assert result.best() in (0, 1) and "**best**" in result.markdown()
    assert result.markdown().splitlines()[0].startswith("| lr | seeds | train acc % |")
    with RunStore.open(tmp_path / "runs.sqlite3") as store:
        sweep = store.sweep(result.sweep_id)
        runs = store.runs(sweep_id=result.sweep_id)
        assert (sweep.status, sweep.seeds, len(runs)) == ("finished", [0, 1, 2], 6)
        assert all(r.status == "finished" and r.epochs == 2 and r.source == "sweep" for r in runs)
        assert [(r.point, r.seed) for r in runs[:2]] == [({"lr": 1e-5}, 0), ({"lr": 1e-5}, 1)]
        assert runs[4].final["test_acc"] == result.final[1][1]["test_acc"]


def test_lone_runs_when_layers_cannot_be_replicas(tmp_path):
    spec = small(load_preset("vanilla"))
    spec.layers.insert(1, LayerSpec("dropout", p=0.2))
    result = run_sweep("drop", [SweepPoint({}, spec)], [0, 1], jobs=1)
    for seed in (0, 1):
        *_, last = Run(spec.replace(seed=seed)).fit()
        assert result.final[0][seed]["test_acc"] == last.test_acc


def test_diverged_seeds_are_counted_and_stop_where_their_lone_run_stops(tmp_path):
    spec = small(load_preset("vanilla"), epochs=4)
    points = grid_points(spec, parse_grid(["lr=1e-4,1e3"]))
    rec = Recording.open(path=tmp_path / "runs.sqlite3")
    result = run_sweep("v", points, [0, 1], jobs=1, recording=rec)
    assert result.diverged(1) == 2 and result.diverged(0) == 0
    assert "2 (2 diverged)" in result.markdown() and result.best() == 0
    with RunStore.open(tmp_path / "runs.sqlite3") as store:
        runs = store.runs(sweep_id=result.sweep_id)
        assert [r.status for r in runs] == ["finished", "finished", "diverged", "diverged"]
        assert runs[2].epochs == 1  # the lone run stops in its first epoch


def test_worker_processes_give_the_numbers_of_this_process():
    """Two spawned workers (one intra-op thread each), the same grouping: the same numbers."""
    points = grid_points(small(load_preset("quick")), parse_grid(["lr=1e-3,1e-2"]))
    here = run_sweep("q", points, [0, 1, 2], replicas=2, jobs=1)
    seen: list[Progress] = []
    there = run_sweep("q", points, [0, 1, 2], replicas=2, jobs=2, on_progress=seen.append)
    assert there.workers == 2 and numbers(there) == numbers(here)
    check_progress(seen, total=6, unit="run")  # the workers' epochs and ends reach the display


def test_dask_gives_the_numbers_of_the_local_backend():
    """The same sweep on a Dask LocalCluster (two workers over loopback) and locally."""
    pytest.importorskip("distributed")
    points = grid_points(small(load_preset("deep"), n=40), parse_grid(["lr=1e-4,1e-3"]))
    local = run_sweep("d", points, [0, 1, 2], replicas=2, jobs=1)
    seen: list[Progress] = []
    dask = run_sweep(
        "d", points, [0, 1, 2], replicas=2, jobs=2, backend="dask", on_progress=seen.append
    )
    assert dask.backend == "dask" and dask.workers == 2
    assert numbers(dask) == numbers(local)
    check_progress(seen, total=6, unit="run")  # each task's end reaches the display


@pytest.mark.slow
def test_dask_on_an_existing_cluster_by_its_scheduler_address():
    """--scheduler ADDRESS: a cluster started elsewhere (here, a LocalCluster of one worker)."""
    distributed = pytest.importorskip("distributed")
    points = [SweepPoint({}, small(load_preset("quick")))]
    local = run_sweep("q", points, [0, 1], jobs=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster:  # fmt: skip
        there = run_sweep("q", points, [0, 1], backend="dask", scheduler=cluster.scheduler_address)
    assert there.workers == 1 and numbers(there) == numbers(local)


# ---- the command ---------------------------------------------------------------------------
def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def bad_input(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_sweep_command_prints_the_table_and_records_a_sweep(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIFRAME_DATA_DIR", str(tmp_path))
    code, out, err = run(capsys, "sweep", "--preset", "quick", "--epochs", "2", "--grid",
                         "lr=1e-3,1e-2", "--seeds", "2", "--jobs", "1")  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == ("| lr | seeds | train acc % | test acc % | train loss | test loss | best |")
    assert len([line for line in lines if line.startswith("| 0.0")]) == 2
    assert "**best**" in out and "recorded as sweep 1" in out
    assert "2 grid points × 2 seeds = 4 runs" in err
    code, out, _ = run(capsys, "runs", "list", "--sweep", "1")
    assert code == 0 and len(out.strip().splitlines()) == 5


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--grid", "foo=1"], "unknown setting 'foo'"),
        (["--grid", "lr=x"], "'x' is not a number"),
        (["--grid", "batch_size=5000"], "grid point batch_size=5000"),
        (["--seeds", "0"], "--seeds"),
        (["--replicas", "33"], "replicas must be ≤ 32"),
        (["--scheduler", "tcp://x:1"], "--scheduler needs --backend dask"),
        (["--backend", "spark"], "invalid choice"),
        (["--preset", "nope"], "unknown preset"),
    ],
)
def test_sweep_bad_input_is_one_line_before_training(capsys, argv, expected):
    assert expected in bad_input(capsys, "sweep", "--preset", "quick", *argv)


def test_dask_backend_without_dask_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    line = bad_input(capsys, "sweep", "--preset", "quick", "--backend", "dask")
    assert "pip install 'miniframe[dask]'" in line
    line = bad_input(capsys, "reproduce", "--backend", "dask")
    assert "pip install 'miniframe[dask]'" in line


# ---- train's flags: stop conditions and your own data ---------------------------------------
def test_stop_conditions_train_as_lone_runs_that_honour_them():
    """Replicas would all run every epoch; a point with a stop condition trains each seed
    alone, so it ends where `train` would (here at its target accuracy, before epoch 30)."""
    spec = small(load_preset("quick"), n=100, epochs=30)
    spec = spec.replace(stop=dataclasses.replace(spec.stop, target_acc=60.0))
    assert replica_support(spec) is not None
    result = run_sweep("stop", [SweepPoint({}, spec)], [0, 1], jobs=1)
    for seed in (0, 1):
        lone = list(Run(spec.replace(seed=seed)).fit())
        assert lone[-1].epoch < 30 and "target" in lone[-1].message
        assert result.final[0][seed]["epoch"] == lone[-1].epoch
        assert result.final[0][seed]["test_acc"] == lone[-1].test_acc


def test_sweep_takes_the_data_flags_of_train(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIFRAME_DATA_DIR", str(tmp_path / "history"))
    data = tmp_path / "three.csv"
    rows = [f"{c * 3 + (i % 5) * 0.1:.2f},{(i * 7 % 10) * 0.1:.2f},c{c}" for i in range(20)
            for c in range(3)]  # fmt: skip
    data.write_text("a,b,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "sweep", "--preset", "quick", "--epochs", "2", "--data",
                         str(data), "--standardize", "--grid", "lr=1e-3,1e-2", "--seeds", "2",
                         "--jobs", "1")  # fmt: skip
    assert code == 0, err
    assert "**best**" in out
    with RunStore.open(tmp_path / "history" / "runs.sqlite3") as store:
        runs = store.runs()
    assert len(runs) == 4
    for r in runs:
        d = r.spec["data"]
        assert (d["name"], d["path"], d["standardize"]) == ("csv", str(data), True)
        assert r.status == "finished" and r.final is not None
