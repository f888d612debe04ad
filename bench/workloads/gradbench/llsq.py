"""llsq: half the squared residual of a polynomial least-squares fit to sign(t), and its
gradient. t is GradBench's n points spread evenly on [-1, 1]; x uniform in [0, 1)."""

import numpy as np

from bench.workloads.gradbench.workload import SEED, Workload, grid, objective_and_gradients


def llsq_inputs(size):
    n, m = size["n"], size["m"]
    t = -1 + np.arange(n) * 2 / (n - 1)
    x = np.random.default_rng(SEED).uniform(size=m)
    return [x], {"V": np.vander(t, m, increasing=True), "s": np.sign(t)}


def llsq(ops, x, V, s):
    r = ops.const(s) - ops.matmul(ops.const(V), x)
    return 0.5 * ops.sum(r * r)


WORKLOAD = Workload(
    "llsq",
    llsq_inputs,
    objective_and_gradients(llsq),
    sizes=grid(n=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8196, 16392), m=(128,)),
    default=grid(n=(16, 1024, 16392), m=(128,)),
    quick=grid(n=(16,), m=(8,)),
)
