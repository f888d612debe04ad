"""hello: f(x) = x^2 and its gradient 2x, GradBench's protocol check.

GradBench alternates `square` and `double` four times from x = 1; the squares it asks for
are of 1, 2, 8 and 128, the sizes here. Not a benchmark of anything but the call overhead.
"""

import numpy as np

from bench.workloads.gradbench.workload import Workload, objective_and_gradients


def hello_inputs(size):
    return [np.array(float(size["x"]))], {}


def square(ops, x):
    return x * x


WORKLOAD = Workload(
    "hello",
    hello_inputs,
    objective_and_gradients(square),
    sizes=tuple({"x": x} for x in (1.0, 2.0, 8.0, 128.0)),
    default=({"x": 2.0},),
    quick=({"x": 2.0},),
)
