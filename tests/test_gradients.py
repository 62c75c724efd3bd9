"""Forward and backward of every module and loss, against torch.autograd and finite differences.

The engine derives every backward by hand; torch.autograd (float64) is the oracle here, and
central finite differences check the same gradients with no autograd at all. Every layer kind
of the registry (:data:`~miniframe.engine.LAYERS`) is checked, built as the engine builds it
(:func:`~miniframe.engine.build_layer`) against its ``torch_class``: a new kind is tested
without editing this file.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from miniframe.engine import (
    LAYERS,
    SGD,
    CrossEntropyLoss,
    Dropout,
    LayerKind,
    LayerSpec,
    LeakyReLU,
    Linear,
    MSELoss,
    ReLU,
    Sequential,
    Softmax,
    Tanh,
    build_layer,
)
from miniframe.engine.replicas import ReplicaLinear

F64 = torch.float64
INITS = ["normal", "uniform", "xavier", "he"]
TIGHT = {"rtol": 1e-10, "atol": 1e-12}
FD = {"rtol": 1e-6, "atol": 1e-7}

hsettings = settings(max_examples=20, deadline=None)
dims = st.integers(1, 7)
seeds = st.integers(0, 2**31 - 1)


def close(actual, expected, **tol):
    torch.testing.assert_close(actual, expected, **(tol or TIGHT))


def randn(g, *shape, away_from_zero=False):
    x = torch.randn(*shape, generator=g, dtype=F64)
    if away_from_zero:  # keep clear of the ReLU kink, where finite differences straddle it
        x = x + 0.05 * torch.where(x >= 0, 1.0, -1.0).to(F64)
    return x


def fd_grad(f, t, eps=1e-6):
    """Central differences of the scalar f() with respect to every entry of t (in place)."""
    grad = torch.zeros_like(t)
    flat, gflat = t.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        up = float(f())
        flat[i] = old - eps
        down = float(f())
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


# ---- every layer kind, from the registry ------------------------------------------------------
def param_cases(kind: LayerKind) -> list[dict]:
    """The parameter values a kind is checked at: its defaults, then each editable parameter at
    its lower bound (when it is included), at 1 and at 1.7 (where they are in range)."""
    base = {p.name: p.default for p in kind.params if p.editable and p.default is not None}
    cases = [base]
    for p in kind.params:
        if not p.editable or p.type is not float:
            continue
        values = ([] if p.low_open else [p.low]) + [1.0, 1.7]
        for v in values:
            try:
                p.check(v)
            except ValueError:
                continue
            if v != base.get(p.name):
                cases.append(base | {p.name: v})
    return cases


def kind_cases(keep) -> list:
    """(kind name, parameters) of every kind ``keep`` accepts, each at :func:`param_cases`."""
    return [
        pytest.param(k.name, params, id=k.name + "".join(f"-{v:g}" for v in params.values()))
        for k in LAYERS.values()
        if keep(k)
        for params in param_cases(k)
    ]


def engine_layer(name, params, n_in=0, n_out=0, generator=None):
    """The engine's module of the kind, built as a model builds it, in float64."""
    units = {"units": n_out} if LAYERS[name].has_weights else {}
    mod = build_layer(LayerSpec(name, **(params | units)), n_in, n_out, generator=generator)
    for p, grad in mod.param():
        p.data, grad.data = p.data.to(F64), grad.data.to(F64)
    return mod


def torch_layer(name, params, engine=None, n_in=0, n_out=0):
    """The kind's ``torch_class`` with the same parameters (and, for a kind with weights, the
    engine module's weights, in the order its ``param()`` lists them)."""
    kind = LAYERS[name]
    cls = getattr(torch.nn, kind.torch_class)
    if kind.has_weights:
        mod = cls(n_in, n_out, dtype=F64)
        with torch.no_grad():
            for t, (p, _) in zip(mod.parameters(), engine.param(), strict=True):
                t.copy_(p)
        return mod
    named = {k: v for k, v in params.items() if k in {p.name for p in kind.params}}
    return cls(**named, **dict(kind.torch_kwargs))


def smooth(kind: LayerKind) -> bool:
    """An activation checked as it is (a deterministic kind without weights)."""
    return not kind.has_weights and not kind.stochastic


ACTIVATIONS = kind_cases(smooth)
ROW_WISE = kind_cases(lambda k: smooth(k) and k.row_wise)
WEIGHTED = kind_cases(lambda k: k.has_weights)
STOCHASTIC = kind_cases(lambda k: k.stochastic)


