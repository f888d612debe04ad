"""jax backend: op-by-op JAX, no jit (what a user gets before reaching for `jax.jit`)."""

import numpy as np

from bench.backends.base import Prepared
from bench.backends.jax_common import JaxBackend, jax_modules, to_numpy


class JaxEager(JaxBackend):
    name = "jax"

    def prepare(self, chain, dtype=np.float64):
        jax, _ = jax_modules()
        ops = self.ops

        def native(x, params):
            return jax.block_until_ready(chain.apply(ops, x, *params))

        def forward(x, params):
            return np.asarray(jax.block_until_ready(chain.apply(ops, x, *params)))

        objective = jax.value_and_grad(
            lambda x, params: ops.sum(chain.apply(ops, x, *params)), argnums=(0, 1)
        )

        def value_and_grad(x, params):
            value, (gx, gparams) = objective(x, tuple(params))
            return to_numpy(value, (gx, *gparams))

        return Prepared(forward, value_and_grad, self.device_inputs(chain, dtype), native=native)
