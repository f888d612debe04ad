"""jax_jit backend: `jit(value_and_grad)` of the unrolled chain, compile timed separately.

Compile time of an unrolled chain grows superlinearly with depth (about 0.8 s at depth
1,000 and 29 s at 10,000), which is why `jax_scan` exists for the repeated families.
"""

import numpy as np

from bench.backends.base import Prepared
from bench.backends.jax_common import JaxBackend, compiled_on_first_call, jax_modules, to_numpy


class JaxJit(JaxBackend):
    name = "jax_jit"

    def prepare(self, chain, dtype=np.float64):
        jax, _ = jax_modules()
        ops = self.ops
        seconds = {}

        def output(x, params):
            return chain.apply(ops, x, *params)

        run_forward = compiled_on_first_call(output, seconds, "forward")
        run_backward = compiled_on_first_call(
            jax.value_and_grad(lambda x, params: ops.sum(output(x, params)), argnums=(0, 1)),
            seconds,
            "backward",
        )

        def native(x, params):
            return jax.block_until_ready(run_forward(x, tuple(params)))

        def forward(x, params):
            return np.asarray(jax.block_until_ready(run_forward(x, tuple(params))))

        def value_and_grad(x, params):
            value, (gx, gparams) = run_backward(x, tuple(params))
            return to_numpy(value, (gx, *gparams))

        inputs = self.device_inputs(chain, dtype)
        return Prepared(forward, value_and_grad, inputs, seconds, native=native)