def test_every_kind_is_checked():
    """Each kind of the registry is in one of the groups below, and the groups have cases."""
    checked = {p.values[0] for group in (ACTIVATIONS, WEIGHTED, STOCHASTIC) for p in group}
    assert checked == set(LAYERS)
    leaky = [p.values[1] for p in ACTIVATIONS if p.values[0] == "leaky_relu"]
    assert {c["negative_slope"] for c in leaky} == {0.01, 0.0, 1.0, 1.7}


# ---- Linear ---------------------------------------------------------------------------------
@pytest.mark.parametrize("init", INITS)
@hsettings
@given(n=dims, d_in=dims, d_out=dims, seed=seeds)
def test_linear_matches_autograd(init, n, d_in, d_out, seed):
    """Output, dL/dX, dL/dW and dL/db equal torch.autograd's."""
    g = torch.Generator().manual_seed(seed)
    lin = Linear(d_in, d_out, init=init, generator=g, dtype=F64)
    x, grad_out = randn(g, n, d_in), randn(g, n, d_out)
    y = lin.forward(x)
    gx = lin.backward(grad_out)

    xt = x.clone().requires_grad_()
    wt = lin.weight.clone().requires_grad_()
    bt = lin.bias.clone().requires_grad_()
    yt = F.linear(xt, wt, bt)
    yt.backward(grad_out)
    assert y.dtype == F64 and gx.dtype == F64
    close(y, yt.detach())
    close(gx, xt.grad)
    close(lin.grad_weight, wt.grad)
    close(lin.grad_bias, bt.grad)


@pytest.mark.parametrize("init", INITS)
def test_linear_matches_finite_differences(init):
    """dL/dX, dL/dW, dL/db by central differences on L = Σ Y ⊙ G."""
    g = torch.Generator().manual_seed(7)
    lin = Linear(4, 3, init=init, generator=g, dtype=F64)
    if init in ("xavier", "he"):  # bias starts at zero: give it values so the test bites
        lin.bias.copy_(randn(g, 3))
    x, grad_out = randn(g, 5, 4), randn(g, 5, 3)

    def loss():
        return (lin.forward(x) * grad_out).sum()

    lin.forward(x)
    gx = lin.backward(grad_out)
    close(gx, fd_grad(loss, x), **FD)
    close(lin.grad_weight, fd_grad(loss, lin.weight), **FD)
    close(lin.grad_bias, fd_grad(loss, lin.bias), **FD)


def test_linear_copied_float64_weights_match_torch_linear():
    """A float32-built Linear given float64 tensors computes exactly as nn.Linear does."""
    g = torch.Generator().manual_seed(3)
    ref = torch.nn.Linear(3, 4, dtype=F64)
    lin = Linear(3, 4, dtype=F64)
    lin.weight.copy_(ref.weight.detach())
    lin.bias.copy_(ref.bias.detach())
    x = randn(g, 6, 3)
    close(lin.forward(x), ref(x).detach())


@pytest.mark.parametrize(
    ("init", "std"),
    [("normal", 1.0), ("xavier", (2 / (200 + 300)) ** 0.5), ("he", (2 / 200) ** 0.5)],
)
def test_linear_init_statistics(init, std):
    """Weight standard deviations follow the documented initialisations."""
    lin = Linear(200, 300, init=init, generator=torch.Generator().manual_seed(0))
    assert abs(lin.weight.std().item() / std - 1) < 0.02
    assert abs(lin.weight.mean().item()) < 0.02 * std
    if init == "normal":
        assert abs(lin.bias.std().item() - 1) < 0.2
    else:
        assert torch.count_nonzero(lin.bias) == 0


def test_linear_uniform_init_bound():
    lin = Linear(100, 300, init="uniform", generator=torch.Generator().manual_seed(0))
    bound = 1 / 100**0.5
    assert lin.weight.abs().max() <= bound
    assert lin.weight.abs().max() > 0.95 * bound
    assert lin.bias.abs().max() <= bound


@pytest.mark.parametrize(
    "bad", [{"in_features": 0}, {"out_features": -1}, {"in_features": 2.0}, {"init": "zeros"}]
)
def test_linear_rejects_bad_arguments(bad):
    kw = {"in_features": 2, "out_features": 3} | bad
    with pytest.raises(ValueError):
        Linear(**kw)


def test_linear_rejects_wrong_input_width():
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        Linear(3, 2).forward(torch.zeros(4, 5))


