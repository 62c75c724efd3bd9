"""Long checks, out of the default run: `make test-slow` (pytest -m slow) runs them."""

import pytest
import torch

from miniframe.engine import Run, load_preset
from miniframe.engine.replicas import ReplicaTrainer

pytestmark = pytest.mark.slow


def test_vanilla_replicas_are_bit_identical_to_lone_runs_over_200_epochs():
    """The whole Table I run: replica-batched seeds in exact mode equal their lone runs bit
    for bit."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        spec, seeds = load_preset("vanilla"), [0, 1, 2]
        rt = ReplicaTrainer(spec, seeds, exact=True)
        list(rt.fit())
        stacked = [p for p, _ in rt.model.param()]
        for r, seed in enumerate(seeds):
            run = Run(spec.replace(seed=seed))
            *_, last = run.fit()
            for p, q in zip((p for p, _ in run.model.param()), stacked, strict=True):
                assert torch.equal(q[r].reshape(p.shape), p)
            assert rt.final()[r] == (last.train_acc, last.test_acc)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("seed", range(8))
def test_quick_preset_reaches_98_percent_for_every_seed(seed):
    """The quick preset's promise (≥ 98 % test accuracy) holds beyond seed 0."""
    *_, last = Run(load_preset("quick").replace(seed=seed)).fit()
    assert last.status == "finished"
    assert last.test_acc >= 98.0
