"""What the book's step scripts must print on this engine, written here as facts.

Each expectation is something this project predicts without the book's output: a closed form
(exp(0.5), the gradient of a polynomial), the same computation done here in plain numpy
(gradient descent with hand-written derivatives), a relation between printed values (softmax
rows sum to one), or agreement between steps that compute one thing through different APIs.
Numbers compare to a relative tolerance, not bitwise: a machine's summation order may change
the last bits, and 10^4 training updates grow them.
"""

from __future__ import annotations

import math
import re

import numpy as np

NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")
RTOL = 1e-9
TRAINED_RTOL = 1e-4  # NOTE: 10^4 updates grow a last-bit difference of one machine's sums

# Step 9 builds Variable(1.0) on purpose to show the type check; this is the error it shows.
INTENDED_ERRORS = {9: "TypeError: <class 'float'> is not supported"}

# Steps that compute the same thing through different APIs print the same lines.
AGREE = [(29, 33), (44, 45, 46), (48, 49)]


def _numbers(text: str) -> list[float]:
    return [float(s) for s in NUMBER.findall(text)]


def _central_difference(f, x, eps=1e-4):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def _square_exp_square(x):
    return np.square(np.exp(np.square(x)))


def _rosenbrock_descent(x0=0.0, x1=2.0, lr=0.001, updates=999):
    """The point printed last: after 999 updates (each step prints before it updates)."""
    for _ in range(updates):
        g0 = -400 * x0 * (x1 - x0**2) + 2 * (x0 - 1)
        g1 = 200 * (x1 - x0**2)
        x0, x1 = x0 - lr * g0, x1 - lr * g1
    return [x0, x1]


def _newton_quartic(x=2.0, iters=10):
    """Newton's method on x^4 - 2x^2 (minimum at 1): the printed (i, x) of the last 3 steps."""
    printed = []
    for i in range(iters):
        printed.append((i, x))
        x = x - (4 * x**3 - 4 * x) / (12 * x**2 - 4)
    return [v for pair in printed[-3:] for v in pair]


def _seeded_regression_data(noise_of):
    rng = np.random.RandomState(0)  # the stream np.random.seed(0) gives
    x = rng.rand(100, 1)
    return rng, x, noise_of(x) + rng.rand(100, 1)


def _linear_regression():
    """W, b and the loss on the last line: 100 descent steps of lr 0.1 on y = 5 + 2x + noise."""
    _, x, y = _seeded_regression_data(lambda x: 5 + 2 * x)
    W, b = np.zeros((1, 1)), np.zeros(1)
    for _ in range(100):
        diff = y - (x @ W + b)
        loss = np.sum(diff**2) / len(diff)
        g = -2 * diff / len(diff)
        W, b = W - 0.1 * (x.T @ g), b - 0.1 * g.sum(axis=0)
    return [W[0, 0], b[0], loss]


def _sigmoid_regression():
    """The ten printed losses of a 1-10-1 sigmoid net fitted to sin(2 pi x) + noise."""
    rng, x, y = _seeded_regression_data(lambda x: np.sin(2 * np.pi * x))
    W1, b1 = 0.01 * rng.randn(1, 10), np.zeros(10)
    W2, b2 = 0.01 * rng.randn(10, 1), np.zeros(1)
    losses = []
    for i in range(10000):
        h = 1 / (1 + np.exp(-(x @ W1 + b1)))
        diff = y - (h @ W2 + b2)
        if i % 1000 == 0:
            losses.append(np.sum(diff**2) / len(diff))
        g = -2 * diff / len(diff)
        gh = (g @ W2.T) * h * (1 - h)
        W2, b2 = W2 - 0.2 * (h.T @ g), b2 - 0.2 * g.sum(axis=0)
        W1, b1 = W1 - 0.2 * (x.T @ gh), b1 - 0.2 * gh.sum(axis=0)
    return losses


def _tail(expected, rtol=RTOL):
    """The last len(expected) numbers printed equal `expected` (a list or a function of none)."""

    def check(stdout):
        want = expected() if callable(expected) else expected
        got = _numbers(stdout)[-len(want) :]
        if len(got) == len(want) and np.allclose(got, want, rtol=rtol, atol=1e-300):
            return None
        return f"printed {got}, expected {[float(w) for w in want]} (rtol {rtol:g})"

    return check


def _softmax_consistent(stdout):
    """Rows of the printed probabilities sum to 1 and the loss is their cross-entropy."""
    last = stdout.rstrip().split("variable(")
    p = np.array(_numbers(last[-2])).reshape(4, 3)
    loss = _numbers(last[-1])[0]
    expected = -np.mean(np.log(p[np.arange(4), [2, 0, 1, 0]]))
    if not np.allclose(p.sum(axis=1), 1, rtol=1e-6):
        return f"softmax rows sum to {p.sum(axis=1)}, not 1"
    if not math.isclose(loss, expected, rel_tol=1e-6):
        return f"loss {loss} is not the cross-entropy {expected} of the printed probabilities"
    return None


