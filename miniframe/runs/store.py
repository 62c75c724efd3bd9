"""The run history: every training run, its spec, per-epoch metrics and outcome, in SQLite.

One database file, ``runs.sqlite3`` in platformdirs' user data folder (``$MINIFRAME_DATA_DIR``
instead, when set). It is written by whatever trains (``miniframe train``, ``sweep``,
``reproduce``, the terminal trainer's worker thread) and read by ``miniframe runs``:

- **WAL mode**, so one process's reads never wait for another's writes, and writers queue for
  a moment (``BUSY_SECONDS``) instead of failing; every write is one short transaction.
- **Never corrupt**: SQLite's journal makes each transaction all or nothing, also under SIGKILL.
- **A run whose process died** (SIGKILL, power loss) is found on the next open: each run keeps
  its owner (host, pid and the process's start, so a recycled pid is not mistaken for it), and a
  run still ``running`` whose owner on this host is gone becomes ``interrupted``. Ctrl-C and
  SIGTERM mark it ``interrupted`` at once (see :mod:`.recording`).
- **Versioned schema**: ``PRAGMA user_version`` counts the :data:`MIGRATIONS` applied; opening an
  older database applies the rest, in one transaction.

A :class:`RunStore` is safe to share between threads (one connection behind a lock). Anything
that goes wrong opening it is a :class:`RunStoreError` with a one-line message.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from miniframe.engine import METRICS, Status

if TYPE_CHECKING:
    from miniframe.engine import RunSpec

DATA_ENV = "MINIFRAME_DATA_DIR"
DATABASE_NAME = "runs.sqlite3"
#: How long a write waits for another process's write to finish before it gives up.
BUSY_SECONDS = 30.0


class RunStoreError(Exception):
    """The run history cannot be used (unreadable, not a database, a newer schema, …)."""


class RunNotFound(KeyError):
    """No run (or sweep) with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such run"


#: The statuses of a run not ended yet (the engine's :class:`~miniframe.engine.Status`, which
#: is the history's too).
ACTIVE = tuple(s.value for s in Status if s.active)

# Each entry takes the schema from version i to i + 1 (a fresh database runs them all).
MIGRATIONS: tuple[str, ...] = (
    # 1: runs and their epochs. Specs, metrics and final results are JSON: fields that other
    # work adds to EpochSummary or to the spec arrive without a schema change.
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        started REAL NOT NULL,
        ended REAL,
        status TEXT NOT NULL,
        final TEXT,
        checkpoint TEXT
    );
    CREATE TABLE epochs (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        metrics TEXT NOT NULL,
        PRIMARY KEY (run_id, epoch)
    ) WITHOUT ROWID;
    """,
    # 2: sweeps (a grid of settings × seeds, each a run); each run's owner process, so a run
    # whose process was killed is found; where a run came from. A v1 run still marked running
    # has no owner to check: it ends interrupted.
    """
    CREATE TABLE sweeps (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        grid TEXT NOT NULL,
        seeds TEXT NOT NULL,
        backend TEXT NOT NULL,
        started REAL NOT NULL,
        ended REAL,
        status TEXT NOT NULL,
        host TEXT,
        pid INTEGER,
        process TEXT
    );
    ALTER TABLE runs ADD COLUMN source TEXT NOT NULL DEFAULT 'cli';
    ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL;
    ALTER TABLE runs ADD COLUMN point TEXT;
    ALTER TABLE runs ADD COLUMN seed INTEGER;
    ALTER TABLE runs ADD COLUMN host TEXT;
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN process TEXT;
    ALTER TABLE runs ADD COLUMN updated REAL;
    UPDATE runs SET status = 'interrupted', ended = started WHERE status = 'running';
    CREATE INDEX runs_by_sweep ON runs(sweep_id);
    CREATE INDEX runs_by_hash ON runs(spec_hash);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