# ---- activations ----------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "params"), ACTIVATIONS)
@hsettings
@given(n=dims, d=dims, seed=seeds, scale=st.sampled_from([0.1, 1.0, 10.0]))
def test_activation_matches_autograd(name, params, n, d, seed, scale):
    """Y and dL/dX equal the kind's torch class's for the same X and G, in float64."""
    g = torch.Generator().manual_seed(seed)
    x, grad_out = scale * randn(g, n, d), randn(g, n, d)
    mod = engine_layer(name, params)
    y = mod.forward(x)
    gx = mod.backward(grad_out)

    xt = x.clone().requires_grad_()
    yt = torch_layer(name, params)(xt)
    yt.backward(grad_out)
    assert y.dtype == F64, f"{name} changed the dtype to {y.dtype}"
    assert gx.dtype == F64
    close(y, yt.detach())
    close(gx, xt.grad)


@pytest.mark.parametrize(("name", "params"), ACTIVATIONS)
def test_activation_matches_finite_differences(name, params):
    g = torch.Generator().manual_seed(11)
    x, grad_out = randn(g, 4, 5, away_from_zero=True), randn(g, 4, 5)
    mod = engine_layer(name, params)

    def loss():
        return (mod.forward(x) * grad_out).sum()

    mod.forward(x)
    gx = mod.backward(grad_out)
    close(gx, fd_grad(loss, x), **FD)


@pytest.mark.parametrize(("name", "params"), WEIGHTED)
@pytest.mark.parametrize("init", INITS)
@hsettings
@given(n=dims, d_in=dims, d_out=dims, seed=seeds)
def test_kind_with_weights_matches_autograd(name, params, init, n, d_in, d_out, seed):
    """A kind with weights, built as a model builds it: Y, dL/dX and every parameter's
    gradient equal its torch class's (given the same weights), in float64."""
    g = torch.Generator().manual_seed(seed)
    mod = engine_layer(name, params, d_in, d_out, generator=g)
    ref = torch_layer(name, params, mod, d_in, d_out)
    x, grad_out = randn(g, n, d_in), randn(g, n, d_out)
    mod.zero_grad()
    y = mod.forward(x)
    gx = mod.backward(grad_out)
    xt = x.clone().requires_grad_()
    yt = ref(xt)
    yt.backward(grad_out)
    close(y, yt.detach())
    close(gx, xt.grad)
    for (_, grad), t in zip(mod.param(), ref.parameters(), strict=True):
        close(grad, t.grad)


@pytest.mark.parametrize(("name", "params"), WEIGHTED)
def test_kind_with_weights_matches_finite_differences(name, params):
    g = torch.Generator().manual_seed(14)
    mod = engine_layer(name, params, 4, 3, generator=g)
    x, grad_out = randn(g, 5, 4), randn(g, 5, 3)

    def loss():
        return (mod.forward(x) * grad_out).sum()

    mod.zero_grad()
    mod.forward(x)
    gx = mod.backward(grad_out)
    close(gx, fd_grad(loss, x), **FD)
    for p, grad in mod.param():
        close(grad, fd_grad(loss, p), **FD)


@pytest.mark.parametrize(("name", "params"), STOCHASTIC)
def test_stochastic_kind_in_eval_mode_is_its_torch_class(name, params):
    """A kind that draws random masks (each its own stream, so no torch module can share it)
    is its torch class in eval mode; its training-mode masks are checked below (Dropout)."""
    g = torch.Generator().manual_seed(15)
    x, grad_out = randn(g, 6, 4), randn(g, 6, 4)
    mod, ref = engine_layer(name, params).eval(), torch_layer(name, params).eval()
    xt = x.clone().requires_grad_()
    yt = ref(xt)
    yt.backward(grad_out)
    close(mod.forward(x), yt.detach())
    close(mod.backward(grad_out), xt.grad)


def test_leaky_relu_rejects_negative_slope():
    with pytest.raises(ValueError):
        LeakyReLU(-0.1)
    with pytest.raises(ValueError):
        LeakyReLU(float("nan"))


def test_softmax_stable_for_large_inputs():
    x = torch.tensor([[1e4, -1e4, 0.0], [800.0, 800.0, 799.0]], dtype=F64)
    y = Softmax().forward(x)
    assert torch.isfinite(y).all()
    close(y, torch.softmax(x, dim=1))
    close(y.sum(1), torch.ones(2, dtype=F64))


