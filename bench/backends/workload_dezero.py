"""dezero's op namespaces for GradBench's evaluations: eager, and traced once then replayed."""

from __future__ import annotations

import time

import numpy as np

import dezero
import dezero.functions as F
from bench.backends.workload_ops import SHARED, WorkloadOps


class DezeroOps(WorkloadOps):
    """Eager dezero: a graph per call, `dezero.grad` for the gradients."""

    def __init__(self):
        for op in (*SHARED, "sigmoid"):
            setattr(self, op, getattr(F, op))

    def leaf(self, a):
        """A differentiable input (recording the objective without its backward)."""
        return dezero.Variable(np.array(a, dtype=np.float64))

    def const(self, a):
        return np.asarray(a)

    def value(self, v):
        return v.data if isinstance(v, dezero.Variable) else np.asarray(v)

    def less(self, a, b):
        return bool(self.value(a) < self.value(b))

    def sum(self, x, axis=None):
        return F.sum(x, axis=axis)

    def min(self, x, axis):
        return F.min(x, axis=axis)

    def max(self, x):
        return F.max(x)

    def logsumexp(self, x, axis):
        return F.logsumexp(x, axis=axis)

    def concatenate(self, seq, axis=0):
        return F.concatenate(seq, axis=axis)

    def stack(self, seq, axis=0):
        return F.stack(seq, axis=axis)

    def transpose(self, x, axes):
        return F.transpose(x, axes)

    def value_and_grad(self, f, params):
        leaves = [dezero.Variable(p) for p in params]
        y = f(*leaves)
        grads = dezero.grad(y, leaves, allow_unused=True)
        return y, [np.zeros_like(p) if g is None else g for p, g in zip(params, grads)]

    def grad_at(self, f, x, create_graph):
        x = x if isinstance(x, dezero.Variable) else dezero.Variable(x)
        return dezero.grad(f(x), x, create_graph=create_graph)[0]

    def jacfwd(self, f, x):
        unit = np.eye(np.size(x))
        columns = [dezero.jvp(f, (x,), (unit[j],))[1] for j in range(len(unit))]
        return F.stack(columns, axis=columns[0].ndim)


class DezeroReplayOps(DezeroOps):
    """dezero with each `value_and_grad` traced once (`dezero.trace`) and replayed after.

    A run's derivative calls come in the same order every time when its control flow is
    fixed (what `Workload.data_loop` rules out), so the k-th call of a run replays the k-th
    tape. `run` begins a run; `trace_seconds` adds up the tracing, like a compile.
    """

    def __init__(self):
        super().__init__()
        self.tapes, self.calls, self.trace_seconds = [], 0, 0.0

    @classmethod
    def unsupported(cls, workload):
        if workload.data_loop:
            return f"dezero.trace freezes Python control flow, and {workload.data_loop}"
        if workload.nested:
            return f"dezero.trace replays first derivatives only, and {workload.nested}"
        return None

    def run(self, workload, params, consts, prepared):
        self.calls = 0
        outputs = workload.run(self, params, consts)
        if prepared.compile_seconds is None:
            prepared.compile_seconds = self.trace_seconds
        return outputs

    def value_and_grad(self, f, params):
        if self.calls == len(self.tapes):
            start = time.perf_counter()
            self.tapes.append(dezero.trace(f, *params))
            self.trace_seconds += time.perf_counter() - start
        tape = self.tapes[self.calls]
        self.calls += 1
        value, grads = tape.value_and_grad(*params)
        return value, list(grads)

    def grad_at(self, f, x, create_graph):
        raise NotImplementedError("dezero.trace replays first derivatives only")