# ---- where, and who ---------------------------------------------------------------------------
def data_dir() -> Path:
    """``$MINIFRAME_DATA_DIR``, else platformdirs' user data folder for miniframe."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("miniframe"))


def database_path() -> Path:
    return data_dir() / DATABASE_NAME


def history_files(path: str | Path | None = None) -> list[Path]:
    """The files of the run history at ``path`` (default :func:`database_path`): the database
    and SQLite's ``-wal`` and ``-shm`` beside it. Nothing may be written over them."""
    db = Path(path).expanduser() if path is not None else database_path()
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_identity(pid: int) -> str | None:
    """What tells process ``pid`` apart from a later one given the same pid: the boot and its
    start time (Linux, from /proc). None if there is no such process (or it is a zombie).
    Without /proc: ``""`` if a process ``pid`` exists (a pid alone is all there is to check)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ""
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # exited, not yet reaped: gone as far as its runs go
        return None
    return f"{_boot_id()}:{fields[19]}"  # field 22 of stat: start time in ticks since boot


@dataclass(frozen=True)
class Owner:
    """The process a run is recorded by."""

    host: str
    pid: int
    process: str | None

    @classmethod
    def current(cls) -> Owner:
        return cls(socket.gethostname(), os.getpid(), process_identity(os.getpid()))

    def alive(self) -> bool:
        """False only when this host can tell the owner is gone; another host's processes
        cannot be checked from here, so they count as alive."""
        if self.host != socket.gethostname():
            return True
        now = process_identity(self.pid)
        if now is None:
            return False
        return not self.process or not now or now == self.process


# ---- what comes back --------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRecord:
    """One recorded run. ``spec`` is the spec as a dict (as stored: :meth:`load_spec` parses and
    validates it); ``final`` the last evaluated epoch's metrics (:data:`~miniframe.engine.METRICS`
    and ``epoch``); times are Unix seconds."""

    id: int
    name: str
    spec: dict[str, Any]
    spec_hash: str
    started: float
    ended: float | None
    status: str
    final: dict[str, Any] | None
    checkpoint: str | None
    source: str
    sweep_id: int | None
    point: dict[str, Any] | None
    seed: int | None
    epochs: int
    host: str | None
    pid: int | None

    @property
    def seconds(self) -> float | None:
        """Wall time from start to end (None while it runs)."""
        return None if self.ended is None else max(0.0, self.ended - self.started)

    def metric(self, name: str) -> float | None:
        value = (self.final or {}).get(name)
        return float(value) if isinstance(value, int | float) else None

    def load_spec(self) -> RunSpec:
        """The run's spec, parsed and validated (SpecError if this version cannot read it)."""
        from miniframe.engine import RunSpec

        return RunSpec.from_dict(self.spec, source=f"run {self.id}")


@dataclass(frozen=True)
class SweepRecord:
    """One recorded sweep: the base spec, the grid (setting → values), the seeds, the backend
    it ran on, and the ids of its runs."""

    id: int
    name: str
    spec: dict[str, Any]
    grid: dict[str, list[Any]]
    seeds: list[int]
    backend: str
    started: float
    ended: float | None
    status: str
    run_ids: list[int]


def spec_dict(spec: RunSpec | Mapping[str, Any]) -> dict[str, Any]:
    return dict(spec) if isinstance(spec, Mapping) else spec.to_dict()


