"""PyTorch's op namespace for GradBench's evaluations: eager, `torch.autograd.grad`."""

from __future__ import annotations

import numpy as np

from bench.backends.workload_ops import SHARED, WorkloadOps
from bench.machine import threads


class TorchOps(WorkloadOps):
    """Eager PyTorch: `torch.autograd.grad`, nothing accumulated into `.grad`."""

    convert_consts = True

    def __init__(self):
        import torch  # optional and slow to import

        threads.pin_torch()
        self._torch = torch
        for op in (*SHARED, "sigmoid"):
            setattr(self, op, getattr(torch, op))

    def leaf(self, a):
        return self._torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)

    def const(self, a):
        return self._torch.as_tensor(a)

    def value(self, v):
        return v.detach().numpy() if isinstance(v, self._torch.Tensor) else np.asarray(v)

    def less(self, a, b):
        return bool(a < b)

    def sum(self, x, axis=None):
        return x.sum() if axis is None else x.sum(dim=axis)

    def min(self, x, axis):
        return self._torch.amin(x, dim=axis)

    def max(self, x):
        return self._torch.max(x)

    def logsumexp(self, x, axis):
        return self._torch.logsumexp(x, dim=tuple(range(x.ndim)) if axis is None else axis)

    def concatenate(self, seq, axis=0):
        return self._torch.cat(seq, dim=axis)

    def stack(self, seq, axis=0):
        return self._torch.stack(seq, dim=axis)

    def transpose(self, x, axes):
        return x.permute(axes)

    def value_and_grad(self, f, params):
        leaves = [p.detach().requires_grad_(True) for p in params]
        y = f(*leaves)
        grads = self._torch.autograd.grad(
            y, leaves, grad_outputs=self._torch.ones_like(y), allow_unused=True
        )
        return y, [self._torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]

    def grad_at(self, f, x, create_graph):
        # torch differentiates only tensors that require grad: a constant point becomes a
        # fresh leaf (it depends on nothing, so no outer gradient is lost).
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        return self._torch.autograd.grad(f(x), x, create_graph=create_graph)[0]

    def jacfwd(self, f, x):
        return self._torch.func.jacfwd(f)(x)
