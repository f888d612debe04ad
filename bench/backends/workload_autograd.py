"""HIPS autograd's op namespace for GradBench's evaluations."""

from __future__ import annotations

import numpy as np

from bench.backends.workload_numpy_api import NumpyApiOps


class AutogradOps(NumpyApiOps):
    """HIPS autograd: `make_vjp` and `grad` of the function, on numpy arrays."""

    def __init__(self):
        import autograd
        import autograd.numpy as anp

        super().__init__(anp)
        self._autograd, self._anp = autograd, anp

    def sigmoid(self, x):
        return 0.5 * (self._anp.tanh(0.5 * x) + 1)  # autograd.numpy has no sigmoid

    def const(self, a):
        return np.asarray(a)

    def value(self, v):
        return np.asarray(v)

    def less(self, a, b):
        from autograd.tracer import getval

        return bool(getval(a) < getval(b))

    def logsumexp(self, x, axis):
        from autograd.scipy.special import logsumexp

        return logsumexp(x, axis=axis)

    def value_and_grad(self, f, params):
        pull_back, y = self._autograd.make_vjp(lambda xs: f(*xs))(tuple(params))
        return y, list(pull_back(self._anp.ones_like(y)))

    def grad_at(self, f, x, create_graph):
        return self._autograd.grad(f)(x)

    def jacfwd(self, f, x):
        jvp = self._autograd.make_jvp(f)(x)  # reverse over reverse, one pass a column
        unit = np.eye(np.size(x))
        return self._anp.stack([jvp(unit[j])[1] for j in range(len(unit))], axis=-1)