def spec_hash(spec: RunSpec | Mapping[str, Any]) -> str:
    """SHA-256 of the spec's settings (everything but its name and description), as canonical
    JSON: two runs with the same hash trained the same thing."""
    settings = {k: v for k, v in spec_dict(spec).items() if k not in ("name", "description")}
    text = json.dumps(_finite(settings), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats as None, recursively (the database holds strict JSON)."""
    if isinstance(value, float):
        return value + 0.0 if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_finite(value), allow_nan=False)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def metrics_dict(summary: Any) -> dict[str, Any]:
    """An epoch's metrics as a dict: an EpochSummary (or anything with ``to_json_dict``), or a
    mapping as it is."""
    if isinstance(summary, Mapping):
        return dict(summary)
    to_json = getattr(summary, "to_json_dict", None)
    if to_json is None:
        raise TypeError(f"not an epoch summary: {type(summary).__name__}")
    out: dict[str, Any] = to_json()
    return out


# ---- the store --------------------------------------------------------------------------------
class RunStore:
    """The run history in one SQLite database; see the module's docstring. Open with
    :meth:`open`; every method may be called from any thread."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._lock = threading.RLock()
        self.owner = Owner.current()

    # ---- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None) -> RunStore:
        """Open (creating folder and file if need be) and migrate the database at ``path``
        (default :func:`database_path`); runs whose process is gone become interrupted.
        RunStoreError says in one line why it cannot be used."""
        path = Path(path).expanduser() if path is not None else database_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunStoreError(f"{path.parent}: cannot create the folder ({_why(e)})") from None
        if path.is_dir():
            raise RunStoreError(f"{path}: is a folder, not a database file")
        if path.exists() and not path.is_file():
            raise RunStoreError(f"{path}: not a regular file")
        try:
            db = sqlite3.connect(
                path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
        except sqlite3.Error as e:
            raise RunStoreError(f"{path}: cannot open ({e})") from None
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise RunStoreError(f"{path}: cannot use write-ahead logging (mode {mode})")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            store = cls(db, path)
            store._migrate()
            store.reap()
        except sqlite3.Error as e:
            db.close()
            raise RunStoreError(f"{path}: {_describe(e)}") from None
        except RunStoreError:
            db.close()
            raise
        return store

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def waiting(self, seconds: float) -> Iterator[None]:
        """Writes in the block wait at most ``seconds`` (not BUSY_SECONDS) for another
        process's lock before they raise :func:`is_busy` errors."""
        with self._lock:
            self._db.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")
            try:
                yield
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        """Apply the migrations this database lacks, all in one transaction (a second process
        opening it meanwhile waits, then finds it current). A current database is only read:
        it opens while another process holds it."""
        with self._lock:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version == SCHEMA_VERSION:
            return
        with self._write() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RunStoreError(
                    f"{self.path}: run history version {version} is newer than this miniframe "
                    f"reads ({SCHEMA_VERSION}); upgrade miniframe"
                )
            for script in MIGRATIONS[version:]:
                for statement in _statements(script):
                    db.execute(statement)
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock at once (waiting up to
        BUSY_SECONDS for another writer), so it never fails half way on a busy database."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def reap(self) -> int:
        """Mark ``interrupted`` the runs (and sweeps) still queued or running whose owner
        process on this host is gone; the number of runs so marked."""
        with self._lock:
            owners = self._db.execute(
                "SELECT DISTINCT host, pid, process FROM runs WHERE status IN (?, ?) "
                "UNION SELECT DISTINCT host, pid, process FROM sweeps WHERE status IN (?, ?)",
                ACTIVE + ACTIVE,
            ).fetchall()
        dead = [o for o in owners if not Owner(o[0] or "", o[1] or 0, o[2]).alive()]
        count = 0
        for host, pid, process in dead:
            try:
                count += self._mark_interrupted(host, pid, process)
            except sqlite3.OperationalError as e:
                if not is_busy(e):
                    raise
                break  # another process holds the history: the next open reaps them
        return count

    def _mark_interrupted(self, host: str | None, pid: int | None, process: str | None) -> int:
        """One dead owner's runs and sweeps still active: interrupted. How many runs."""
        with self._write() as db:
            count: int = db.execute(
                "UPDATE runs SET status = 'interrupted', ended = COALESCE(updated, started) "
                "WHERE status IN (?, ?) AND host IS ? AND pid IS ? AND process IS ?",
                (*ACTIVE, host, pid, process),
            ).rowcount
            db.execute(
                "UPDATE sweeps SET status = 'interrupted', ended = COALESCE(ended, ?) "
                "WHERE status IN (?, ?) AND host IS ? AND pid IS ? AND process IS ?",
                (time.time(), *ACTIVE, host, pid, process),
            )
        return count

    # ---- writing runs --------------------------------------------------------------------
    def start_run(
        self,
        spec: RunSpec | Mapping[str, Any],
        *,
        source: str = "cli",
        sweep_id: int | None = None,
        point: Mapping[str, Any] | None = None,
        seed: int | None = None,
        status: Status = Status.RUNNING,
    ) -> int:
        """Record a new run of ``spec`` (owned by this process); its id."""
        return self.start_runs([spec], source=source, sweep_id=sweep_id, points=[point],
                               seeds=[seed], status=status)[0]  # fmt: skip

    def start_runs(
        self,
        specs: Sequence[RunSpec | Mapping[str, Any]],
        *,
        source: str = "cli",
        sweep_id: int | None = None,
        points: Sequence[Mapping[str, Any] | None] | None = None,
        seeds: Sequence[int | None] | None = None,
        status: Status = Status.RUNNING,
    ) -> list[int]:
        """Record many runs in one transaction (a sweep's); their ids, in order."""
        now, o = time.time(), self.owner
        points = points if points is not None else [None] * len(specs)
        seeds = seeds if seeds is not None else [None] * len(specs)
        ids = []
        with self._write() as db:
            for spec, point, seed in zip(specs, points, seeds, strict=True):
                d = spec_dict(spec)
                cursor = db.execute(
                    "INSERT INTO runs (name, spec, spec_hash, started, status, source, sweep_id, "
                    "point, seed, host, pid, process, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (str(d.get("name", "")), _dumps(d), spec_hash(d), now, Status(status).value,
                     source, sweep_id, None if point is None else _dumps(point),
                     seed if seed is not None else d.get("seed"), o.host, o.pid, o.process, now),
                )  # fmt: skip
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
        return ids

    def set_status(self, run_ids: Iterable[int], status: Status) -> None:
        """Change the status of runs still queued or running (e.g. queued → running)."""
        with self._write() as db:
            db.executemany(
                "UPDATE runs SET status = ?, updated = ? WHERE id = ? AND status IN (?, ?)",
                [(Status(status).value, time.time(), i, *ACTIVE) for i in run_ids],
            )

    def record_epoch(self, run_id: int, summary: Any) -> None:
        """Store one epoch's metrics (an EpochSummary or a mapping with ``epoch``); recording
        the same epoch again replaces it."""
        self.record_epochs([(run_id, summary)])

    def record_epochs(self, rows: Iterable[tuple[int, Any]]) -> None:
        """Store many epochs, of one run or several, in one transaction."""
        now = time.time()
        values = []
        for run_id, summary in rows:
            metrics = metrics_dict(summary)
            values.append((run_id, int(metrics["epoch"]), _dumps(metrics)))
        with self._write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, metrics) VALUES (?, ?, ?)", values
            )
            touched = [(now, run_id) for run_id in {v[0] for v in values}]
            db.executemany("UPDATE runs SET updated = ? WHERE id = ?", touched)

    def finish_run(
        self,
        run_id: int,
        status: Status | str,
        checkpoint: str | Path | None = None,
        final: Mapping[str, Any] | None = None,
    ) -> None:
        """End a run: its status, end time, final metrics (default: those of its last
        evaluated epoch) and the checkpoint it was saved to, if any."""
        with self._write() as db:
            if final is None:
                final = self._last_metrics(db, run_id)
            db.execute(
                "UPDATE runs SET status = ?, ended = ?, updated = ?, final = ?, "
                "checkpoint = COALESCE(?, checkpoint) WHERE id = ?",
                (Status(status).value, time.time(), time.time(),
                 None if final is None else _dumps(final),
                 None if checkpoint is None else str(Path(checkpoint).expanduser().resolve()),
                 run_id),
            )  # fmt: skip

    def set_checkpoint(self, run_id: int, path: str | Path) -> None:
        """The file a run's model was saved to (e.g. saved after it finished)."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET checkpoint = ? WHERE id = ?",
                (str(Path(path).expanduser().resolve()), run_id),
            )

    @staticmethod
    def _last_metrics(db: sqlite3.Connection, run_id: int) -> dict[str, Any] | None:
        rows = db.execute(
            "SELECT metrics FROM epochs WHERE run_id = ? ORDER BY epoch DESC", (run_id,)
        )
        for (text,) in rows:
            m = json.loads(text)
            if any(m.get(k) is not None for k in METRICS):
                return {"epoch": m.get("epoch")} | {k: m.get(k) for k in METRICS}
        return None

    def delete_runs(self, run_ids: Sequence[int]) -> int:
        """Delete runs (their epochs with them) and sweeps left without runs; how many runs.
        RunNotFound names the first id that is not there, and then nothing is deleted."""
        with self._write() as db:
            for i in run_ids:
                if db.execute("SELECT 1 FROM runs WHERE id = ?", (i,)).fetchone() is None:
                    raise RunNotFound(f"no run {i}")
            count = sum(db.execute("DELETE FROM runs WHERE id = ?", (i,)).rowcount
                        for i in dict.fromkeys(run_ids))  # fmt: skip
            db.execute(
                "DELETE FROM sweeps WHERE status NOT IN (?, ?) AND id NOT IN "
                "(SELECT sweep_id FROM runs WHERE sweep_id IS NOT NULL)",
                ACTIVE,
            )
        return count

    # ---- sweeps ----------------------------------------------------------------------------
    def start_sweep(
        self,
        name: str,
        spec: RunSpec | Mapping[str, Any],
        grid: Mapping[str, Sequence[Any]],
        seeds: Sequence[int],
        backend: str,
    ) -> int:
        o = self.owner
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO sweeps (name, spec, grid, seeds, backend, started, status, host, "
                "pid, process) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                (name, _dumps(spec_dict(spec)), _dumps({k: list(v) for k, v in grid.items()}),
                 _dumps(list(seeds)), backend, time.time(), o.host, o.pid, o.process),
            )  # fmt: skip
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def finish_sweep(self, sweep_id: int, status: Status | str) -> None:
        """End a sweep; its runs still queued or running end with the same status."""
        now = time.time()
        with self._write() as db:
            db.execute(
                "UPDATE sweeps SET status = ?, ended = ? WHERE id = ?",
                (Status(status).value, now, sweep_id),
            )
            db.execute(
                "UPDATE runs SET status = ?, ended = ?, updated = ? "
                "WHERE sweep_id = ? AND status IN (?, ?)",
                (Status(status).value, now, now, sweep_id, *ACTIVE),
            )

    def sweep(self, sweep_id: int) -> SweepRecord:
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, spec, grid, seeds, backend, started, ended, status "
                "FROM sweeps WHERE id = ?",
                (sweep_id,),
            ).fetchone()
            if row is None:
                raise RunNotFound(f"no sweep {sweep_id}")
            ids = [r for (r,) in self._db.execute(
                "SELECT id FROM runs WHERE sweep_id = ? ORDER BY id", (sweep_id,))]  # fmt: skip
        return SweepRecord(row[0], row[1], _loads(row[2]), _loads(row[3]), _loads(row[4]),
                           row[5], row[6], row[7], row[8], ids)  # fmt: skip

    # ---- reading -------------------------------------------------------------------------
    _RUN_COLUMNS = (
        "id, name, spec, spec_hash, started, ended, status, final, checkpoint, source, "
        "sweep_id, point, seed, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = runs.id), "
        "host, pid"
    )

    @staticmethod
    def _record(row: Sequence[Any]) -> RunRecord:
        return RunRecord(
            id=row[0], name=row[1], spec=_loads(row[2]), spec_hash=row[3], started=row[4],
            ended=row[5], status=row[6], final=_loads(row[7]), checkpoint=row[8], source=row[9],
            sweep_id=row[10], point=_loads(row[11]), seed=row[12], epochs=row[13], host=row[14],
            pid=row[15],
        )  # fmt: skip

    def runs(
        self,
        last: int | None = None,
        sweep_id: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[RunRecord]:
        """Recorded runs, oldest first: the ``last`` N, those of one sweep, or those ``ids``
        (in the order given; RunNotFound names the first missing one)."""
        with self._lock:
            if ids is not None:
                found = {}
                for i in ids:
                    row = self._db.execute(
                        f"SELECT {self._RUN_COLUMNS} FROM runs WHERE id = ?", (i,)
                    ).fetchone()
                    if row is None:
                        raise RunNotFound(f"no run {i}")
                    found[i] = self._record(row)
                return [found[i] for i in ids]
            where, args = ("WHERE sweep_id = ?", (sweep_id,)) if sweep_id is not None else ("", ())
            limit = f" LIMIT {int(last)}" if last is not None else ""
            rows = self._db.execute(
                f"SELECT {self._RUN_COLUMNS} FROM runs {where} ORDER BY id DESC{limit}", args
            ).fetchall()
        return [self._record(r) for r in reversed(rows)]

    def run(self, run_id: int) -> RunRecord:
        return self.runs(ids=[run_id])[0]

    def epochs(self, run_id: int) -> list[dict[str, Any]]:
        """A run's recorded epochs, in order, as stored (EpochSummary.to_json_dict())."""
        self.run(run_id)  # RunNotFound
        with self._lock:
            rows = self._db.execute(
                "SELECT metrics FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)
            ).fetchall()
        return [json.loads(text) for (text,) in rows]

    def curves(
        self, run_ids: Sequence[int], metric: str
    ) -> dict[int, list[tuple[int, float | None]]]:
        """Per run, (epoch, value of ``metric``) for every recorded epoch (None where the
        epoch has no finite value): what a chart overlays."""
        out: dict[int, list[tuple[int, float | None]]] = {}
        for run_id in run_ids:
            points = []
            for m in self.epochs(run_id):
                value = m.get(metric)
                number = None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    number = float(value)
                points.append((int(m["epoch"]), number))
            out[run_id] = points
        return out

    def metric_names(self, run_ids: Sequence[int]) -> list[str]:
        """The numeric metrics recorded in these runs' epochs (``epoch`` and ``epochs`` aside),
        in the order first seen."""
        names: dict[str, None] = {}
        for run_id in run_ids:
            for m in self.epochs(run_id):
                for k, v in m.items():
                    if (
                        k not in ("epoch", "epochs")
                        and isinstance(v, int | float)
                        and not (isinstance(v, bool))
                    ):
                        names.setdefault(k)
        return list(names)


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite saying another connection holds the database (it waited
    its busy timeout): worth trying again later, unlike any other error."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(error)
    return "locked" in text or "busy" in text


def _statements(script: str) -> list[str]:
    """The statements of a migration script (no semicolons inside them)."""
    return [s.strip() for s in script.split(";") if s.strip()]


def _why(e: OSError) -> str:
    return e.strerror or str(e)


def _describe(e: sqlite3.Error) -> str:
    text = str(e)
    if "file is not a database" in text or "malformed" in text:
        return f"not a usable SQLite database ({text})"
    if "readonly" in text or "unable to open" in text:
        return f"cannot write here ({text})"
    return text
