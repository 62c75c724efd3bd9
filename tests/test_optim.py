"""SGD and Adam against torch.optim on the same gradient sequences (float64)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from miniframe.engine import SGD, Adam, Linear

F64 = torch.float64
SHAPES = [(3, 4), (4,), (2, 1), (1,)]
TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def make_params(seed):
    g = torch.Generator().manual_seed(seed)
    ours = [(torch.randn(s, generator=g, dtype=F64), torch.zeros(s, dtype=F64)) for s in SHAPES]
    theirs = [p.clone().requires_grad_() for p, _ in ours]
    return ours, theirs


def grad_sequence(seed, steps):
    g = torch.Generator().manual_seed(seed + 1000)
    return [[torch.randn(s, generator=g, dtype=F64) for s in SHAPES] for _ in range(steps)]


def run_both(ours_opt, theirs_opt, ours, theirs, grads):
    """Feed the same gradients to both solvers, comparing parameters after every step."""
    originals = [p for p, _ in ours]
    for k, step_grads in enumerate(grads):
        for (_, gr), t, sg in zip(ours, theirs, step_grads, strict=True):
            gr.copy_(sg)
            t.grad = sg.clone()
        ours_opt.step()
        theirs_opt.step()
        for i, ((p, gr), t) in enumerate(zip(ours, theirs, strict=True)):
            assert p is originals[i], "the solver must update parameters in place"
            torch.testing.assert_close(p, t.detach(), **TIGHT, msg=f"step {k}, param {i}")
            assert torch.equal(gr, step_grads[i]), "step() must not modify the gradients"


SGD_CONFIGS = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.5, "nesterov": True},
    {"weight_decay": 0.1},
    {"momentum": 0.9, "weight_decay": 0.01},
    {"momentum": 0.8, "weight_decay": 0.05, "nesterov": True},
]


@pytest.mark.parametrize("cfg", SGD_CONFIGS, ids=lambda c: ",".join(c) or "plain")
@pytest.mark.parametrize("lr", [1e-3, 0.1])
def test_sgd_matches_torch(cfg, lr):
    ours, theirs = make_params(0)
    run_both(
        SGD(ours, lr=lr, **cfg),
        torch.optim.SGD(theirs, lr=lr, **cfg),
        ours,
        theirs,
        grad_sequence(0, 8),
    )


ADAM_CONFIGS = [
    {},
    {"weight_decay": 0.1},
    {"betas": (0.5, 0.9)},
    {"betas": (0.0, 0.99), "eps": 1e-6},
    {"betas": (0.8, 0.95), "weight_decay": 0.01, "eps": 1e-4},
]


@pytest.mark.parametrize("cfg", ADAM_CONFIGS, ids=lambda c: ",".join(c) or "default")
@pytest.mark.parametrize("lr", [1e-3, 0.05])
def test_adam_matches_torch(cfg, lr):
    ours, theirs = make_params(1)
    run_both(
        Adam(ours, lr=lr, **cfg),
        torch.optim.Adam(theirs, lr=lr, **cfg),
        ours,
        theirs,
        grad_sequence(1, 10),
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**20),
    lr=st.floats(1e-4, 1.0),
    momentum=st.floats(0.0, 0.99),
    weight_decay=st.sampled_from([0.0, 1e-3, 0.3]),
    nesterov=st.booleans(),
    steps=st.integers(1, 6),
)
def test_sgd_random_settings_match_torch(seed, lr, momentum, weight_decay, nesterov, steps):
    nesterov = nesterov and momentum > 0
    cfg = {"momentum": momentum, "weight_decay": weight_decay, "nesterov": nesterov}
    ours, theirs = make_params(seed)
    run_both(
        SGD(ours, lr=lr, **cfg),
        torch.optim.SGD(theirs, lr=lr, **cfg),
        ours,
        theirs,
        grad_sequence(seed, steps),
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**20),
    lr=st.floats(1e-4, 0.5),
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.5, 0.9999),
    weight_decay=st.sampled_from([0.0, 1e-2]),
    steps=st.integers(1, 6),
)
def test_adam_random_settings_match_torch(seed, lr, b1, b2, weight_decay, steps):
    cfg = {"betas": (b1, b2), "weight_decay": weight_decay}
    ours, theirs = make_params(seed)
    run_both(
        Adam(ours, lr=lr, **cfg),
        torch.optim.Adam(theirs, lr=lr, **cfg),
        ours,
        theirs,
        grad_sequence(seed, steps),
    )


@pytest.mark.parametrize(
    ("make_ours", "make_theirs"),
    [
        (
            lambda ps: SGD(ps, lr=0.1, momentum=0.9),
            lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
        ),
        (
            lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
            lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        ),
        (lambda ps: Adam(ps, lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01)),
    ],
    ids=["sgd-momentum", "sgd-nesterov", "adam"],
)
def test_reset_state_behaves_like_a_fresh_solver(make_ours, make_theirs):
    """After reset_state the solver continues exactly as a new one started from here."""
    ours, _ = make_params(2)
    opt = make_ours(ours)
    for step_grads in grad_sequence(2, 4):
        for (_, gr), sg in zip(ours, step_grads, strict=True):
            gr.copy_(sg)
        opt.step()
    opt.reset_state()
    theirs = [p.clone().requires_grad_() for p, _ in ours]
    run_both(opt, make_theirs(theirs), ours, theirs, grad_sequence(3, 5))


def test_zero_grad_clears_gradients_in_place():
    lin = Linear(3, 2)
    lin.grad_weight.fill_(1.0)
    lin.grad_bias.fill_(2.0)
    grad_w = lin.grad_weight
    SGD(lin.param(), lr=0.1).zero_grad()
    assert lin.grad_weight is grad_w
    assert torch.count_nonzero(lin.grad_weight) == 0
    assert torch.count_nonzero(lin.grad_bias) == 0


@pytest.mark.parametrize("lr", [0.0, -1e-3, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("solver", [SGD, Adam])
def test_invalid_lr_raises(solver, lr):
    with pytest.raises(ValueError, match="learning rate"):
        solver(Linear(2, 2).param(), lr=lr)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD([], lr=0.1),
        lambda ps: SGD(ps, lr=0.1, nesterov=True),
        lambda ps: SGD(ps, lr=0.1, momentum=-0.5),
        lambda ps: SGD(ps, lr=0.1, weight_decay=-1.0),
        lambda ps: Adam(ps, betas=(1.0, 0.999)),
        lambda ps: Adam(ps, betas=(0.9, -0.1)),
        lambda ps: Adam(ps, eps=0.0),
        lambda ps: Adam(ps, weight_decay=-1.0),
    ],
    ids=[
        "empty",
        "nesterov-no-momentum",
        "neg-momentum",
        "neg-wd",
        "beta1",
        "beta2",
        "eps",
        "adam-neg-wd",
    ],
)
def test_invalid_settings_raise(make):
    with pytest.raises(ValueError):
        make(Linear(2, 2).param())


def test_changing_lr_mid_run_matches_torch():
    """Setting ``lr`` between steps takes effect as torch's param_group['lr'] does."""
    ours, theirs = make_params(5)
    opt, ref = Adam(ours, lr=0.01), torch.optim.Adam(theirs, lr=0.01)
    grads = grad_sequence(5, 6)
    run_both(opt, ref, ours, theirs, grads[:3])
    opt.lr = 0.2
    ref.param_groups[0]["lr"] = 0.2
    run_both(opt, ref, ours, theirs, grads[3:])


