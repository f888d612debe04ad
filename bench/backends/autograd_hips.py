"""autograd backend: HIPS autograd, the closest pure-Python numpy peer of dezero.

Gradients for all inputs come from one call on a tuple `(x, *params)`, as an autograd
user packs parameters; autograd's tuple gradients cost O(len(tuple)) per element, so
deep mlp backward grows quadratically in depth (the cost model in `profiles` knows).
"""

import numpy as np

from bench.backends.base import Backend, Prepared, cast

# mlp depth 1,000 (2,001 inputs) takes ~3 s; depth 10,000 would take minutes.
MAX_TUPLE_INPUTS = 2_001


class AutogradHips(Backend):
    name = "autograd"
    package = "autograd"
    spelling_key = "autograd"
    second_order = True

    def unsupported(self, chain, dtype):
        n = 1 + len(chain.params)
        if n > MAX_TUPLE_INPUTS:
            return (
                f"autograd's tuple gradient costs O(n^2) in the number of inputs "
                f"(n = {n} > {MAX_TUPLE_INPUTS})"
            )
        return None

    def prepare(self, chain, dtype=np.float64):
        import autograd  # optional: absent, available() says so and the suite skips

        ops = self.ops

        def forward(x, params):
            return np.asarray(chain.apply(ops, x, *params))

        # autograd differentiates with respect to one argument; a tuple of all inputs
        # gives every gradient from one backward pass.
        objective = autograd.value_and_grad(lambda xs: ops.sum(chain.apply(ops, *xs)))

        def value_and_grad(x, params):
            value, grads = objective((x, *params))
            return np.asarray(value), tuple(np.asarray(g) for g in grads)

        return Prepared(forward, value_and_grad, cast(chain, dtype))
