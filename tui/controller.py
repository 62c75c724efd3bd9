"""The trainer's state: where training stands, and whether the model matches the screen.

Textual-free and torch-free: :class:`Controller` is a plain object with transition methods
that the app calls from its handlers (a key, a worker's message). Each fact lives here once:

- :attr:`Controller.status`, a :class:`TrainerStatus`: loading torch, ready (no trained
  model), running, paused, or an end state (stopped, finished, diverged, failed). An end
  state stays until the model is rebuilt (:meth:`Controller.reset`) or trained on.
- :attr:`Controller.built_from`: the spec the model in memory was built from (None: no
  model), against :attr:`Controller.screen`, the network and settings shown.
  :attr:`Controller.model_matches` says whether training now would train what the screen
  shows (the learning rate and the number of epochs apply to a model as it is).
- :attr:`Controller.problem`: why the screen's spec cannot train (a bad value, a bad stack).

:meth:`Controller.status_line` renders the one fact that matters now, fitting a width.
An illegal transition raises :class:`IllegalTransition` (a bug in the caller, never a user's
doing: the app checks :attr:`Controller.busy` and friends before it acts).
"""

from __future__ import annotations

from enum import StrEnum

from miniframe.engine import RunSpec

from .spec_form import needs_rebuild


class TrainerStatus(StrEnum):
    """Where training stands."""

    LOADING = "loading"  # torch is loading; nothing trained yet
    READY = "ready"  # no trained model: t builds one from the screen and trains it
    RUNNING = "running"  # a worker is training
    PAUSED = "paused"  # a worker waits between epochs
    STOPPED = "stopped"  # stopped (or stepped) part-way; t trains on
    FINISHED = "finished"  # trained to its last epoch (or a stop condition of the spec)
    DIVERGED = "diverged"  # the loss became NaN/inf
    FAILED = "failed"  # torch did not load, or the engine raised


#: Statuses in which a worker is training.
BUSY = frozenset({TrainerStatus.RUNNING, TrainerStatus.PAUSED})
#: How a worker's end maps to a status (``paused``: a single step ended).
_ENDS = {
    "finished": TrainerStatus.FINISHED,
    "stopped": TrainerStatus.STOPPED,
    "paused": TrainerStatus.STOPPED,
    "diverged": TrainerStatus.DIVERGED,
    "failed": TrainerStatus.FAILED,
}


class IllegalTransition(RuntimeError):
    """A transition the current status does not allow."""


class Rebuild(StrEnum):
    """What an edit of the screen's spec means for the model in memory."""

    NONE = "none"  # the model still matches (or there is none)
    ASK = "ask"  # a trained model now differs: ask whether to rebuild it
    DROP = "drop"  # an untrained model differs: drop it silently (rebuilt on the next t)