BAD_NUMBERS = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("value", [*BAD_NUMBERS, -0.5])
@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda ps, v: SGD(ps, lr=0.1, momentum=v), "momentum"),
        (lambda ps, v: SGD(ps, lr=0.1, weight_decay=v), "weight_decay"),
        (lambda ps, v: Adam(ps, weight_decay=v), "weight_decay"),
        (lambda ps, v: Adam(ps, eps=v), "eps"),
        (lambda ps, v: Adam(ps, betas=(v, 0.999)), r"betas\[0\]"),
        (lambda ps, v: Adam(ps, betas=(0.9, v)), r"betas\[1\]"),
        (lambda ps, v: Adam(ps, lr=v), "learning rate"),
    ],
    ids=["sgd-momentum", "sgd-wd", "adam-wd", "adam-eps", "beta1", "beta2", "adam-lr"],
)
def test_non_finite_or_negative_settings_name_the_argument(make, name, value):
    with pytest.raises(ValueError, match=name):
        make(Linear(2, 2).param(), value)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda ps: SGD(ps, lr="0.1"), "learning rate"),
        (lambda ps: SGD(ps, lr=0.1, momentum=None), "momentum"),
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=1), "nesterov"),
        (lambda ps: Adam(ps, betas=0.9), "betas"),
        (lambda ps: Adam(ps, betas=(0.9, 0.99, 0.5)), "betas"),
    ],
    ids=["lr-str", "momentum-none", "nesterov-int", "betas-scalar", "betas-triple"],
)
def test_settings_of_the_wrong_type_name_the_argument(make, name):
    with pytest.raises(TypeError, match=name):
        make(Linear(2, 2).param())


@pytest.mark.parametrize("solver", [SGD, Adam])
def test_bare_tensors_instead_of_pairs_are_rejected(solver):
    lin = Linear(2, 2)
    with pytest.raises(TypeError, match=r"params\[0\] must be a \(parameter, gradient\) pair"):
        solver([lin.weight, lin.bias], lr=0.1)
    with pytest.raises(TypeError, match="bare tensor"):
        solver(lin.weight, lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        solver([(lin.weight, lin.grad_bias)], lr=0.1)


@pytest.mark.parametrize(
    ("make_ours", "make_theirs"),
    [
        (lambda ps: SGD(ps, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
        (
            lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
            lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        ),
        (
            lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
            lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.01),
        ),
    ],
    ids=["sgd", "sgd-momentum", "adam"],
)
def test_solvers_follow_parameters_recast_after_construction(make_ours, make_theirs):
    """The bench builds a float32 model and its solver, then recasts the very tensors to
    float64: the solver's state must follow (it is created at the first step)."""
    lin = Linear(3, 2, generator=torch.Generator().manual_seed(0))
    opt = make_ours(lin.param())
    for p, grad in lin.param():
        p.data, grad.data = p.data.double(), grad.data.double()
    theirs = [p.clone().requires_grad_() for p, _ in lin.param()]
    g = torch.Generator().manual_seed(4)
    grads = [[torch.randn(t.shape, generator=g, dtype=F64) for t in theirs] for _ in range(4)]
    run_both(opt, make_theirs(theirs), lin.param(), theirs, grads)
    assert all(p.dtype == F64 for p, _ in lin.param())
    assert all(t.dtype == F64 for t in getattr(opt, "m", []) + getattr(opt, "velocity", []))