# ---- Dropout --------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@hsettings
@given(n=dims, d=dims, seed=seeds)
def test_dropout_train_mode_uses_its_mask(p, n, d, seed):
    """Y = X ⊙ M/(1−p) and dL/dX = G ⊙ M/(1−p), with the forward pass's mask M."""
    g = torch.Generator().manual_seed(seed)
    x, grad_out = randn(g, n, d, away_from_zero=True), randn(g, n, d)
    drop = Dropout(p, generator=torch.Generator().manual_seed(seed))
    y = drop.forward(x)
    assert y.dtype == F64
    mask = y / x  # the mask M/(1−p) the forward pass drew, recovered
    scaled = torch.tensor(1 / (1 - p), dtype=F64)
    kept = torch.isclose(mask, scaled, rtol=1e-12, atol=0)
    assert torch.all(kept | (mask == 0))
    mask = torch.where(kept, scaled, 0.0)
    close(y, x * mask)
    gx = drop.backward(grad_out)
    assert gx.dtype == F64
    xt = x.clone().requires_grad_()
    (xt * mask).backward(grad_out)
    close(gx, xt.grad)
    # a second forward draws a new mask, and backward follows it
    big = torch.ones(50, 50, dtype=F64)
    y2 = drop.forward(big)
    close(drop.backward(big), y2)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_keeps_fraction_and_expectation(p):
    """About a fraction 1 − p survives, and the mean activation is preserved."""
    drop = Dropout(p, generator=torch.Generator().manual_seed(0))
    x = torch.ones(400, 500, dtype=F64)
    y = drop.forward(x)
    n = x.numel()
    kept = (y != 0).double().mean().item()
    sigma = (p * (1 - p) / n) ** 0.5
    assert abs(kept - (1 - p)) < 6 * sigma
    assert abs(y.mean().item() - 1.0) < 6 * sigma / (1 - p)


def test_dropout_eval_mode_is_identity():
    g = torch.Generator().manual_seed(0)
    x, grad_out = randn(g, 6, 4), randn(g, 6, 4)
    drop = Dropout(0.5, generator=torch.Generator().manual_seed(0)).eval()
    assert torch.equal(drop.forward(x), x)
    assert torch.equal(drop.backward(grad_out), grad_out)
    drop.train()
    assert not torch.equal(drop.forward(x), x)


def test_dropout_seeded_generator_is_deterministic():
    x = torch.ones(20, 20, dtype=F64)
    a = Dropout(0.5, generator=torch.Generator().manual_seed(5)).forward(x)
    b = Dropout(0.5, generator=torch.Generator().manual_seed(5)).forward(x)
    c = Dropout(0.5, generator=torch.Generator().manual_seed(6)).forward(x)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError):
        Dropout(p)


# ---- losses ---------------------------------------------------------------------------------
@hsettings
@given(n=dims, k=st.integers(2, 6), seed=seeds)
def test_mse_float_targets_matches_torch(n, k, seed):
    """MSELoss is nn.MSELoss (mean over all elements), value and gradient."""
    g = torch.Generator().manual_seed(seed)
    out, target = randn(g, n, k), randn(g, n, k)
    loss = MSELoss()
    value = loss.forward(out, target)
    grad = loss.backward()
    ot = out.clone().requires_grad_()
    ref = torch.nn.MSELoss()(ot, target)
    ref.backward()
    assert value.dim() == 0
    close(value, ref.detach())
    close(grad, ot.grad)


@hsettings
@given(n=dims, k=st.integers(2, 6), seed=seeds)
def test_mse_class_indices_match_one_hot(n, k, seed):
    """int64 class targets are one-hot encoded, then MSE as above."""
    g = torch.Generator().manual_seed(seed)
    out = randn(g, n, k)
    labels = torch.randint(0, k, (n,), generator=g)
    loss = MSELoss()
    value = loss.forward(out, labels)
    grad = loss.backward()
    ot = out.clone().requires_grad_()
    ref = F.mse_loss(ot, F.one_hot(labels, k).to(F64))
    ref.backward()
    close(value, ref.detach())
    close(grad, ot.grad)


