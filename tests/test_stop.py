"""Stop conditions: a target test accuracy, early stopping on the test loss (optionally with the
best weights restored), in the spec and in the summaries, read as one fact."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from miniframe.engine import Run, RunSpec, SpecError, StopSpec, inspect_checkpoint, load_preset


def spec(epochs=60, **stop) -> RunSpec:
    s = load_preset("quick")
    data = dataclasses.replace(s.data, n_train=200, n_test=200)
    return s.replace(data=data, epochs=epochs, stop=StopSpec(**stop))


def test_no_condition_runs_every_epoch():
    summaries = list(Run(spec(epochs=5)).fit())
    assert [s.status for s in summaries] == ["running"] * 4 + ["finished"]
    assert summaries[-1].message == ""


def test_target_accuracy_ends_the_run_when_reached():
    summaries = list(Run(spec(target_acc=90.0)).fit())
    last = summaries[-1]
    assert last.status == "finished" and last.epoch < 60
    assert last.test_acc is not None and last.test_acc >= 90.0
    assert all(s.test_acc is not None and s.test_acc < 90.0 for s in summaries[:-1])
    assert last.message == (
        f"reached the target test accuracy: {last.test_acc:.1f} % ≥ 90 % at epoch {last.epoch}"
    )


def test_patience_ends_the_run_when_the_test_loss_stalls():
    summaries = list(Run(spec(epochs=400, patience=3)).fit())
    last = summaries[-1]
    assert last.status == "finished" and last.epoch < 400
    losses = [s.test_loss for s in summaries]
    best = min(range(len(losses)), key=lambda i: losses[i])
    assert len(summaries) - 1 - best == 3  # three epochs without a new best, then stop
    assert last.message.startswith("early stop: the test loss has not improved for 3 epochs")
    assert f"at epoch {best + 1})" in last.message


def test_restore_best_puts_back_the_best_epochs_weights():
    run = Run(spec(epochs=400, patience=3, restore_best=True))
    summaries = list(run.fit())
    best = run.trainer.best
    assert best is not None and run.trainer.restored == best.epoch
    assert summaries[-1].message.endswith(
        f"; restored the weights of epoch {best.epoch} (lowest test loss)"
    )
    again = Run(spec(epochs=best.epoch))  # the same run, stopped at the best epoch
    list(again.fit())
    for (p, _), (q, _) in zip(run.model.param(), again.model.param(), strict=True):
        assert torch.equal(p, q)


def test_the_weights_epoch_is_the_restored_one_until_training_moves_on(tmp_path):
    """What a checkpoint says its weights are: the best epoch's after a restore (not the
    last trained), and the epoch trained again once training goes on from them."""
    run = Run(spec(epochs=400, patience=3, restore_best=True))
    list(run.fit())
    best = run.trainer.best
    assert best is not None and best.epoch < run.epoch
    assert run.trainer.weights_epoch == best.epoch
    run.save(tmp_path / "best.safetensors")
    assert inspect_checkpoint(tmp_path / "best.safetensors").epoch == best.epoch
    assert Run.from_checkpoint(tmp_path / "best.safetensors").epoch == best.epoch
    run.trainer.stop = StopSpec()  # on from the restored weights, no condition to stop it
    after = run.step_epoch()
    assert (
        after.epoch == run.epoch
        and run.trainer.restored is None
        and run.trainer.weights_epoch == after.epoch
    )
    run.save(tmp_path / "on.safetensors")
    assert inspect_checkpoint(tmp_path / "on.safetensors").epoch == after.epoch


def test_restore_best_at_the_last_epoch_too():
    run = Run(spec(epochs=8, restore_best=True))
    summaries = list(run.fit())
    best = run.trainer.best
    assert best is not None
    if best.epoch != 8:
        assert run.trainer.restored == best.epoch
        assert summaries[-1].message == (
            f"restored the weights of epoch {best.epoch} (lowest test loss)"
        )
    loss, _ = run.trainer.evaluate(run.test_data)
    assert loss == pytest.approx(best.test_loss)


def test_a_reset_starts_the_count_again():
    run = Run(spec(epochs=400, patience=2))
    list(run.fit())
    run.reset()
    assert run.trainer.best is None and run.epoch == 0


def test_the_stop_table_round_trips_and_is_checked():
    s = spec(target_acc=97.5, patience=10, restore_best=True)
    assert RunSpec.from_toml(s.to_toml()) == s
    assert "[stop]" in s.to_toml() and "patience = 10" in s.to_toml()
    raw = {"layers": [{"type": "linear", "units": 2}], "batch_size": 1}
    for stop, match in [
        ({"target_acc": 0}, "target test accuracy must be a positive number"),
        ({"target_acc": 101}, "target test accuracy must be ≤ 100"),
        ({"patience": 0}, "patience must be ≥ 1"),
        ({"restore_best": "yes"}, "stop.restore_best: must be true or false"),
        ({"after": 3}, "unknown setting.*stop.after"),
    ]:
        with pytest.raises(SpecError, match=match):
            RunSpec.from_dict({**raw, "stop": stop})
