"""What a GradBench evaluation is here: inputs per size, one `run` against an op namespace.

A `run(ops, params, consts)` is written once; every backend supplies `ops` with the math the
evaluations use (numpy's spellings: `axis`, `concatenate`), `const` to bring a numpy array
in, `value` to bring a result out, and two functional derivatives every engine can give:

- `ops.value_and_grad(f, params)`: `(f(*params), gradients of sum(f(*params)))`, one per
  param. The value is returned as f gives it (not summed), so one call gives a residual
  vector and its row sums' gradients (ba and ht take Jacobian blocks that way).
- `ops.grad_at(f, x, create_graph)`: the gradient of a scalar f at x; `create_graph` when an
  outer derivative flows through it (engines that always can ignore it).
- `ops.jacfwd(f, x)`: the Jacobian of f at a vector x by forward mode (one column per
  entry of x, on a last axis), for a few inputs and many outputs; engines without forward
  mode take each column as reverse over reverse.
- `ops.less(a, b)`: `a < b` as a Python bool, for the solvers' data-dependent loops.
- `ops.scan(step, carry, xs)`: the carry after `carry = step(carry, rows)` for each row of
  the arrays xs (a tuple): a Python loop, except in JAX, where it is `lax.scan`, so a long
  fixed loop is traced once rather than op by op or unrolled.

What an evaluation needs from an engine is declared, not discovered by failing: `nested`
(why it takes derivatives of derivatives) and `data_loop` (why its Python control flow is
decided by computed values, so a trace or a jit would freeze or refuse it). The backends
layer turns those into the reason a backend cannot run it.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

SEED = 31337  # GradBench's generators' seed


@dataclass(frozen=True)
class Workload:
    """One evaluation: `inputs(size) -> (params, consts)`, `run(ops, params, consts)` -> the
    objective then its gradients (or the evaluation's own outputs), and its size grids:
    `sizes` GradBench's, `default` a subset cheap enough for every backend's timing run,
    `quick` the smallest, for tests."""

    name: str
    inputs: Callable
    run: Callable
    sizes: tuple
    default: tuple
    quick: tuple
    nested: str | None = None  # what differentiates a derivative, or None
    data_loop: str | None = None  # why the control flow depends on values, or None

    def size_label(self, size: dict) -> str:
        """The size as `name=value` pairs, e.g. 'd=2,k=5,n=1000'."""
        return ",".join(f"{key}={value}" for key, value in size.items())


def grid(**axes) -> tuple:
    """Every combination of the axes' values, as dicts, the last axis varying fastest."""
    names = list(axes)
    return tuple(dict(zip(names, combo)) for combo in itertools.product(*axes.values()))


def objective_and_gradients(objective):
    """A `run` that returns a scalar objective and its gradient with respect to every param."""

    def run(ops, params, consts):
        y, grads = ops.value_and_grad(lambda *xs: objective(ops, *xs, **consts), params)
        return [ops.value(y), *(ops.value(g) for g in grads)]

    run.__name__ = objective.__name__
    return run
