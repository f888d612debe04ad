"""STAND-IN for the workload runner's interface; delete at merge (import the real one instead).

The timing suite, the `workloads` command and the report code against this interface:
`WORKLOADS[name]` with `inputs`, `run`, `sizes`, `default`, `quick` and `size_label(size)`;
`WORKLOAD_BACKENDS`; `unsupported(backend, name) -> str | None`; and
`prepare_workload(backend, name, size, dtype) -> obj` with `.call() -> list[np.ndarray]` and
`.compile_seconds`. Until the real runner lands this wraps the nine evaluations of
`bench.workloads.gradbench` and the two op namespaces (dezero, torch) of
`bench.experiments.gradbench_engines` (copied below: the backends layer may not import
bench.experiments); every other backend answers with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.workloads import gradbench

WORKLOAD_BACKENDS = ("dezero", "dezero_replay", "torch", "jax", "jax_jit", "autograd")
_ENGINES = ("dezero", "torch")


@dataclass(frozen=True)
class _Workload:
    """A registry entry with the grids and size label the interface promises."""

    name: str
    inputs: object
    run: object
    sizes: tuple
    default: tuple
    quick: tuple

    @staticmethod
    def size_label(size: dict) -> str:
        return ",".join(f"{key}={value}" for key, value in size.items())


WORKLOADS = {
    name: _Workload(w.name, w.inputs, w.run, w.sizes, w.quick, w.quick)
    for name, w in gradbench.WORKLOADS.items()
}


def unsupported(backend: str, name: str) -> str | None:
    """Why `backend` cannot run evaluation `name`, or None when it can."""
    if name not in WORKLOADS:
        raise KeyError(f"unknown evaluation {name!r}; expected one of {', '.join(WORKLOADS)}")
    if backend not in WORKLOAD_BACKENDS:
        raise KeyError(
            f"unknown backend {backend!r}; expected one of {', '.join(WORKLOAD_BACKENDS)}"
        )
    if backend not in _ENGINES:
        return f"{backend} has no workload namespace in this stand-in"
    return None


@dataclass
class _Prepared:
    engine: object
    workload: _Workload
    params: list
    consts: dict
    compile_seconds: float | None = None

    def call(self) -> list[np.ndarray]:
        return self.workload.run(self.engine, self.params, self.consts)


def prepare_workload(backend: str, name: str, size: dict, dtype=np.float64) -> _Prepared:
    """Inputs of `name` at `size`, ready for repeated `.call()`s in `backend`."""
    why = unsupported(backend, name)
    if why:
        raise ValueError(why)
    params, consts = WORKLOADS[name].inputs(size)
    params = [np.asarray(p, dtype=dtype) for p in params]
    return _Prepared(ENGINES[backend](), WORKLOADS[name], params, consts)


# ---- copied from bench.experiments.gradbench_engines for the stand-in only
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
