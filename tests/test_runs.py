"""The run history (miniframe.runs): schema and migrations, concurrent writers in two processes,
runs whose process is killed, databases that cannot be used, recording from threads."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from miniframe.engine import load_preset
from miniframe.runs import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Recording,
    RunNotFound,
    RunStatus,
    RunStore,
    RunStoreError,
    differences,
    differing,
    network_summary,
    settings,
    spec_hash,
)


def epoch(n: int, acc: float = 50.0, status: str = "running", **extra) -> dict:
    return {"epoch": n, "epochs": 10, "train_loss": 1.0 / n, "train_acc": acc,
            "test_loss": 1.1 / n, "test_acc": acc - 1, "status": status, **extra}  # fmt: skip


def wait_until(condition, timeout: float, what: str) -> None:
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)


def raw_status(db: Path, run_id: int) -> str | None:
    """A run's status read with plain sqlite3, without RunStore.open's clean-up of dead runs."""
    with sqlite3.connect(db) as c:
        row = c.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else row[0]


@pytest.fixture
def store(tmp_path):
    s = RunStore.open(tmp_path / "runs.sqlite3")
    yield s
    s.close()


# ---- the basics ----------------------------------------------------------------------------
def test_a_run_is_recorded_with_its_epochs_final_metrics_and_checkpoint(store, tmp_path):
    spec = load_preset("vanilla")
    rid = store.start_run(spec)
    assert store.run(rid).status == "running" and store.run(rid).ended is None
    store.record_epoch(rid, epoch(1, 60.0))
    store.record_epoch(rid, epoch(2, 70.0, extra_field=[1, 2]))  # new EpochSummary fields flow
    store.record_epoch(rid, epoch(3, float("nan")))  # non-finite values become null
    store.finish_run(rid, "finished", checkpoint=tmp_path / "m.safetensors")
    r = store.run(rid)
    assert (r.name, r.status, r.epochs, r.seed, r.source) == ("vanilla", "finished", 3, 0, "cli")
    assert r.spec == spec.to_dict() and r.load_spec() == spec
    assert r.spec_hash == spec_hash(spec) == spec_hash(spec.replace(name="other"))
    assert r.spec_hash != spec_hash(spec.replace(seed=1))
    assert r.checkpoint == str((tmp_path / "m.safetensors").resolve())
    assert r.final["epoch"] == 3 and r.final["train_acc"] is None and r.final["test_loss"]
    assert r.seconds is not None and r.seconds >= 0
    assert store.epochs(rid)[1]["extra_field"] == [1, 2]
    assert store.curves([rid], "train_acc") == {rid: [(1, 60.0), (2, 70.0), (3, None)]}
    assert "extra_field" not in store.metric_names([rid])
    assert store.metric_names([rid])[:4] == ["train_loss", "train_acc", "test_loss", "test_acc"]


def test_listing_last_n_and_missing_ids(store):
    ids = [store.start_run(load_preset("quick").replace(seed=s)) for s in range(5)]
    assert [r.id for r in store.runs()] == ids
    assert [r.id for r in store.runs(last=2)] == ids[-2:]
    assert [r.id for r in store.runs(ids=[ids[3], ids[0]])] == [ids[3], ids[0]]
    with pytest.raises(RunNotFound, match="no run 99"):
        store.runs(ids=[ids[0], 99])
    with pytest.raises(RunNotFound):
        store.epochs(99)


def test_delete_runs_takes_their_epochs_and_is_all_or_nothing(store):
    a, b = store.start_run(load_preset("quick")), store.start_run(load_preset("quick"))
    store.record_epoch(a, epoch(1))
    with pytest.raises(RunNotFound):
        store.delete_runs([a, 42])
    assert len(store.runs()) == 2
    assert store.delete_runs([a]) == 1
    assert [r.id for r in store.runs()] == [b]
    with store._write() as db:  # the epochs went with the run
        assert db.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 0


def test_sweeps_group_runs(store):
    spec = load_preset("quick")
    sid = store.start_sweep("quick", spec, {"lr": [1e-3, 1e-2]}, [0, 1], "local")
    ids = store.start_runs([spec.replace(seed=s) for s in (0, 1)], sweep_id=sid,
                           points=[{"lr": 1e-3}] * 2, seeds=[0, 1],
                           status=RunStatus.QUEUED, source="sweep")  # fmt: skip
    store.set_status(ids[:1], RunStatus.RUNNING)
    assert [r.status for r in store.runs(sweep_id=sid)] == ["running", "queued"]
    store.finish_run(ids[0], "finished")
    store.finish_sweep(sid, "interrupted")  # what is left ends with the sweep
    assert [r.status for r in store.runs(sweep_id=sid)] == ["finished", "interrupted"]
    sweep = store.sweep(sid)
    assert (sweep.grid, sweep.seeds, sweep.run_ids) == ({"lr": [1e-3, 1e-2]}, [0, 1], ids)
    assert store.run(ids[1]).point == {"lr": 1e-3}
    store.delete_runs(ids)
    with pytest.raises(RunNotFound):  # a sweep without runs goes too
        store.sweep(sid)


def test_settings_that_differ_and_network_summaries():
    v, d = load_preset("vanilla").to_dict(), load_preset("deep").to_dict()
    assert network_summary(v) == "2-25-25-25-2 ReLU"
    assert network_summary(d) == "2-10-50-100-100-50-10-2 LeakyReLU"
    assert settings(v)["solver.lr"] == 1e-4 and "name" not in settings(v)
    assert settings(v)["layers"].startswith("linear(25) relu")
    assert differing([v, v]) == []
    assert set(differing([v, d])) == {"loss", "layers"}
    q = load_preset("quick").replace(batch_size=8).to_dict()
    assert differences(load_preset("quick").to_dict(), q) == {"batch_size": (32, 8)}


# ---- schema versions -----------------------------------------------------------------------
def test_a_version_1_database_is_migrated(tmp_path):
    """A database written by schema v1 (runs and epochs only) opens as the current version:
    its runs keep their data, gain the new columns' defaults, and a run v1 left running (v1
    kept no owner to check) ends interrupted."""
    path = tmp_path / "runs.sqlite3"
    with sqlite3.connect(path) as c:
        c.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
        spec = load_preset("vanilla").to_json()
        c.execute("INSERT INTO runs (name, spec, spec_hash, started, ended, status, final) "
                  "VALUES ('vanilla', ?, 'h', 1.0, 2.0, 'finished', '{\"test_acc\": 90.0}')",
                  (spec,))  # fmt: skip
        c.execute("INSERT INTO runs (name, spec, spec_hash, started, status) "
                  "VALUES ('vanilla', ?, 'h', 3.0, 'running')", (spec,))  # fmt: skip
        c.execute('INSERT INTO epochs VALUES (1, 1, \'{"epoch": 1, "test_acc": 90.0}\')')
    with RunStore.open(path) as store:
        assert store.version == SCHEMA_VERSION == 2
        old, running = store.runs()
        assert (old.status, old.final, old.source, old.sweep_id) == ("finished", {"test_acc": 90.0},
                                                                     "cli", None)  # fmt: skip
        assert store.curves([old.id], "test_acc") == {old.id: [(1, 90.0)]}
        assert running.status == "interrupted" and running.ended == 3.0
        new = store.start_run(load_preset("quick"))  # and it takes new runs
        assert store.run(new).pid == os.getpid()
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_newer_database_is_refused_in_one_line(tmp_path):
    path = tmp_path / "runs.sqlite3"
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA user_version = 99")
    with pytest.raises(RunStoreError, match="version 99 is newer") as e:
        RunStore.open(path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("kind", ["garbage", "folder", "parent-is-a-file", "fifo"])
def test_unusable_databases_are_one_line_errors_and_left_alone(tmp_path, kind):
    path = tmp_path / "runs.sqlite3"
    if kind == "garbage":
        path.write_bytes(b"not a database at all, " * 100)
    elif kind == "folder":
        path.mkdir()
    elif kind == "parent-is-a-file":
        (tmp_path / "file").write_text("x")
        path = tmp_path / "file" / "runs.sqlite3"
    else:
        os.mkfifo(path)
    before = path.read_bytes() if kind == "garbage" else None
    with pytest.raises(RunStoreError) as e:
        RunStore.open(path)
    message = str(e.value)
    assert "\n" not in message and str(path.parent) in message
    if before is not None:
        assert path.read_bytes() == before  # nothing on disk is lost


# ---- recording -----------------------------------------------------------------------------
def test_recording_never_raises_and_warns_once(tmp_path):
    warnings: list[str] = []
    rec = Recording.open(warn=warnings.append, path=tmp_path / "x" / "runs.sqlite3")
    run = rec.run(load_preset("quick"))
    run.epoch(epoch(1))
    assert rec.store is not None
    rec.store._db.close()  # the database goes away mid-run
    run.epoch(epoch(2))
    run.epoch(epoch(3))
    run.finish()
    assert len(warnings) == 1 and "stopped recording" in warnings[0] and not rec.active

    warnings.clear()
    (tmp_path / "bad.sqlite3").mkdir()
    rec = Recording.open(warn=warnings.append, path=tmp_path / "bad.sqlite3")
    assert not rec.active and len(warnings) == 1 and "not recording" in warnings[0]
    with rec.run(load_preset("quick")) as run:  # an inactive recording takes it all silently
        run.epoch(epoch(1))
    assert run.run_id is None and len(warnings) == 1


def test_disabled_recording_writes_nothing(tmp_path):
    rec = Recording.open(enabled=False, path=tmp_path / "runs.sqlite3")
    with rec.run(load_preset("quick")) as run:
        run.epoch(epoch(1))
    assert not (tmp_path / "runs.sqlite3").exists()


@pytest.mark.parametrize(
    ("error", "status"),
    [(None, "finished"), (ValueError("boom"), "failed"), (KeyboardInterrupt(), "interrupted")],
)
def test_the_recorder_ends_the_run_by_how_the_block_ends(tmp_path, error, status):
    path = tmp_path / "runs.sqlite3"
    rec = Recording.open(path=path)
    try:
        with rec.run(load_preset("quick")) as run:
            run.epoch(epoch(1))
            run.epoch(epoch(2, status="finished"))
            run.epoch({"epoch": 2, "epochs": 10, "train_acc": None, "train_loss": None,
                       "status": "stopped"} if error else epoch(2, status="finished"))  # fmt: skip
            if error is not None:
                raise error
    except (ValueError, KeyboardInterrupt):
        pass
    r = RunStore.open(path).run(run.run_id)
    assert r.status == status
    assert r.final["epoch"] == 2 and r.final["train_acc"] == 50.0  # the stopped row stored none


def test_recording_from_worker_threads(store):
    """The trainer records from its worker thread while the UI reads: one store, many threads."""
    ids = [store.start_run(load_preset("quick").replace(seed=s)) for s in range(4)]
    errors = []

    def work(rid):
        try:
            for n in range(1, 51):
                store.record_epoch(rid, epoch(n))
                store.runs(last=3)
        except Exception as e:  # reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and [r.epochs for r in store.runs()] == [50] * 4


# ---- processes -----------------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from miniframe.runs import RunStore
    from miniframe.engine import load_preset
    db, go, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    store = RunStore.open(db)
    rid = store.start_run(load_preset("quick"), source=sys.argv[4])
    while not go.exists():
        time.sleep(0.01)
    for e in range(1, n + 1):
        store.record_epoch(rid, {"epoch": e, "train_acc": 1.0 * e, "status": "running"})
    store.finish_run(rid, "finished")
""")


