"""dezero_replay backend: `dezero.trace` once, then replay forward or value_and_grad.

The trace (one eager forward + backward, recorded) happens on the first call of each
pass, like jax_jit's compile, and its seconds are kept in `compile_seconds`, so the
timed calls measure replay alone and the tables show the trace cost beside jit compiles.
Replayed values and gradients are bitwise those of the `dezero` backend.
"""

import time

import numpy as np

import dezero
from bench.backends.base import Prepared, cast
from bench.backends.dezero_eager import DezeroEager


class DezeroReplay(DezeroEager):
    name = "dezero_replay"
    second_order = False  # a replayed tape has no graph of its gradient

    def prepare(self, chain, dtype=np.float64):
        ops = self.ops
        seconds = {}
        tapes = {}

        def traced(pass_, f, x, params):
            tape = tapes.get(pass_)
            if tape is None:
                start = time.perf_counter()
                tape = tapes[pass_] = dezero.trace(f, x, *params)
                seconds[pass_] = time.perf_counter() - start
            return tape

        def output(x, *params):
            return chain.apply(ops, x, *params)

        def objective(x, *params):
            return ops.sum(chain.apply(ops, x, *params))

        def forward(x, params):
            return traced("forward", output, x, params).forward(x, *params)

        def value_and_grad(x, params):
            return traced("backward", objective, x, params).value_and_grad(x, *params)

        return Prepared(forward, value_and_grad, cast(chain, dtype), seconds)
