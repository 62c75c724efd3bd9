"""The engine's API refuses, with a message that says what to do, what it cannot compute
right: one module object at two places of a Sequential, inputs of another dtype than the
weights, an empty batch, Linear sizes past the limits (before the allocator is asked), a
CUDA device that is not there."""

from __future__ import annotations

import pytest
import torch

from miniframe.cli import main
from miniframe.engine import (
    LIMITS,
    SGD,
    CrossEntropyLoss,
    Linear,
    MSELoss,
    ReLU,
    Run,
    Sequential,
    SpecError,
    Tanh,
    load_preset,
)
from miniframe.engine.layers import check_device
from miniframe.engine.train import train_step

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is here: nothing to refuse")


# ---- one module, one place ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "build",
    [
        lambda lin, act: Sequential(lin, act, lin),  # a Linear twice
        lambda lin, act: Sequential(Linear(2, 2), act, Linear(2, 2), act),  # an activation twice
        lambda lin, act: Sequential([lin, act, act]),  # as a list, side by side
        lambda lin, act: Sequential(Sequential(lin, act), lin),  # nested
        lambda lin, act: Sequential(Sequential(lin), Sequential(act, lin)),  # in two nests
    ],
    ids=["linear", "activation", "list", "nested", "two-nests"],
)
def test_one_module_object_at_two_places_is_refused(build):
    with pytest.raises(ValueError, match=r"are the same .* object: each position needs a module"):
        build(Linear(2, 2), ReLU())


def test_why_it_is_refused_the_gradient_would_be_wrong():
    """What sharing did: the second use overwrote the first's saved input, and dW was not
    autograd's. Two distinct modules with the same weights give autograd's gradient."""
    torch.manual_seed(0)
    a, b = Linear(3, 3, dtype=torch.float64), Linear(3, 3, dtype=torch.float64)
    b.weight.copy_(a.weight)
    b.bias.copy_(a.bias)
    model = Sequential(a, Tanh(), b)
    x = torch.randn(4, 3, dtype=torch.float64)
    g = torch.randn(4, 3, dtype=torch.float64)
    model.forward(x)
    model.backward(g)
    w = a.weight.clone().requires_grad_()
    bias = a.bias.clone().requires_grad_()
    out = torch.tanh(x @ w.T + bias) @ w.T + bias
    out.backward(g)
    assert w.grad is not None
    assert torch.allclose(a.grad_weight + b.grad_weight, w.grad)


# ---- dtypes -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("weights", "given"),
    [(torch.float32, torch.float64), (torch.float64, torch.float32), (torch.float32, torch.int64),
     (torch.float32, torch.float16)],
)  # fmt: skip
def test_an_input_of_another_dtype_is_refused_naming_the_expected(weights, given):
    model = Sequential(Linear(2, 3, dtype=weights), ReLU(), Linear(3, 2, dtype=weights))
    x = torch.ones(4, 2, dtype=given)
    want = str(weights).removeprefix("torch.")
    with pytest.raises(TypeError, match=rf"expects {want} input .* got {str(given)[6:]}"):
        model.forward(x)
    assert model.forward(x.to(weights)).dtype == weights  # as the message says


def test_a_run_converts_raw_inputs_of_any_dtype():
    """Raw inputs go through the run's transform in float64 and are cast to the model's."""
    run = Run(load_preset("quick").replace(epochs=1))
    for dtype in (torch.float64, torch.float32, torch.int64):
        p = run.class_probabilities(torch.tensor([[0, 1], [1, 0]], dtype=dtype))
        assert p.shape == (2, 2) and p.dtype == torch.float32


# ---- empty batches ----------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [MSELoss(), CrossEntropyLoss()], ids=["mse", "cross-entropy"])
def test_an_empty_batch_is_refused(loss):
    out = torch.empty(0, 2)
    with pytest.raises(ValueError, match="an empty batch"):
        loss(out, torch.empty(0, dtype=torch.int64))
    model = Sequential(Linear(2, 2))
    with pytest.raises(ValueError, match="an empty batch"):
        train_step(model, loss, SGD(model.param(), lr=0.1), out, torch.empty(0, 2))


def test_a_forward_pass_of_no_rows_is_fine():
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 2))
    assert model.forward(torch.empty(0, 2)).shape == (0, 2)


# ---- sizes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sizes", "match"),
    [
        ((10**6, 10**6), r"in_features must be ≤ 4096, got 1000000"),
        ((2, 2**40), r"out_features must be ≤ 4096"),
        ((LIMITS.max_units + 1, 2), r"in_features must be ≤ 4096, got 4097"),
        ((0, 2), r"in_features must be a positive integer, got 0"),
        ((2.0, 2), r"in_features must be a positive integer, got 2.0"),
        ((True, 2), r"in_features must be a positive integer, got True"),
    ],
)
def test_linear_sizes_past_the_limits_are_refused_before_allocating(sizes, match):
    with pytest.raises(ValueError, match=match):
        Linear(*sizes)


def test_linear_at_the_limit_is_built():
    layer = Linear(LIMITS.max_units, 3)
    assert layer.weight.shape == (3, LIMITS.max_units)


# ---- devices ----------------------------------------------------------------------------------
@no_cuda
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3", torch.device("cuda")])
def test_cuda_without_cuda_is_one_line(device):
    with pytest.raises(SpecError, match=r"device '?cuda.*: no CUDA device is available here"):
        Linear(2, 3, device=device)
    with pytest.raises(SpecError, match="no CUDA device is available here"):
        check_device(device)


@pytest.mark.parametrize("device", ["tpu", "cuda:x", "meta"])
def test_a_device_the_engine_does_not_compute_on(device):
    with pytest.raises(SpecError, match=r"device '.*': "):
        check_device(device)


@no_cuda
def test_a_run_on_cuda_without_cuda(capsys):
    with pytest.raises(SpecError, match="no CUDA device is available here"):
        Run(load_preset("quick").replace(device="cuda"))
    for argv in (["train", "--device", "cuda"], ["sweep", "--device", "cuda:1", "--seeds", "1"]):
        code = main([*argv, "--epochs", "1", "--no-record"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "no CUDA device is available here" in err and "Traceback" not in err


def test_the_cpu_is_always_there():
    assert check_device("cpu") == torch.device("cpu")
    assert Linear(2, 2, device="cpu").weight.device.type == "cpu"
