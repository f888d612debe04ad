"""lse: log-sum-exp of a vector, shifted by its maximum as written, and its gradient."""

import numpy as np

from bench.workloads.gradbench.workload import SEED, Workload, grid, objective_and_gradients


def lse_inputs(size):
    return [np.random.default_rng(SEED).uniform(size=size["n"])], {}


def lse(ops, x):
    a = ops.max(x)
    return a + ops.log(ops.sum(ops.exp(x - a)))


WORKLOAD = Workload(
    "lse",
    lse_inputs,
    objective_and_gradients(lse),
    sizes=grid(n=tuple(2500 * 2**i for i in range(10))),
    default=grid(n=(2500, 80000, 1280000)),
    quick=grid(n=(50,)),
)