@hsettings
@given(n=dims, k=st.integers(2, 6), seed=seeds, scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_cross_entropy_matches_torch(n, k, seed, scale):
    g = torch.Generator().manual_seed(seed)
    out = scale * randn(g, n, k)
    labels = torch.randint(0, k, (n,), generator=g)
    loss = CrossEntropyLoss()
    value = loss.forward(out, labels)
    grad = loss.backward()
    ot = out.clone().requires_grad_()
    ref = F.cross_entropy(ot, labels)
    ref.backward()
    assert value.dim() == 0
    close(value, ref.detach())
    close(grad, ot.grad)


@pytest.mark.parametrize("loss_cls", [MSELoss, CrossEntropyLoss])
def test_loss_gradient_matches_finite_differences(loss_cls):
    g = torch.Generator().manual_seed(2)
    out = randn(g, 5, 3)
    labels = torch.tensor([0, 2, 1, 1, 0])
    loss = loss_cls()
    loss.forward(out, labels)
    grad = loss.backward()
    close(grad, fd_grad(lambda: loss_cls().forward(out, labels), out), **FD)


def test_cross_entropy_finite_for_huge_logits():
    """Logits of ±1e4 give a finite loss and gradient, equal to torch's."""
    out = torch.tensor(
        [[1e4, -1e4], [-1e4, 1e4], [1e4, -1e4], [1e4, 1e4 - 1.0], [-1e4, -1e4]], dtype=F64
    )
    labels = torch.tensor([0, 0, 1, 1, 1])
    loss = CrossEntropyLoss()
    value = loss.forward(out, labels)
    grad = loss.backward()
    ot = out.clone().requires_grad_()
    ref = F.cross_entropy(ot, labels)
    ref.backward()
    assert torch.isfinite(value) and torch.isfinite(grad).all()
    close(value, ref.detach())
    close(grad, ot.grad)
    assert value.item() > 1e3  # two rows are confidently wrong by 2e4
    # float32, as in training
    v32 = CrossEntropyLoss().forward(out.float(), labels)
    assert torch.isfinite(v32)
    close(v32, F.cross_entropy(out.float(), labels), rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("loss_cls", [MSELoss, CrossEntropyLoss])
def test_loss_rejects_mismatched_rows(loss_cls):
    with pytest.raises(ValueError, match="rows"):
        loss_cls().forward(torch.zeros(4, 2), torch.zeros(3, dtype=torch.int64))


def test_loss_rejects_out_of_range_labels():
    for loss in (MSELoss(), CrossEntropyLoss()):
        with pytest.raises(ValueError, match="class labels"):
            loss.forward(torch.zeros(2, 2), torch.tensor([0, 2]))


def test_cross_entropy_rejects_float_targets():
    with pytest.raises(ValueError, match="int64"):
        CrossEntropyLoss().forward(torch.zeros(2, 2), torch.zeros(2, 2))


# ---- accumulation, identity, errors ---------------------------------------------------------
def test_backward_accumulates_parameter_gradients():
    """Two backward calls give twice the gradients (+=, not =); zero_grad clears them."""
    g = torch.Generator().manual_seed(0)
    lin = Linear(3, 4, generator=g, dtype=F64)
    x, grad_out = randn(g, 5, 3), randn(g, 5, 4)
    lin.forward(x)
    gx1 = lin.backward(grad_out)
    w1, b1 = lin.grad_weight.clone(), lin.grad_bias.clone()
    gx2 = lin.backward(grad_out)
    close(lin.grad_weight, 2 * w1)
    close(lin.grad_bias, 2 * b1)
    close(gx2, gx1)  # the input gradient is returned fresh, not accumulated
    lin.zero_grad()
    assert torch.count_nonzero(lin.grad_weight) == 0
    assert torch.count_nonzero(lin.grad_bias) == 0


def test_sequential_backward_accumulates():
    g = torch.Generator().manual_seed(1)
    model = Sequential(Linear(2, 5, generator=g, dtype=F64), Tanh(), Linear(5, 2, dtype=F64))
    x = randn(g, 4, 2)
    model.forward(x)
    grad_out = randn(g, 4, 2)
    model.backward(grad_out)
    first = [gr.clone() for _, gr in model.param()]
    model.backward(grad_out)
    for (_, gr), f in zip(model.param(), first, strict=True):
        close(gr, 2 * f)


def build_pair(seed, depth, acts, widths, init):
    """An engine Sequential and the equivalent torch.nn.Sequential with the same weights."""
    g = torch.Generator().manual_seed(seed)
    ours, theirs = [], []
    for i in range(depth):
        lin = Linear(widths[i], widths[i + 1], init=init, generator=g, dtype=F64)
        ref = torch.nn.Linear(widths[i], widths[i + 1], dtype=F64)
        with torch.no_grad():
            ref.weight.copy_(lin.weight)
            ref.bias.copy_(lin.bias)
        ours.append(lin)
        theirs.append(ref)
        if i < depth - 1:
            name, params = acts[i].values
            ours.append(engine_layer(name, params))
            theirs.append(torch_layer(name, params))
    return Sequential(*ours), torch.nn.Sequential(*theirs)


@settings(max_examples=30, deadline=None)
@given(
    seed=seeds,
    depth=st.integers(1, 5),
    data=st.data(),
    loss_name=st.sampled_from(["mse", "mse-float", "ce"]),
    init=st.sampled_from(INITS),
    n=st.integers(1, 9),
)
def test_sequential_matches_torch_end_to_end(seed, depth, data, loss_name, init, n):
    """Loss, dL/dX and every parameter gradient of a random chain equal torch.nn's."""
    acts = data.draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=depth, max_size=depth))
    widths = [data.draw(st.integers(1, 8)) for _ in range(depth)] + [2]
    widths[0] = data.draw(st.integers(1, 4))
    ours, theirs = build_pair(seed, depth, acts, widths, init)
    g = torch.Generator().manual_seed(seed + 1)
    x = randn(g, n, widths[0])
    labels = torch.randint(0, 2, (n,), generator=g)
    target = labels if loss_name != "mse-float" else randn(g, n, 2)
    loss = CrossEntropyLoss() if loss_name == "ce" else MSELoss()

    value = loss.forward(ours.forward(x), target)
    gx = ours.backward(loss.backward())

    xt = x.clone().requires_grad_()
    out = theirs(xt)
    if loss_name == "ce":
        ref = F.cross_entropy(out, labels)
    elif loss_name == "mse":
        ref = F.mse_loss(out, F.one_hot(labels, 2).to(F64))
    else:
        ref = F.mse_loss(out, target)
    ref.backward()
    close(value, ref.detach())
    close(gx, xt.grad)
    ref_grads = [t.grad for t in theirs.parameters()]
    assert len(ours.param()) == len(ref_grads) == 2 * depth
    for (_, grad), rg in zip(ours.param(), ref_grads, strict=True):
        close(grad, rg)


