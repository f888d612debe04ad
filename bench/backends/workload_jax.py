"""JAX's op namespaces for GradBench's evaluations: eager, and the whole evaluation jitted."""

from __future__ import annotations

import time

import numpy as np

from bench.backends.workload_numpy_api import NumpyApiOps


class JaxOps(NumpyApiOps):
    """JAX: `jax.vjp` and `jax.grad` of the function, eager or (`jit`) under a trace, where
    `value` must leave arrays as they are; the caller converts after the call."""

    convert_consts = True
    jit = False

    def __init__(self):
        from bench.backends.jax_common import jax_modules

        self._jax, self._jnp = jax_modules()
        super().__init__(self._jnp)
        self.sigmoid = self._jax.nn.sigmoid

    def const(self, a):
        return self._jnp.asarray(a)

    def value(self, v):
        return v if self.jit else np.asarray(v)

    def less(self, a, b):
        return bool(a < b)  # concrete under jax.grad; under jit a loop must not get here

    def scan(self, step, carry, xs):
        # lax.scan, eager too: JAX's own loop, as a JAX user writes one; a Python loop in
        # eager JAX dispatches every op of every step (26 s of CPU for lstm at c = 1024)
        return self._jax.lax.scan(lambda c, rows: (step(c, rows), None), carry, xs)[0]

    def logsumexp(self, x, axis):
        from jax.scipy.special import logsumexp

        return logsumexp(x, axis=axis)

    def value_and_grad(self, f, params):
        y, pull_back = self._jax.vjp(f, *params)
        return y, list(pull_back(self._jnp.ones_like(y)))

    def grad_at(self, f, x, create_graph):
        return self._jax.grad(f)(x)

    def jacfwd(self, f, x):
        return self._jax.jacfwd(f)(x)


class JaxJitOps(JaxOps):
    """The whole evaluation (objective and derivatives) compiled by `jax.jit` on the first
    call, its seconds kept in `compile_seconds`. Float arrays are the executable's
    arguments, not constants folded into it; the rest (sizes, index arrays, det's levels)
    is static structure."""

    jit = True

    def __init__(self):
        super().__init__()
        self._executable = None

    @classmethod
    def unsupported(cls, workload):
        if workload.data_loop:
            return (
                f"jax.jit cannot branch on traced values, and {workload.data_loop} "
                "(a lax.while_loop version would be a second definition)"
            )
        return None

    def run(self, workload, params, consts, prepared):
        jax = self._jax
        if self._executable is None:
            start = time.perf_counter()
            arrays = {k: c for k, c in consts.items() if isinstance(c, jax.Array)}
            static = {k: c for k, c in consts.items() if k not in arrays}
            jitted = jax.jit(lambda ps, cs: workload.run(self, ps, static | cs))
            self._executable = jitted.lower(params, arrays).compile(), arrays
            prepared.compile_seconds = time.perf_counter() - start
        executable, arrays = self._executable
        return [np.asarray(a) for a in jax.block_until_ready(executable(params, arrays))]