def test_two_processes_write_at_the_same_time(tmp_path):
    """WAL and a busy timeout: two writers in two processes, and a reader here, all at once."""
    db, go = tmp_path / "runs.sqlite3", tmp_path / "go"
    RunStore.open(db).close()
    n = 300
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(go), str(n), name],
                         stderr=subprocess.PIPE, text=True)
        for name in ("cli", "trainer")
    ]  # fmt: skip
    try:
        with RunStore.open(db) as store:
            wait_until(lambda: len(store.runs()) == 2, 120, "both writers to start their run")
            go.touch()
            while any(p.poll() is None for p in procs):
                store.runs()  # reads never wait for the writers
                time.sleep(0.01)
            for p in procs:
                assert p.wait() == 0, p.stderr.read()
            runs = store.runs()
            assert sorted(r.source for r in runs) == ["cli", "trainer"]
            assert all(r.status == "finished" and r.epochs == n for r in runs)
    finally:
        for p in procs:
            p.kill()
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def start_training(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, int]:
    """A long `miniframe train`, recording into tmp_path, once it has recorded an epoch."""
    env = dict(os.environ, MINIFRAME_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "miniframe", "train", "--preset", "vanilla", "--epochs", "100000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    db = tmp_path / "runs.sqlite3"

    def has_an_epoch() -> bool:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
        try:
            with sqlite3.connect(db) as c:
                return c.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] > 0
        except sqlite3.Error:
            return False

    wait_until(has_an_epoch, 120, "the run's first recorded epoch")
    return proc, db, 1


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGKILL, -9)]
)
def test_a_killed_run_ends_interrupted_and_the_database_intact(tmp_path, signum, code):
    """SIGTERM and SIGINT: the process marks its run interrupted itself. SIGKILL: the next
    open finds its process gone and marks it. Either way the database checks out."""
    proc, db, rid = start_training(tmp_path)
    try:
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == code, err
        assert "Traceback" not in err
        if signum != signal.SIGKILL:
            assert raw_status(db, rid) == "interrupted"  # before anyone else looks
        else:
            assert raw_status(db, rid) == "running"
        with RunStore.open(db) as store:
            r = store.run(rid)
            assert r.status == "interrupted" and r.ended is not None and r.epochs >= 1
        with sqlite3.connect(db) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        proc.kill()
        proc.wait()


