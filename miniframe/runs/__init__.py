"""The run history: every training run recorded in SQLite, queried and compared.

- :mod:`.store`: the database (:class:`RunStore`: schema, migrations, WAL, runs whose process
  died), what it returns (:class:`RunRecord`, :class:`SweepRecord`) and where it lives
  (:func:`database_path`, ``$MINIFRAME_DATA_DIR``).
- :mod:`.recording`: how training writes to it without ever failing because of it
  (:class:`Recording`, :class:`RunRecorder`).
- :mod:`.compare`: settings side by side, the ones that differ, a chart of one metric.

This is application infrastructure, not the textbook engine: it imports no torch. A run's
status is the engine's :class:`~miniframe.engine.Status` (``RunStatus`` is the same class, under
the name the trainer imports it by).
"""

from miniframe.engine import Status

from .compare import (
    chart,
    data_summary,
    differences,
    differing,
    network_summary,
    settings,
    show_value,
)
from .recording import Recording, ReplicaRecorder, RunRecorder
from .store import (
    DATA_ENV,
    MIGRATIONS,
    SCHEMA_VERSION,
    RunNotFound,
    RunRecord,
    RunStore,
    RunStoreError,
    SweepRecord,
    data_dir,
    database_path,
    history_files,
    spec_hash,
)

RunStatus = Status

__all__ = [
    "DATA_ENV",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Recording",
    "ReplicaRecorder",
    "RunNotFound",
    "RunRecord",
    "RunRecorder",
    "RunStatus",
    "RunStore",
    "RunStoreError",
    "SweepRecord",
    "chart",
    "data_dir",
    "data_summary",
    "database_path",
    "differences",
    "differing",
    "history_files",
    "network_summary",
    "settings",
    "show_value",
    "spec_hash",
]
