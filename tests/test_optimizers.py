"""Each optimizer's 20-step update sequence against torch.optim with the same
hyper-parameters, float64. Both get the same gradients, computed by one numpy function
of the current parameters, so any difference is the update rule's."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import dezero.layers as L
from dezero import Parameter, Variable, optimizers

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

STEPS = 20


class TwoParams(L.Layer):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.W = Parameter(rng.standard_normal((3, 4)))
        self.b = Parameter(rng.standard_normal(4))


def _grad(p):
    """A gradient that changes with the parameter (so state-keeping rules are exercised)."""
    return np.cos(3 * p) + 0.5 * p + np.linspace(-1, 1, p.size).reshape(p.shape)


@dataclass(frozen=True)
class OptCase:
    name: str
    dezero: Callable  # () -> dezero optimizer
    torch: Callable  # (params) -> torch optimizer
    torch_hook: Callable | None = None  # applied to torch params before each step


CASES = [
    OptCase("sgd", lambda: optimizers.SGD(0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    OptCase(
        "momentum_sgd",
        lambda: optimizers.MomentumSGD(lr=0.05, momentum=0.9),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
    ),
    OptCase(
        "adagrad",
        lambda: optimizers.AdaGrad(lr=0.1, eps=1e-8),
        lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-8),
    ),
    OptCase(
        "adadelta",
        lambda: optimizers.AdaDelta(rho=0.9, eps=1e-6),
        lambda ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.9, eps=1e-6),
    ),
    # NOTE: eps=0 because the book's Adam adds eps to sqrt(v) before the bias correction
    # and torch after it; with eps=0 both compute the same update (see the test below).
    OptCase(
        "adam_eps0",
        lambda: optimizers.Adam(alpha=0.01, beta1=0.8, beta2=0.99, eps=0.0),
        lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=0.0),
    ),
    OptCase(
        "sgd_weight_decay",
        lambda: _hooked(optimizers.SGD(0.1), optimizers.WeightDecay(0.01)),
        lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.01),
    ),
    OptCase(
        "sgd_clip_grad",
        lambda: _hooked(optimizers.SGD(0.1), optimizers.ClipGrad(0.5)),
        lambda ps: torch.optim.SGD(ps, lr=0.1),
        torch_hook=lambda ps: torch.nn.utils.clip_grad_norm_(ps, 0.5, foreach=False),
    ),
]


def _hooked(optimizer, hook):
    optimizer.add_hook(hook)
    return optimizer


def _run_dezero(case):
    model = TwoParams()
    optimizer = case.dezero().setup(model)
    history = []
    for _ in range(STEPS):
        for p in model.params():
            p.grad = Variable(_grad(p.data))
        optimizer.update()
        history.append([p.data.copy() for p in model.params()])
    return history


def _run_torch(case):
    model = TwoParams()
    params = [torch.tensor(p.data.copy(), requires_grad=True) for p in model.params()]
    optimizer = case.torch(params)
    history = []
    for _ in range(STEPS):
        for p in params:
            p.grad = torch.tensor(_grad(p.detach().numpy()))
        if case.torch_hook:
            case.torch_hook(params)
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_optimizer_20_steps_match_torch(case):
    ours, theirs = _run_dezero(case), _run_torch(case)
    for step, (a, b) in enumerate(zip(ours, theirs), start=1):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")
    moved = np.abs(ours[-1][0] - TwoParams().W.data).max()
    assert moved > 1e-3, "the optimizer barely moved the parameters; the test would be vacuous"


def test_adam_with_eps_matches_torch_given_the_books_eps_placement():
    """The book adds eps to sqrt(v) before the bias correction: that is torch's Adam with
    eps / sqrt(1 - beta2^t) at step t, which the torch side sets before each step."""
    eps, beta2 = 1e-3, 0.99  # a large eps, so a wrong placement would show

    class TorchAdamBooksEps:
        """torch Adam whose eps is rescaled before each step to the book's placement."""

        def __init__(self, params):
            self.adam = torch.optim.Adam(params, lr=0.01, betas=(0.9, beta2), eps=eps)
            self.t = 0

        def step(self):
            self.t += 1
            for group in self.adam.param_groups:
                group["eps"] = eps / np.sqrt(1 - beta2**self.t)
            self.adam.step()

    case = OptCase(
        "adam",
        lambda: optimizers.Adam(alpha=0.01, beta1=0.9, beta2=beta2, eps=eps),
        TorchAdamBooksEps,
    )
    ours, theirs = _run_dezero(case), _run_torch(case)
    for a, b in zip(ours, theirs):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


def test_freeze_param_keeps_a_layer_fixed():
    model = TwoParams()
    frozen = model.W.data.copy()
    optimizer = optimizers.SGD(0.1).setup(model)
    optimizer.add_hook(optimizers.FreezeParam(model.W))
    for p in model.params():
        p.grad = Variable(_grad(p.data))
    b_before = model.b.data.copy()
    optimizer.update()
    np.testing.assert_array_equal(model.W.data, frozen)
    assert not np.array_equal(model.b.data, b_before)


def test_adam_lr_folds_in_the_bias_correction():
    adam = optimizers.Adam(alpha=0.1, beta1=0.9, beta2=0.999)
    adam.t = 1
    assert adam.lr == pytest.approx(0.1 * np.sqrt(1 - 0.999) / (1 - 0.9), rel=1e-15)


def test_sgd_takes_a_subclass_update_one_hooks_and_skips_parameters_without_a_gradient():
    """SGD steps every parameter with a gradient by lr * grad and leaves the others; a
    subclass's own update_one and a hook take part, as in the book's Optimizer.update."""

    class Halving(optimizers.SGD):
        def update_one(self, param):
            param.data -= 0.5 * param.grad.data

    model = TwoParams()
    W0, b0 = model.W.data.copy(), model.b.data.copy()
    model.W.grad = Variable(_grad(W0))  # b has no gradient: left as it is
    optimizers.SGD(0.1).setup(model).update()
    np.testing.assert_array_equal(model.W.data, W0 - 0.1 * _grad(W0))
    np.testing.assert_array_equal(model.b.data, b0)
    W1 = model.W.data.copy()
    Halving(0.1).setup(model).update()
    np.testing.assert_array_equal(model.W.data, W1 - 0.5 * _grad(W0))
    decayed = optimizers.SGD(0.1).setup(model)
    decayed.add_hook(optimizers.WeightDecay(0.01))
    W2 = model.W.data.copy()
    decayed.update()
    np.testing.assert_array_equal(model.W.data, W2 - 0.1 * (_grad(W0) + 0.01 * W2))