def test_sequential_matches_finite_differences():
    """End-to-end parameter gradients of Sequential + cross-entropy by central differences."""
    g = torch.Generator().manual_seed(4)
    model = Sequential(
        Linear(2, 4, generator=g, dtype=F64),
        Tanh(),
        Linear(4, 3, generator=g, dtype=F64),
        LeakyReLU(0.3),
        Linear(3, 2, generator=g, dtype=F64),
    )
    x = randn(g, 6, 2)
    labels = torch.tensor([0, 1, 1, 0, 1, 0])

    def value():
        return CrossEntropyLoss().forward(model.forward(x), labels)

    loss = CrossEntropyLoss()
    loss.forward(model.forward(x), labels)
    model.zero_grad()
    model.backward(loss.backward())
    analytic = [grad.clone() for _, grad in model.param()]
    for (p, _), a in zip(model.param(), analytic, strict=True):
        close(a, fd_grad(value, p), **FD)


def test_param_returns_the_model_tensors():
    """param() hands out the tensors the model computes with, so an SGD step moves the model."""
    g = torch.Generator().manual_seed(0)
    l1, l2 = Linear(2, 3, generator=g), Linear(3, 2, generator=g)
    model = Sequential(l1, ReLU(), l2)
    pairs = model.param()
    assert len(pairs) == 4
    expected = [
        (l1.weight, l1.grad_weight),
        (l1.bias, l1.grad_bias),
        (l2.weight, l2.grad_weight),
        (l2.bias, l2.grad_bias),
    ]
    for (p, gr), (ep, eg) in zip(pairs, expected, strict=True):
        assert p is ep and gr is eg
    assert ReLU().param() == []

    x = torch.randn(8, 2, generator=g)
    labels = torch.randint(0, 2, (8,), generator=g)
    before = model.forward(x).clone()
    w_before = l1.weight.clone()
    loss = CrossEntropyLoss()
    loss.forward(model.forward(x), labels)
    model.zero_grad()
    model.backward(loss.backward())
    assert torch.count_nonzero(l2.grad_weight) > 0
    SGD(model.param(), lr=0.5).step()
    after = model.forward(x)
    assert not torch.allclose(before, after)
    close(l1.weight, w_before - 0.5 * l1.grad_weight, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        *(
            pytest.param(lambda k=k: engine_layer(k, param_cases(LAYERS[k])[0], 2, 2), id=k)
            for k in LAYERS
        ),
        lambda: Sequential(Linear(2, 3), ReLU(), Linear(3, 2)),
    ],
)
def test_backward_before_forward_is_a_clear_error(make):
    with pytest.raises(RuntimeError, match="before forward"):
        make().backward(torch.ones(1, 2))


