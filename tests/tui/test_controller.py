"""The trainer's state model (tui/controller.py): transitions and the one status line, no
Textual, no torch."""

from __future__ import annotations

import pytest
from tui_helpers import tiny_spec

from miniframe.engine import LayerSpec
from miniframe.tui.controller import Controller, IllegalTransition, Rebuild, TrainerStatus


def ready(epochs: int = 200) -> Controller:
    c = Controller(tiny_spec(epochs=epochs))
    c.engine_loaded()
    return c


def trained_to(epoch: int, how: str = "stopped", epochs: int = 200) -> Controller:
    c = ready(epochs)
    gen = c.begin()
    c.started(0, epochs)
    c.step(epoch)
    c.stop()
    assert c.end(gen, how)
    return c


def wider(c: Controller) -> object:
    spec = c.screen
    return spec.replace(layers=[LayerSpec("linear", 16), *spec.layers[1:]])


def test_loading_then_ready() -> None:
    c = Controller(tiny_spec())
    assert c.status is TrainerStatus.LOADING and c.status_line(40) == "loading torch…"
    c.engine_loaded()
    assert c.status is TrainerStatus.READY and not c.has_model and c.model_matches
    assert c.status_line(40).startswith("ready")


def test_engine_failure_is_failed() -> None:
    c = Controller(tiny_spec())
    c.engine_loaded("ImportError: no torch")
    assert c.status is TrainerStatus.FAILED
    assert c.full_line() == "failed: cannot load torch: ImportError: no torch"


def test_begin_pause_resume_stop_end() -> None:
    c = ready()
    gen = c.begin()
    assert c.status is TrainerStatus.RUNNING and c.busy and c.built_from == c.screen
    c.started(0, 200)
    c.pause()
    assert c.status is TrainerStatus.PAUSED and c.status_line(40) == "pausing after this epoch…"
    c.step(12)
    c.paused()
    assert c.status_line(40) == "paused at epoch 12/200"
    assert c.status_line(60) == "paused at epoch 12/200: p resumes, n steps"
    c.resume()
    assert c.status is TrainerStatus.RUNNING
    c.step(113)
    c.stop()
    assert c.status is TrainerStatus.RUNNING and "stopping" in c.status_line(40)
    assert c.end(gen, "stopped", "stopped during epoch 114")
    assert c.status is TrainerStatus.STOPPED
    assert c.status_line(24) == "stopped at epoch 113/200"


def test_illegal_transitions_raise() -> None:
    c = ready()
    with pytest.raises(IllegalTransition):
        c.pause()
    with pytest.raises(IllegalTransition):
        c.resume()
    with pytest.raises(IllegalTransition):
        c.stop()
    c.begin()
    with pytest.raises(IllegalTransition):
        c.begin()
    with pytest.raises(IllegalTransition):
        c.loaded(c.screen, 3)


def test_begin_refused_while_the_screen_is_invalid() -> None:
    c = ready()
    c.spec_edited(c.screen, "learning rate: must be positive")
    assert c.tone == "invalid" and c.status_line(80) == "invalid: learning rate: must be positive"
    with pytest.raises(IllegalTransition):
        c.begin()


def test_a_superseded_end_is_ignored() -> None:
    c = ready()
    old = c.begin()
    c.step(5)
    c.reset()  # the weights were reset while the worker was still stopping
    assert c.status is TrainerStatus.READY and not c.has_model
    assert not c.end(old, "stopped")
    assert c.status is TrainerStatus.READY


def test_end_states_stay_until_the_model_is_rebuilt() -> None:
    c = trained_to(113)
    c.spec_edited(c.screen.replace(solver=c.screen.solver.__class__(name="adam", lr=0.5)))
    assert c.status is TrainerStatus.STOPPED and c.model_matches  # lr: the same model
    assert c.status_line(40) == "stopped at epoch 113/200: t trains on"
    c.spec_edited(c.screen.replace(epochs=300))
    assert c.status_line(24) == "stopped at epoch 113/300"
    c.reset()
    assert c.status is TrainerStatus.READY


def test_each_structural_edit_of_a_trained_model_asks() -> None:
    c = trained_to(57)
    assert c.spec_edited(wider(c)) is Rebuild.ASK
    assert not c.model_matches and c.tone == "differs"
    assert c.status_line(80) == "model differs from screen: t asks to rebuild"
    assert c.status_line(30) == "model ≠ screen: t asks"
    assert c.model_note() == "model ≠ screen"
    # a second structural change asks again ("No" the first time is not remembered)
    assert c.spec_edited(c.screen.replace(seed=9)) is Rebuild.ASK
    # back to what the model was built from: it matches again, no question
    assert c.built_from is not None
    assert c.spec_edited(c.built_from) is Rebuild.NONE
    assert c.model_matches and c.status_line(40).startswith("stopped at epoch 57/200")


def test_no_keeps_training_the_current_model() -> None:
    c = trained_to(57)
    built = c.built_from
    c.spec_edited(wider(c))
    gen = c.begin()  # the app asked; the user said No: train the model in memory on
    assert c.built_from is built and c.status is TrainerStatus.RUNNING
    assert "model ≠ screen" in c.status_line(40)
    c.step(58)
    assert c.end(gen, "paused")
    assert c.status is TrainerStatus.STOPPED and c.stepped


def test_an_untrained_model_is_dropped_silently() -> None:
    c = ready()
    c.loaded(c.screen, 0)  # a checkpoint at epoch 0
    assert c.spec_edited(wider(c)) is Rebuild.DROP


def test_loaded_checkpoint_reads_as_its_epoch() -> None:
    c = ready()
    spec = tiny_spec(epochs=20)
    c.loaded(spec, 20)
    assert c.status is TrainerStatus.FINISHED and c.model_matches
    assert c.status_line(40) == "finished at epoch 20/20: loaded"
    c.loaded(spec, 7)
    assert c.status_line(40) == "loaded at epoch 7/20: t trains on"


def test_diverged_and_finished_lines() -> None:
    c = ready(epochs=10)
    gen = c.begin()
    c.step(4)
    c.end(gen, "diverged", "loss became nan: lower the learning rate")
    assert c.status_line(80) == "diverged at epoch 4: loss became nan: lower the learning rate"
    assert c.status_line(40) == "diverged: lower the learning rate"
    assert c.status_line(30) == "diverged at epoch 4: r resets"
    c.reset()
    gen = c.begin()
    c.step(10)
    c.end(gen, "finished", "trained 10 epochs")
    assert c.status_line(40) == "finished at epoch 10/10"


@pytest.mark.parametrize("width", [10, 20, 30, 40, 80])
def test_every_line_fits(width: int) -> None:
    states = [ready(), trained_to(113), trained_to(200, "finished")]
    long = ready()
    long.spec_edited(long.screen, "the stack " + "is very long " * 10)
    states.append(long)
    differs = trained_to(5)
    differs.spec_edited(wider(differs))
    states.append(differs)
    for c in states:
        assert len(c.status_line(width)) <= width
