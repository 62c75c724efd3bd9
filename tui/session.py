"""The training session behind the screen: the engine run, and the thread-side loop.

:class:`TrainingSession` is what the app's ``@work(thread=True)`` workers call. It owns the
engine :class:`~miniframe.engine.train.Run` (imported lazily: torch loads in the background),
the stop flag and pause event, and a feed of epoch summaries. It only *posts* messages; it
never touches a widget. Everything that touches the run holds ``lock``, so resetting, saving a
checkpoint and training never overlap.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual.message import Message

from miniframe.engine.spec import RunSpec

from .messages import BoundaryData, BoundaryReady, EpochsReady, PausedChanged, TrainingStarted

if TYPE_CHECKING:
    from miniframe.engine.train import EpochSummary, Run

Post = Callable[[Message], Any]

BOUNDARY_GRID = 48
BOUNDARY_POINTS = 400
#: While training, the views (the decision map and the panels beside it) are recomputed at most
#: this often: each costs a forward pass over the map's grid here and a redraw on the UI thread,
#: which takes the interpreter from training (once a second cost the vanilla preset ~2 %).
BOUNDARY_EVERY_S = 2.0
#: ... and within this share of the time: an update that costs more (a deep network's forward
#: passes and map, on a slow host: 40 ms and more, 2 % of the time at one per 2 s) comes less
#: often, but at least every ``VIEWS_MAX_GAP_S``, so the map is never far behind the epochs.
VIEWS_SHARE = 0.01
VIEWS_MAX_GAP_S = 5.0
#: While epochs stream in, the UI hears of them (and the Training panel redraws) at most this
#: often. Every screen update takes the interpreter from the training thread, and slows the
#: training thread beyond the time it takes (benchmarks/tui_bench.py, interleaved: at 2 a second
#: the UI thread had 4.4-4.7 % of the wall and training's CPU per epoch rose 4-13 %; at 1 a
#: second 3.6-4.2 % and 2-7 %, in-app speed ÷ headless 0.83-0.91 → 0.88-0.93). A panel that
#: moves every second still reads as live; the last epoch is always shown at once.
PROGRESS_EVERY_S = 1.0


def views_gap(cost_s: float) -> float:
    """Seconds between view updates while training, for updates costing ``cost_s`` CPU
    seconds (computing them here and drawing them on the UI thread): ``cost_s`` is at most
    :data:`VIEWS_SHARE` of the time, within [:data:`BOUNDARY_EVERY_S`, :data:`VIEWS_MAX_GAP_S`]."""
    if not math.isfinite(cost_s) or cost_s < 0:
        return BOUNDARY_EVERY_S
    return min(VIEWS_MAX_GAP_S, max(BOUNDARY_EVERY_S, cost_s / VIEWS_SHARE))


def load_engine() -> None:
    """Import torch and the engine's training modules (slow: ~1-2 s).

    One intra-op thread: the small matrices here are dispatch-bound, and on a 2-core machine
    a second torch thread made epochs several times slower while competing with the UI.
    """
    import torch

    import miniframe.engine.train  # noqa: F401

    torch.set_num_threads(1)


class TrainingSession:
    """Holds the run between trainings, and drives it from a worker thread."""

    def __init__(self) -> None:
        self.run: Run | None = None
        self.lock = threading.RLock()
        self._stop_flag = threading.Event()
        self._resume_event = threading.Event()
        self._resume_event.set()
        self._step_request = threading.Event()
        self._feed: deque[EpochSummary] = deque()
        self._feed_lock = threading.Lock()
        self._unnotified = False
        self._notified_at = 0.0
        self.pending_lr: float | None = None
        #: Seeds the next model trains at once (the "seeds" setting; 1: a lone Run).
        self.replicas = 1
        #: Called in the training thread with each epoch's summary as it is produced (the
        #: benchmark, benchmarks/tui_bench.py, times epochs with it).
        self.observers: list[Callable[[EpochSummary], object]] = []
        self._busy_lock = threading.Lock()
        self._training = 0
        self._saving = 0
        self._saved = threading.Condition(self._busy_lock)
        #: Build runs that record each Linear layer's health per epoch (the health panel).
        self.layer_stats = False
        #: Called in the training thread (lock held) for the views' data, at most every
        #: :func:`views_gap`; None: the two-class boundary grid (:meth:`boundary`).
        self.snapshot: Callable[[Run], Message] | None = None
        #: CPU seconds the UI thread took to show the last views (the app measures it):
        #: with the snapshot's own time, what spaces the updates while training.
        self.views_ui_cost = 0.0

    # ---- feed ---------------------------------------------------------------------------
    def drain(self) -> list[EpochSummary]:
        """Every summary posted since the last drain (UI thread)."""
        with self._feed_lock:
            items = list(self._feed)
            self._feed.clear()
        return items

    def _push(self, summary: EpochSummary, post: Post) -> None:
        """Queue a summary; tell the UI at most every ``PROGRESS_EVERY_S`` (a fast run
        finishes ~100 epochs a second, and each message wakes the UI thread, which then
        competes with this one for the interpreter). :meth:`_flush` tells it about the rest."""
        with self._feed_lock:
            self._feed.append(summary)
            self._unnotified = True
        for observe in self.observers:
            observe(summary)
        now = time.monotonic()
        if now - self._notified_at >= PROGRESS_EVERY_S or summary.status != "running":
            self._flush(post)

    def _flush(self, post: Post) -> None:
        """Post EpochsReady if summaries arrived since the last one."""
        with self._feed_lock:
            if not self._unnotified:
                return
            self._unnotified = False
        self._notified_at = time.monotonic()
        post(EpochsReady())

    # ---- what the threads are doing (any thread) ------------------------------------------
    @contextlib.contextmanager
    def _doing(self, what: str) -> Iterator[None]:
        with self._busy_lock:
            setattr(self, what, getattr(self, what) + 1)
        try:
            yield
        finally:
            with self._busy_lock:
                setattr(self, what, getattr(self, what) - 1)
                self._saved.notify_all()

    @property
    def training(self) -> bool:
        """A thread is inside :meth:`train` (maybe in a long batch, maybe stopping)."""
        return self._training > 0

    def wait_saved(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for checkpoint saves in progress; True when none is left."""
        with self._saved:
            return self._saved.wait_for(lambda: self._saving == 0, timeout)

    # ---- controls (UI thread): the only code that touches the events ----------------------
    @property
    def paused(self) -> bool:
        return not self._resume_event.is_set()

    def begin(self) -> None:
        """Before a worker starts :meth:`train`: not stopped, not paused, no step asked."""
        self._stop_flag.clear()
        self._resume_event.set()
        self._step_request.clear()

    def pause(self) -> None:
        """The worker waits after the epoch it is in."""
        self._resume_event.clear()

    def resume(self) -> None:
        """The worker goes on after a pause."""
        self._resume_event.set()

    def step(self) -> None:
        """While paused: the worker trains exactly one more epoch, then waits again."""
        self._step_request.set()

    def stop(self) -> None:
        """The worker stops within a batch (it never waits for it)."""
        self._stop_flag.set()
        self._resume_event.set()

    request_stop = stop

    def set_lr(self, lr: float) -> None:
        """Apply a new learning rate to the run now (and to later runs)."""
        self.pending_lr = lr

    @property
    def epoch(self) -> int:
        return self.run.epoch if self.run is not None else 0

    @property
    def has_run(self) -> bool:
        return self.run is not None

    # ---- thread side -------------------------------------------------------------------
    def discard(self) -> None:
        """Forget the run; the next training builds a new one from its spec."""
        with self.lock:
            self.run = None

    def _ensure_run(self, spec: RunSpec) -> tuple[Run, bool]:
        from miniframe.engine.train import Run

        if self.run is None:
            if self.replicas > 1:  # the "seeds" setting: K seeds at once (.replica_session)
                from .replica_session import ReplicaRun

                self.run = cast("Run", ReplicaRun(spec, self.replicas))
            else:
                self.run = Run(spec, layer_stats=self.layer_stats)
            return self.run, True
        return self.run, False

    def _apply_lr(self, run: Run) -> None:
        lr, self.pending_lr = self.pending_lr, None
        if lr is not None and math.isfinite(lr) and lr > 0:
            run.set_lr(lr)

    def train(
        self,
        spec: RunSpec,
        target: int,
        is_cancelled: Callable[[], bool],
        post: Post,
        single_step: bool = False,
    ) -> tuple[str, str]:
        """Train until epoch ``target`` (or one epoch when ``single_step``), posting summaries.

        Returns the end state and its reason: ("finished"|"stopped"|"diverged"|"paused", msg).
        Every summary is announced (EpochsReady) before this returns.
        """
        with self._doing("_training"):
            try:
                return self._train(spec, target, is_cancelled, post, single_step)
            finally:
                self._flush(post)

    def _train(
        self,
        spec: RunSpec,
        target: int,
        is_cancelled: Callable[[], bool],
        post: Post,
        single_step: bool,
    ) -> tuple[str, str]:

        def should_stop() -> bool:
            if self.pending_lr is not None and self.run is not None:
                self._apply_lr(self.run)
            return is_cancelled() or self._stop_flag.is_set()

        with self.lock:
            run, fresh = self._ensure_run(spec)
            self._apply_lr(run)
            post(TrainingStarted(run.epoch, target, fresh))
            if run.epoch == 0:
                post(self._views(run))
        remaining = target - run.epoch
        if single_step:
            remaining = 1  # also past the last epoch: a step is asked for explicitly
        elif remaining <= 0:
            return "finished", f"already trained {run.epoch} epochs"
        last_boundary = time.monotonic()
        gap = BOUNDARY_EVERY_S
        was_paused = False
        for _ in range(remaining):
            # Between epochs: honour pause (and single steps while paused).
            while not self._resume_event.is_set() and not should_stop():
                self._flush(post)  # show the last epoch (or the stepped one) while paused
                if not was_paused:
                    was_paused = True
                    post(PausedChanged(True))
                if self._step_request.is_set():
                    break
                self._resume_event.wait(0.05)
            if should_stop():
                return "stopped", f"stopped after epoch {run.epoch}"
            stepping = self._step_request.is_set()
            self._step_request.clear()
            if was_paused and not stepping:
                was_paused = False
                post(PausedChanged(False))
            with self.lock:
                summary = run.step_epoch(should_stop)
                if summary.train_acc is not None:  # a stop skips the evaluation: nothing to show
                    self._push(summary, post)
                now = time.monotonic()
                done = summary.status != "running" or run.epoch >= target
                if done or now - last_boundary >= gap:
                    last_boundary = now
                    if summary.status != "diverged":
                        start = time.thread_time()
                        post(self._views(run))
                        gap = views_gap(time.thread_time() - start + self.views_ui_cost)
            if summary.status == "diverged":
                return "diverged", summary.message
            if summary.status == "stopped":
                return "stopped", summary.message or f"stopped in epoch {run.epoch + 1}"
            if summary.status == "finished" and summary.message:  # a stop condition was met
                return "finished", summary.message
        if run.epoch >= target:
            return "finished", f"trained {run.epoch} epochs"
        return "paused", f"stepped to epoch {run.epoch}"

    def _views(self, run: Run) -> Message:
        """The views' data for ``run`` now (lock held)."""
        if self.snapshot is not None:
            return self.snapshot(run)
        return BoundaryReady(self.boundary(run))

    def boundary(self, run: Run, grid: int = BOUNDARY_GRID) -> BoundaryData:
        """P(class 1) over a grid×grid lattice of [0,1]² and the (de-centred) test points."""
        import torch

        with self.lock:
            ticks = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid
            ys = 1.0 - ticks  # top row first
            gy, gx = torch.meshgrid(ys, ticks, indexing="ij")
            lattice = torch.stack((gx.reshape(-1), gy.reshape(-1)), dim=1)
            probs = run.predict_proba(lattice)
            test = run.test_data
            n = min(len(test), BOUNDARY_POINTS)
            x = test.x[:n].detach().cpu().float()
            if run.spec.data.center:
                x = (x + 1.0) / 2.0
            pred = (run.predict_proba(x) > 0.5).long()
            points = [
                (float(a), float(b), int(t), int(p))
                for (a, b), t, p in zip(
                    x.tolist(), test.y[:n].cpu().tolist(), pred.tolist(), strict=True
                )
            ]
        values = [0.5 if not math.isfinite(v) else v for v in probs.tolist()]
        return BoundaryData(grid=grid, probs=values, points=points, epoch=run.epoch)

    def save_checkpoint(self, path: Path) -> None:
        """Save the current model and spec (engine's atomic save_checkpoint)."""
        with self._doing("_saving"), self.lock:
            if self.run is None:
                raise ValueError("nothing to save yet: train the model first")
            self.run.save(path)  # with its epoch, data shape and input transform

    def load_checkpoint(self, path: Path) -> LoadedModel:
        """Load a checkpoint: its spec becomes the run's, its weights the model's; returns
        what the screen shows of it at once (its accuracies and its map)."""
        from miniframe.engine.train import Run

        run = Run.from_checkpoint(path, layer_stats=self.layer_stats)
        with self.lock:
            self.run = run
            train_loss, train_acc = run.trainer.evaluate(run.train_data)
            test_loss, test_acc = run.trainer.evaluate(run.test_data)
            boundary = self.boundary(run)
        return LoadedModel(
            run.spec, run.epoch, train_loss, train_acc, test_loss, test_acc, boundary
        )


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint's model as the screen shows it: spec, epoch, accuracies, map."""

    spec: RunSpec
    epoch: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    boundary: BoundaryData
