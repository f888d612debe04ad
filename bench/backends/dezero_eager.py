"""dezero backend: the engine under test, eager, exactly as a book reader would call it."""

import numpy as np

import dezero
from bench.backends.base import Backend, Prepared, cast


class DezeroEager(Backend):
    name = "dezero"
    package = "dezero"
    distribution = "dezero-bench"
    spelling_key = "dezero"
    second_order = True

    def prepare(self, chain, dtype=np.float64):
        ops = self.ops

        def as_variable(a):
            return a if isinstance(a, dezero.Variable) else dezero.Variable(a)

        def native(x, params):
            with dezero.no_grad():
                return chain.apply(ops, as_variable(x), *map(as_variable, params))

        def forward(x, params):
            with dezero.no_grad():
                return chain.apply(ops, as_variable(x), *map(as_variable, params)).data

        def record(x, params):
            leaves = [as_variable(x), *map(as_variable, params)]
            for leaf in leaves:
                leaf.cleargrad()  # reused inputs would otherwise accumulate across calls
            return leaves, ops.sum(chain.apply(ops, *leaves))

        def value_and_grad(x, params):
            leaves, out = record(x, params)
            out.backward()
            return out.data, tuple(leaf.grad.data for leaf in leaves)

        x, params = cast(chain, dtype)
        inputs = (dezero.Variable(x), tuple(dezero.Variable(p) for p in params))
        return Prepared(forward, value_and_grad, inputs, record=record, native=native)
