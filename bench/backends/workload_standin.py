"""A stand-in for the workload runner, so validation's workload accuracy runs before it lands.

It offers the runner's interface (`WORKLOAD_BACKENDS`, `unsupported`, `prepare_workload`)
for dezero and torch, with the two op namespaces of bench.experiments.gradbench_engines
restated here (a lower layer may not import that one). Delete this module when the runner
lands, and import those three names from it in `validation.workload_accuracy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.workloads.gradbench import WORKLOADS

WORKLOAD_BACKENDS = ("dezero", "dezero_replay", "torch", "jax", "jax_jit", "autograd")
MATH = ("exp", "log", "sqrt", "sigmoid", "tanh", "matmul", "reshape")


class _Dezero:
    def __init__(self):
        import dezero
        import dezero.functions as F

        self._dezero, self._F = dezero, F
        for op in MATH:
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


class _Torch:
    def __init__(self):
        import torch

        self._torch = torch
        for op in MATH:
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
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        return self._torch.autograd.grad(f(x), x, create_graph=create_graph)[0]


NAMESPACES = {"dezero": _Dezero, "torch": _Torch}


def unsupported(backend: str, name: str) -> str | None:
    """Why `backend` cannot run evaluation `name` here, or None."""
    if name not in WORKLOADS:
        raise KeyError(f"unknown evaluation {name!r}; expected one of {sorted(WORKLOADS)}")
    if backend not in WORKLOAD_BACKENDS:
        raise KeyError(f"unknown backend {backend!r}; expected one of {WORKLOAD_BACKENDS}")
    if backend not in NAMESPACES:
        return f"the stand-in runner has no {backend} namespace (the workload runner will)"
    return None


@dataclass
class PreparedWorkload:
    call: object
    compile_seconds: float | None = None


def prepare_workload(backend: str, name: str, size: dict, dtype=np.float64) -> PreparedWorkload:
    """One evaluation at one size, ready to run in `backend`: `call()` -> numpy outputs."""
    reason = unsupported(backend, name)
    if reason is not None:
        raise ValueError(f"{backend} cannot run {name}: {reason}")
    workload = WORKLOADS[name]
    params, consts = workload.inputs(size)
    params = [np.asarray(p, dtype=dtype) for p in params]
    ops = NAMESPACES[backend]()

    def call():
        return [np.asarray(o) for o in workload.run(ops, params, consts)]

    return PreparedWorkload(call)
