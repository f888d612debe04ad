"""jax_scan backend: the chain as a jitted `lax.scan` over its layers, as a JAX user writes it.

Compile time no longer grows with depth. Repeated-block families scan their `layer`
(mlp scans over its weights stacked along a new leading axis); `random` scans over its
op indices with `lax.switch`. `seed` is three different ops, not a loop, so it is skipped.
"""

import numpy as np

from bench.backends.base import Prepared, cast
from bench.backends.jax_common import JaxBackend, compiled_on_first_call, jax_modules, to_numpy


class Stacked(tuple):
    """Per-layer params stacked along a leading depth axis (already in scan layout)."""


def stack(params, per_layer):
    """Flat per-layer params (W0, b0, W1, b1, ...) as one array per kind, depth first."""
    if isinstance(params, Stacked):
        return tuple(params)
    return tuple(np.stack(params[k::per_layer]) for k in range(per_layer))


def unstack(stacked_grads, depth):
    """Scan-layout gradients back to the flat per-layer order of `Chain.params`."""
    return tuple(g[i] for i in range(depth) for g in stacked_grads)


class JaxScan(JaxBackend):
    name = "jax_scan"

    def unsupported(self, chain, dtype):
        if chain.layer is None and not chain.program:
            return f"family {chain.family!r} is not a repeated block, so there is nothing to scan"
        return super().unsupported(chain, dtype)

    def prepare(self, chain, dtype=np.float64):
        jax, jnp = jax_modules()
        ops = self.ops
        seconds = {}
        output = self._scan_body(chain, jax.lax)
        run_forward = compiled_on_first_call(output, seconds, "forward")
        run_backward = compiled_on_first_call(
            jax.value_and_grad(lambda x, params: ops.sum(output(x, params)), argnums=(0, 1)),
            seconds,
            "backward",
        )
        per_layer = chain.params_per_layer

        def native(x, params):
            return jax.block_until_ready(run_forward(x, stack(params, per_layer)))

        def forward(x, params):
            stacked = stack(params, per_layer)
            return np.asarray(jax.block_until_ready(run_forward(x, stacked)))

        def value_and_grad(x, params):
            value, (gx, gstacked) = run_backward(x, stack(params, per_layer))
            value, (gx, *gstacked) = to_numpy(value, (gx, *gstacked))
            return value, (gx, *unstack(gstacked, chain.depth))

        # Stack in numpy, then move once: jnp.stack of 10**4 device arrays is itself a
        # 10**4-operand XLA concatenate to compile.
        x, params = cast(chain, dtype)
        inputs = (jnp.asarray(x), Stacked(map(jnp.asarray, stack(params, per_layer))))
        return Prepared(forward, value_and_grad, inputs, seconds, native=native)

    def _scan_body(self, chain, lax):
        ops = self.ops
        if chain.program:
            names = sorted(set(chain.program))
            branches = [getattr(ops, name) for name in names]
            index = np.array([names.index(name) for name in chain.program], dtype=np.int32)
            return lambda x, params: lax.scan(
                lambda h, i: (lax.switch(i, branches, h), None), x, index
            )[0]
        if chain.lift is not None:  # the carry is the layer's own state (a pair for twist)
            return lambda x, params: chain.readout(
                ops,
                lax.scan(
                    lambda h, _: (chain.layer(ops, h), None),
                    chain.lift(ops, x),
                    None,
                    length=chain.depth,
                )[0],
            )
        if chain.params_per_layer == 0:
            return lambda x, params: lax.scan(
                lambda h, _: (chain.layer(ops, h), None), x, None, length=chain.depth
            )[0]
        return lambda x, params: lax.scan(lambda h, p: (chain.layer(ops, h, *p), None), x, params)[
            0
        ]
