"""mygrad's op namespace for GradBench's evaluations, and the logsumexp its users write.

mygrad's gradients are numpy arrays, off the graph, so it takes no gradient of a gradient:
the evaluations that need one (`Workload.nested`) are rows saying so, except ht, whose
forward-mode Jacobian is taken here by reverse passes instead. `backward()` also clears the
graph it walked, so each pass records its function again.
"""

from __future__ import annotations

import numpy as np

from bench.backends.workload_numpy_api import NumpyApiOps

# ht's theta Jacobian is written as forward mode, which mygrad forms by reverse rows
REVERSE_ROWS_ENOUGH = {"ht"}


def shifted_logsumexp(x, axis=None, keepdims=False):
    """mygrad has no logsumexp: its users write log(sum(exp(x - m))) + m with the maximum m
    held constant (the shift cancels in the derivative)."""
    import mygrad as mg

    m = np.max(x.data, axis=axis, keepdims=True)
    y = mg.log(mg.sum(mg.exp(x - m), axis=axis, keepdims=keepdims))
    return y + (m if keepdims else np.squeeze(m, axis=axis))


class MygradOps(NumpyApiOps):
    """mygrad tensors, float64: `backward()` from fresh leaves per derivative."""

    def __init__(self):
        import mygrad as mg  # optional

        super().__init__(mg)
        self._mg = mg
        self.sigmoid = mg.nnet.activations.sigmoid

    @classmethod
    def unsupported(cls, workload):
        if workload.nested and workload.name not in REVERSE_ROWS_ENOUGH:
            return (
                f"mygrad's gradients are numpy arrays off the graph (no gradient of a "
                f"gradient), and {workload.nested}"
            )
        return None

    def const(self, a):
        return self._mg.tensor(a, constant=True) if isinstance(a, np.ndarray) else a

    def value(self, v):
        return np.asarray(v.data) if isinstance(v, self._mg.Tensor) else np.asarray(v)

    def less(self, a, b):
        return bool(self.value(a) < self.value(b))

    def logsumexp(self, x, axis):
        return shifted_logsumexp(x, axis=axis)

    def value_and_grad(self, f, params):
        leaves = [self._mg.tensor(self.value(p)) for p in params]
        y = f(*leaves)
        y.backward()  # of sum(y): a non-scalar y is seeded with ones
        return y, [np.zeros_like(t.data) if t.grad is None else t.grad for t in leaves]

    def grad_at(self, f, x, create_graph):
        return self.value_and_grad(f, [x])[1][0]

    def jacfwd(self, f, x):
        # one reverse pass per output element, each recording f again (backward clears it)
        x = self.value(x)
        shape = np.shape(self.value(f(self._mg.tensor(x, constant=True))))
        rows = []
        for i in range(int(np.prod(shape))):
            leaf = self._mg.tensor(x)
            self._mg.reshape(f(leaf), (-1,))[i].backward()
            rows.append(leaf.grad)
        return np.reshape(np.stack(rows), (*shape, np.size(x)))