class Controller:
    """The trainer's state and its transitions (see the module docstring)."""

    def __init__(self, screen: RunSpec, problem: str | None = None) -> None:
        self.status = TrainerStatus.LOADING
        self.screen = screen
        self.problem = problem
        self.built_from: RunSpec | None = None
        self.epoch = 0
        self.target = screen.epochs
        self.detail = ""  # why: a diverged message, an error, "weights reset"…
        self.stepped = False  # the last end was a single step
        self.stopping = False  # a stop was asked for; the worker has not ended yet
        self.pausing = False  # a pause was asked for; the worker has not paused yet
        self.engine_ready = False
        #: Counts the trainings begun: a worker's end carries the number it was begun with,
        #: so the end of a training already superseded (a reset, a new start) is ignored.
        self.generation = 0

    # ---- facts ------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A worker is training (running or paused)."""
        return self.status in BUSY

    @property
    def has_model(self) -> bool:
        return self.built_from is not None

    @property
    def trained(self) -> bool:
        """A model exists and has trained at least one epoch."""
        return self.built_from is not None and self.epoch > 0

    @property
    def model_matches(self) -> bool:
        """Training now trains what the screen shows: no model yet (t builds it from the
        screen), or the model was built from the screen's network and settings (the
        learning rate and the epochs excepted: they apply to a model as it is)."""
        return self.built_from is None or not needs_rebuild(self.built_from, self.screen)

    @property
    def tone(self) -> str:
        """The colour key of the status line: the status, or ``invalid`` / ``differs``
        when the line says that instead."""
        if self.problem and not self.busy and self.status is not TrainerStatus.FAILED:
            return "invalid"
        if not self.model_matches and not self.busy and self.trained:
            return "differs"
        return self.status.value

    def model_note(self) -> str:
        """A short tag saying whether the model in memory is the screen's."""
        if self.built_from is None:
            return "no model yet" if self.epoch == 0 else "model reset"
        return "model = screen" if self.model_matches else "model ≠ screen"

    # ---- transitions ------------------------------------------------------------------
    def engine_loaded(self, error: str | None = None) -> None:
        """torch finished loading (or failed to)."""
        self.engine_ready = error is None
        if error is not None:
            self._to(TrainerStatus.FAILED, f"cannot load torch: {error}")
        elif self.status is TrainerStatus.LOADING:
            self._to(TrainerStatus.READY)

    def spec_edited(
        self, spec: RunSpec, problem: str | None = None, *, always_ask: bool = False
    ) -> Rebuild:
        """The screen now shows ``spec`` (``problem``: why it cannot train). Says whether
        the model in memory must be rebuilt: a question each time an edit makes a trained
        model differ from the screen, whatever was answered before (``always_ask``: also
        when the screen's model did not change, e.g. a preset was loaded again)."""
        before, self.screen, self.problem = self.screen, spec, problem
        self.target = spec.epochs  # the epochs apply to a model as it is
        if self.built_from is None or problem is not None or self.model_matches:
            return Rebuild.NONE
        if not self.trained and not self.busy:
            return Rebuild.DROP
        changed = always_ask or needs_rebuild(before, spec)
        return Rebuild.ASK if changed else Rebuild.NONE

    def begin(self, *, step: bool = False) -> int:
        """A worker starts training (``step``: one epoch). Returns its generation number.
        The model in memory trains on, even when it differs from the screen (the user said
        so); with no model, one is built from the screen."""
        if self.busy:
            raise IllegalTransition(f"cannot begin training while {self.status}")
        if self.problem is not None:
            raise IllegalTransition(f"cannot train: {self.problem}")
        if self.built_from is None:
            self.built_from = self.screen
        self.generation += 1
        self.stopping = self.pausing = self.stepped = False
        self._to(TrainerStatus.RUNNING, "" if self.engine_ready else "loading torch…")
        return self.generation

    def started(self, epoch: int, target: int) -> None:
        """The worker built (or reused) the model at ``epoch`` and trains to ``target``."""
        self.epoch, self.target = epoch, target
        if self.status is TrainerStatus.RUNNING and not self.stopping:
            self.detail = ""

    def step(self, epoch: int) -> None:
        """An epoch was trained."""
        self.epoch = epoch

    def pause(self) -> None:
        """Ask the worker to wait after this epoch."""
        if self.status is not TrainerStatus.RUNNING:
            raise IllegalTransition(f"cannot pause while {self.status}")
        self.pausing = True
        self._to(TrainerStatus.PAUSED, "pausing after this epoch…")

    def paused(self) -> None:
        """The worker now waits between epochs."""
        if self.busy and not self.stopping:
            self.pausing = False
            self._to(TrainerStatus.PAUSED, "p resumes, n steps one epoch")

    def resume(self) -> None:
        """Go on training after a pause."""
        if self.status is not TrainerStatus.PAUSED:
            raise IllegalTransition(f"cannot resume while {self.status}")
        self.pausing = False
        self._to(TrainerStatus.RUNNING)

    def stop(self) -> None:
        """Ask the worker to stop (it ends with :meth:`end`)."""
        if not self.busy:
            raise IllegalTransition(f"cannot stop while {self.status}")
        self.stopping = True
        self._to(TrainerStatus.RUNNING, "stopping…")

    def end(self, generation: int, how: str, detail: str = "") -> bool:
        """The worker of ``generation`` ended: ``how`` is finished, stopped, diverged,
        failed, or paused (a single step ended). False (and nothing changes) when that
        training was already superseded."""
        if generation != self.generation or not self.busy:
            return False
        status = _ENDS.get(how)
        if status is None:
            raise IllegalTransition(f"unknown end {how!r}")
        self.stopping = self.pausing = False
        self.stepped = how == "paused"
        self._to(status, detail)
        return True

    def loaded(self, spec: RunSpec, epoch: int) -> None:
        """A checkpoint's model, built from ``spec``, at ``epoch``, is now in memory (and on
        the screen)."""
        if self.busy:
            raise IllegalTransition(f"cannot load a model while {self.status}")
        self.generation += 1
        self.built_from, self.screen, self.problem = spec, spec, None
        self.epoch, self.target = epoch, spec.epochs
        self.stepped = False
        status = TrainerStatus.FINISHED if epoch >= spec.epochs else TrainerStatus.STOPPED
        self._to(status if epoch > 0 else TrainerStatus.READY, "loaded")

    def reset(self, detail: str = "weights reset") -> None:
        """The model was discarded: the next training builds one from the screen."""
        self.generation += 1  # a worker still ending is superseded
        self.built_from = None
        self.epoch, self.target = 0, self.screen.epochs
        self.stopping = self.pausing = self.stepped = False
        base = TrainerStatus.READY if self.engine_ready else TrainerStatus.LOADING
        if self.status is TrainerStatus.FAILED and not self.engine_ready:
            base = TrainerStatus.FAILED
            detail = self.detail
        self._to(base, detail)

    def fail(self, error: str) -> None:
        """Something the app did for the model failed outside a worker's end."""
        self.stopping = self.pausing = False
        self._to(TrainerStatus.FAILED, error)

    def _to(self, status: TrainerStatus, detail: str = "") -> None:
        self.status, self.detail = status, detail

    # ---- the one line ---------------------------------------------------------------------
    def status_line(self, width: int) -> str:
        """The one fact that matters now, in at most ``width`` characters: the longest of
        its phrasings that fits, else the shortest cut with an ellipsis."""
        options = self._phrasings()
        for text in options:
            if len(text) <= width:
                return text
        return _cut(options[-1], width)

    def full_line(self) -> str:
        """The fact at its longest (for a notification when the line is cut)."""
        return self._phrasings()[0]

    def _phrasings(self) -> list[str]:
        s, at = self.status, f"{self.epoch}/{self.target}"
        differs = not self.model_matches
        if s is TrainerStatus.FAILED:
            return [f"failed: {self.detail}", "failed"]
        if self.problem and not self.busy:
            return [f"invalid: {self.problem}", f"✗ {self.problem}"]
        if s is TrainerStatus.RUNNING:
            tail = f" ({self.detail})" if self.detail else ""
            if differs:
                return [
                    f"running{tail}; model differs from screen: r rebuilds",
                    f"running{tail}; model ≠ screen",
                    "running; model ≠ screen",
                ]
            return [f"running{tail}", "running"]
        if s is TrainerStatus.PAUSED:
            if self.pausing:
                return ["pausing after this epoch…", "pausing…"]
            mark = "; model ≠ screen" if differs else ""
            return [
                f"paused at epoch {at}{mark}: p resumes, n steps",
                f"paused at epoch {at}{mark}",
                f"paused{mark}",
            ]
        if differs and self.trained:
            return [
                "model differs from screen: t asks to rebuild",
                "model ≠ screen: t asks to rebuild",
                "model ≠ screen: t asks",
            ]
        if s is TrainerStatus.LOADING:
            return ["loading torch…"]
        if s is TrainerStatus.READY:
            if self.detail == "loaded":
                return ["ready: loaded model, t trains it"]
            if not self.detail:
                return ["ready: press t to train", "ready: t trains"]
            lead = f"ready: {self.detail}"
            return [f"{lead}; t trains from scratch", f"{lead}; t trains", "ready: t trains"]
        if s is TrainerStatus.STOPPED:
            verb = "stepped to" if self.stepped else "stopped at"
            if self.detail == "loaded":
                verb = "loaded at"
            return [
                f"{verb} epoch {at}: t trains on, n steps",
                f"{verb} epoch {at}: t trains on",
                f"{verb} epoch {at}",
            ]
        if s is TrainerStatus.FINISHED:
            why = self.detail if self.detail and not self.detail.startswith("trained ") else ""
            if self.detail == "loaded":
                why = "loaded"
            head = f"finished at epoch {at}"
            return [f"{head}: {why}" if why else head, head, f"finished {at}"]
        # DIVERGED
        advice = self.detail.rsplit(": ", 1)[-1]
        return [
            f"diverged at epoch {self.epoch}: {self.detail}" if self.detail else "diverged",
            f"diverged: {advice}" if advice else "diverged",
            f"diverged at epoch {self.epoch}: r resets",
            "diverged",
        ]


def _cut(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
