"""ode: the last component at t = 2 of a linear ODE chain integrated by RK4, and its gradient."""

import numpy as np

from bench.workloads.gradbench.workload import SEED, Workload, grid, objective_and_gradients


def ode_inputs(size):
    return [np.random.default_rng(SEED).uniform(size=size["n"])], {"s": size["s"]}


def ode(ops, x, s):
    """RK4 with s steps to t = 2 of y0' = x0, yi' = xi y(i-1); the last component."""
    h = 2.0 / s
    head, tail = x[:1], x[1:]

    def f(y):
        return ops.concatenate([head, tail * y[:-1]])

    y = ops.const(np.zeros(x.shape[0]))
    for _ in range(s):
        k1 = f(y)
        k2 = f(y + (h / 2) * k1)
        k3 = f(y + (h / 2) * k2)
        k4 = f(y + h * k3)
        y = y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
    return y[-1]


WORKLOAD = Workload(
    "ode",
    ode_inputs,
    objective_and_gradients(ode),
    sizes=grid(n=(1000, 10000, 100000), s=(1, 10, 100)),
    default=grid(n=(1000,), s=(1, 10)),
    quick=grid(n=(10,), s=(3,)),
)
