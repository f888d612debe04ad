"""The op namespaces GradBench's workloads are written against: one for dezero, one for torch.

A workload (bench.workloads.gradbench) is a function of `ops`; these two classes supply it.
Each gives the math the workloads need under one spelling (numpy's: `axis`, `concatenate`),
`leaf`/`const` to bring a numpy array in as an input to differentiate or a constant,
`grad(y, xs, create_graph)` with torch.autograd.grad's meaning, `grad_at(f, x,
create_graph)` for the gradient of a function at a point (what a nested solver calls), and
`value` to bring a result back as a numpy array. Imports are lazy so the module loads
without torch.
"""

import numpy as np


class DezeroEngine:
    name = "dezero"

    def __init__(self):
        import dezero
        import dezero.functions as F

        self._dezero, self._F = dezero, F
        for op in ("exp", "log", "sqrt", "sigmoid", "tanh", "matmul", "reshape"):
            setattr(self, op, getattr(F, op))

    def leaf(self, a):
        return self._dezero.Variable(np.array(a, dtype=np.float64))

    def const(self, a):
        return np.asarray(a)

    def value(self, v):
        return v.data if isinstance(v, self._dezero.Variable) else np.asarray(v)

    def sum(self, x, axis=None):
        return self._F.sum(x, axis=axis)

    def min(self, x, axis):
        return self._F.min(x, axis=axis)

    def max(self, x):
        return self._F.max(x)

    def logsumexp(self, x, axis):
        return self._F.logsumexp(x, axis=axis)

    def concatenate(self, seq, axis=0):
        return self._F.concatenate(seq, axis=axis)

    def grad(self, y, xs, create_graph=False):
        return self._dezero.grad(y, xs, create_graph=create_graph)

    def grad_at(self, f, x, create_graph):
        x = x if isinstance(x, self._dezero.Variable) else self._dezero.Variable(x)
        return self._dezero.grad(f(x), x, create_graph=create_graph)[0]


class TorchEngine:
    name = "torch"

    def __init__(self):
        import torch

        self._torch = torch
        for op in ("exp", "log", "sqrt", "sigmoid", "tanh", "matmul", "reshape"):
            setattr(self, op, getattr(torch, op))

    def leaf(self, a):
        return self._torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)

    def const(self, a):
        return self._torch.from_numpy(np.asarray(a))

    def value(self, v):
        return v.detach().numpy()

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

    def grad(self, y, xs, create_graph=False):
        return self._torch.autograd.grad(y, xs, create_graph=create_graph)

    def grad_at(self, f, x, create_graph):
        # torch differentiates only tensors that require grad: a constant point becomes a
        # fresh leaf (it depends on nothing, so no outer gradient is lost).
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        return self._torch.autograd.grad(f(x), x, create_graph=create_graph)[0]


ENGINES = {"dezero": DezeroEngine, "torch": TorchEngine}