def test_a_live_runs_owner_is_left_alone(store):
    """Opening the database again while a run of this (live) process is recording does not
    touch it."""
    rid = store.start_run(load_preset("quick"))
    with RunStore.open(store.path) as again:
        assert again.run(rid).status == "running"


def test_seeds_trained_together_are_recorded_as_one_sweep(tmp_path):
    """The trainer's seed bands: a ReplicaTrainer's epochs, one run per seed, one sweep."""
    import dataclasses

    from miniframe.engine.replicas import ReplicaTrainer

    spec = load_preset("quick")
    spec = spec.replace(data=dataclasses.replace(spec.data, n_train=64, n_test=64), epochs=3)
    path = tmp_path / "runs.sqlite3"
    trainer = ReplicaTrainer(spec, [4, 5])
    with Recording.open(path=path).replicas(spec, [4, 5]) as rec:
        for e in trainer.fit():
            rec.epoch(e)
    with RunStore.open(path) as store:
        sweep = store.sweep(rec.sweep_id)
        runs = store.runs(sweep_id=rec.sweep_id)
        assert (sweep.status, sweep.backend, sweep.seeds) == ("finished", "trainer", [4, 5])
        assert [(r.seed, r.status, r.epochs, r.source) for r in runs] == [
            (4, "finished", 3, "trainer"), (5, "finished", 3, "trainer")]  # fmt: skip
        assert runs[1].final["test_acc"] == trainer.history[-1].test_acc[1]