def _dropout_scales(stdout):
    """Training mode keeps each unit x 2 or drops it (ratio 0.5); test mode passes x through."""
    lines = stdout.rstrip().splitlines()
    train, test = _numbers(lines[-2]), _numbers(lines[-1])
    if len(train) != 5 or set(train) - {0.0, 2.0} or test != [1.0] * 5:
        return f"dropout printed {train} (train) and {test} (test)"
    return None


def _final_loss_below(bound, pattern=r"loss:? ([\d.]+)"):
    def check(stdout):
        losses = [float(v) for v in re.findall(pattern, stdout)]
        if not losses or losses[-1] >= bound or losses[-1] >= losses[0]:
            return f"losses {losses[:1]} ... {losses[-1:]} do not fall below {bound}"
        return None

    return check


def _accuracy_at_least(bound):
    def check(stdout):
        last = [float(v) for v in re.findall(r"accuracy: ([\d.]+)", stdout)[-2:]]
        if len(last) < 2 or min(last) < bound:
            return f"final train/test accuracy {last}, expected >= {bound}"
        return None

    return check


ONES = lambda n: [1] * n  # noqa: E731
NOISE_VARIANCE = 1 / 12  # rand()'s variance: the loss a perfect fit of sin + noise leaves

CHECKS = {
    1: _tail([1.0, 2.0]),
    2: _tail([100]),  # 10 squared
    3: _tail(lambda: [_square_exp_square(0.5)]),  # = exp(0.5)
    4: _tail(
        lambda: [
            _central_difference(np.square, 2.0),
            _central_difference(_square_exp_square, 0.5),
        ]
    ),
    6: _tail([2 * math.exp(0.5)]),  # d/dx exp(x^2)^2 = 4x exp(2x^2), at 0.5
    7: _tail([2 * math.exp(0.5)]),
    8: _tail([2 * math.exp(0.5)]),
    9: _tail([2 * math.exp(0.5)]),
    11: _tail([5]),  # 2 + 3
    12: _tail([5]),
    13: _tail([13, 4, 6]),  # x^2 + y^2 and its gradient at (2, 3)
    14: _tail([2, 3]),  # d/dx of x + x, then of x + x + x
    16: _tail([32, 64]),  # 2x^4 and 8x^3 at 2
    18: _tail([2, 1]),  # y = x0 + (x0 + x1)
    19: _tail([2, 3, 1, 2, 3, 4, 5, 6]),
    20: _tail([7, 2, 3]),  # a*b + c at (3, 2, 1), d/da = b, d/db = a
    21: _tail([5, 5, 7]),
    22: _tail([-2, 0, 1, 1.5, 8]),  # -x, 2-x, x-1, 3/x, x^3 at 2
    23: _tail([16, 8]),  # (x+3)^2 and 2(x+3) at 1
    24: _tail([-5376, 8064]),  # the Goldstein-Price gradient at (1, 1)
    28: _tail(_rosenbrock_descent),
    29: _tail(_newton_quartic),
    33: _tail(_newton_quartic),
    36: _tail([100]),  # d/dx of (2x)^3 + x^2 = 24x^2 + 2x at 2
    37: _tail([1] + ONES(18)),  # sum's gradient is ones
    38: _tail(ONES(12)),
    39: _tail([21, *ONES(6), 21, *ONES(6), 5, 7, 9, *ONES(6), 1, 1, 1, 1]),
    40: _tail([11, 12, 13, 3]),  # broadcast add; the broadcast operand's gradient sums to 3
    41: _tail([2, 3, 3, 4]),
    42: _tail(_linear_regression),
    43: _tail(_sigmoid_regression, TRAINED_RTOL),
    44: _final_loss_below(NOISE_VARIANCE, r"variable\(([\d.]+)\)"),
    47: _softmax_consistent,
    48: _final_loss_below(0.2),
    50: _accuracy_at_least(0.9),
    54: _dropout_scales,
    55: _tail([4, 4]),  # (4 + 2*1 - 3) // 1 + 1
    57: _tail([9, 75, 90, 75, 1, 8, 15, 15, 1, 5, 15, 15]),
}


def check(step: int, stdout: str, stderr: str) -> str | None:
    """What is wrong with what `step` printed, or None (also None for steps with no fact)."""
    if step == 10 and not re.search(r"Ran [1-9]\d* tests?", stderr):
        return "no unittest case ran"
    checker = CHECKS.get(step)
    return checker(stdout) if checker else None


def disagreements(outputs: dict[int, str]) -> dict[int, str]:
    """Steps whose printed numbers differ from the first step of their AGREE group."""
    problems = {}
    for group in AGREE:
        if not all(s in outputs for s in group):
            continue
        first = _numbers(outputs[group[0]])
        for step in group[1:]:
            other = _numbers(outputs[step])
            if len(other) != len(first) or not np.allclose(other, first, rtol=RTOL):
                problems[step] = f"prints other numbers than step {group[0]} (same computation)"
    return problems