@pytest.mark.parametrize("loss_cls", [MSELoss, CrossEntropyLoss])
def test_loss_backward_before_forward_is_a_clear_error(loss_cls):
    with pytest.raises(RuntimeError, match="before forward"):
        loss_cls().backward()


def test_sequential_width_mismatch_names_position_and_widths():
    with pytest.raises(ValueError) as info:
        Sequential(Linear(2, 25), ReLU(), Linear(10, 25))
    msg = str(info.value)
    assert "layer 2" in msg
    assert "10" in msg and "25" in msg
    assert "layer 0" in msg  # the producing layer is named too


def test_sequential_accepts_matching_widths_and_lists():
    model = Sequential([Linear(2, 5), ReLU(), Linear(5, 2)])
    assert len(model) == 3
    assert isinstance(model[0], Linear)
    assert [type(m) for m in model] == [Linear, ReLU, Linear]
    assert model.forward(torch.zeros(3, 2)).shape == (3, 2)


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="item 1"):
        Sequential(Linear(2, 2), torch.relu)


def test_train_eval_propagates():
    model = Sequential(Linear(2, 4), Dropout(0.5), Linear(4, 2))
    model.eval()
    assert not model.training and not model[1].training
    x = torch.randn(5, 2)
    assert torch.equal(model.forward(x), model.forward(x))
    model.train()
    assert model.training and model[1].training


# ---- rank-generic forms: a leading replica axis (R, n, d) ---------------------------------
replicas = st.integers(1, 4)


def replica_linear(g, r, d_in, d_out, exact, init="normal"):
    """R float64 Linears of the same shape, stacked; and the lone Linears themselves."""
    lones = [Linear(d_in, d_out, init=init, generator=g, dtype=F64) for _ in range(r)]
    return ReplicaLinear(lones, exact=exact), lones


@pytest.mark.parametrize("exact", [False, True], ids=["batched", "exact"])
@hsettings
@given(r=replicas, n=dims, d_in=dims, d_out=dims, seed=seeds)
def test_replica_linear_matches_autograd(exact, r, n, d_in, d_out, seed):
    """Replica r's output, dL/dX_r, dL/dW_r and dL/db_r equal torch.autograd's for F.linear
    on replica r's weights (L = Σ_r Σ S_r ⊙ G_r, so the replicas' gradients are separate)."""
    g = torch.Generator().manual_seed(seed)
    lin, _ = replica_linear(g, r, d_in, d_out, exact)
    x, grad_out = randn(g, r, n, d_in), randn(g, r, n, d_out)
    y = lin.forward(x)
    gx = lin.backward(grad_out)

    xt = x.clone().requires_grad_()
    wt = lin.weight.clone().requires_grad_()
    bt = lin.bias.clone().requires_grad_()
    yt = torch.stack([F.linear(xt[i], wt[i], bt[i, 0]) for i in range(r)])
    yt.backward(grad_out)
    assert y.shape == (r, n, d_out) and gx.shape == x.shape
    close(y, yt.detach())
    close(gx, xt.grad)
    close(lin.grad_weight, wt.grad)
    close(lin.grad_bias, bt.grad)


@pytest.mark.parametrize("exact", [False, True], ids=["batched", "exact"])
def test_replica_linear_matches_finite_differences(exact):
    g = torch.Generator().manual_seed(8)
    lin, _ = replica_linear(g, 3, 4, 3, exact)
    x, grad_out = randn(g, 3, 5, 4), randn(g, 3, 5, 3)

    def loss():
        return (lin.forward(x) * grad_out).sum()

    lin.forward(x)
    gx = lin.backward(grad_out)
    close(gx, fd_grad(loss, x), **FD)
    close(lin.grad_weight, fd_grad(loss, lin.weight), **FD)
    close(lin.grad_bias, fd_grad(loss, lin.bias), **FD)


@pytest.mark.parametrize("exact", [False, True], ids=["batched", "exact"])
def test_replica_linear_is_its_lone_linears(exact):
    """Built from lone Linears, a ReplicaLinear holds their weights and computes what each
    computes on its own replica's rows (float64: equal to rounding; exact: bit for bit)."""
    g = torch.Generator().manual_seed(9)
    lin, lones = replica_linear(g, 3, 2, 5, exact, init="he")
    x, grad_out = randn(g, 3, 4, 2), randn(g, 3, 4, 5)
    y, gx = lin.forward(x), lin.backward(grad_out)
    for i, lone in enumerate(lones):
        assert torch.equal(lin.weight[i], lone.weight) and torch.equal(lin.bias[i, 0], lone.bias)
        yi, gxi = lone.forward(x[i].clone()), lone.backward(grad_out[i].clone())
        for ours, theirs in ((y[i], yi), (gx[i], gxi), (lin.grad_weight[i], lone.grad_weight),
                             (lin.grad_bias[i, 0], lone.grad_bias)):  # fmt: skip
            if exact:
                assert torch.equal(ours, theirs)
            else:
                close(ours, theirs)
    assert lin.param() == [(lin.weight, lin.grad_weight), (lin.bias, lin.grad_bias)]
    assert "3 × (2, 5)" in repr(lin)


@pytest.mark.parametrize(("name", "params"), ROW_WISE)
@hsettings
@given(r=replicas, n=dims, d=dims, seed=seeds)
def test_activations_take_a_replica_axis(name, params, r, n, d, seed):
    """On (R, n, d) every row-wise kind (the replicas share one module of it) is its
    per-replica self: Y and dL/dX equal autograd's."""
    g = torch.Generator().manual_seed(seed)
    x, grad_out = randn(g, r, n, d), randn(g, r, n, d)
    mod = engine_layer(name, params)
    y, gx = mod.forward(x), mod.backward(grad_out)
    xt = x.clone().requires_grad_()
    ref = torch_layer(name, params)
    yt = torch.stack([ref(xt[i]) for i in range(r)])
    yt.backward(grad_out)
    close(y, yt.detach())
    close(gx, xt.grad)


@pytest.mark.parametrize("loss_name", ["mse", "mse-float", "ce"])
@hsettings
@given(r=replicas, n=dims, k=st.integers(2, 5), seed=seeds)
def test_losses_take_a_replica_axis(loss_name, r, n, k, seed):
    """On (R, n, k) a loss is one value per replica, shape (R,), each the lone loss of that
    replica; the gradient is autograd's of Σ_r L_r (replica r's slice is dL_r/dŶ_r)."""
    g = torch.Generator().manual_seed(seed)
    out = randn(g, r, n, k)
    labels = torch.randint(0, k, (r, n), generator=g)
    target = randn(g, r, n, k) if loss_name == "mse-float" else labels
    loss = CrossEntropyLoss() if loss_name == "ce" else MSELoss()
    value = loss.forward(out, target)
    grad = loss.backward()

    ot = out.clone().requires_grad_()
    if loss_name == "ce":
        ref = torch.stack([F.cross_entropy(ot[i], labels[i]) for i in range(r)])
    else:
        tt = target if loss_name == "mse-float" else F.one_hot(labels, k).to(F64)
        ref = torch.stack([F.mse_loss(ot[i], tt[i]) for i in range(r)])
    ref.sum().backward()
    assert value.shape == (r,)
    close(value, ref.detach())
    close(grad, ot.grad)
    for i in range(r):  # each replica's value is its lone loss
        close(value[i], type(loss)().forward(out[i], target[i]))


@pytest.mark.parametrize("loss_cls", [MSELoss, CrossEntropyLoss])
def test_replica_loss_gradient_matches_finite_differences(loss_cls):
    g = torch.Generator().manual_seed(12)
    out = randn(g, 3, 4, 3)
    labels = torch.tensor([[0, 2, 1, 1], [2, 2, 0, 1], [1, 0, 0, 2]])
    loss = loss_cls()
    loss.forward(out, labels)
    grad = loss.backward()
    close(grad, fd_grad(lambda: loss_cls().forward(out, labels).sum(), out), **FD)


@pytest.mark.parametrize("loss_cls", [MSELoss, CrossEntropyLoss])
def test_keep_then_backward_is_forward_then_backward(loss_cls):
    """A training step calls keep (no loss value); backward gives the same gradient."""
    g = torch.Generator().manual_seed(13)
    out, labels = randn(g, 6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    a, b = loss_cls(), loss_cls()
    a.forward(out, labels)
    b.keep(out, b.encode(labels, 3, F64))
    assert torch.equal(a.backward(), b.backward())


def test_perfect_cross_entropy_is_plus_zero():
    """−(1/n) Σ log 1 is 0.0, not −0.0 (which would print as -0.0000)."""
    out = torch.tensor([[100.0, -100.0], [-100.0, 100.0]])
    for logits in (out, out.double(), out.unsqueeze(0).repeat(2, 1, 1)):
        labels = torch.tensor([0, 1]).expand(logits.shape[:-1])
        value = CrossEntropyLoss().forward(logits, labels)
        assert torch.equal(value, torch.zeros_like(value))
        assert all(math.copysign(1.0, v) == 1.0 for v in value.reshape(-1).tolist())
