"""tinygrad's op namespace for GradBench's evaluations: lazy tensors, realised when read.

Without clang tinygrad runs on its PYTHON emulator (`bench.backends.tinygrad_engine`), where
every kernel is interpreted: right for accuracy, and its timings are not comparable. Each
value the Python side reads (`less`, `value`) realises the graph built so far, so a solver
that tests a value every step compiles and interprets kernels every step.
"""

from __future__ import annotations

import numpy as np

from bench.backends.tinygrad_engine import (
    EMULATOR,
    settings,
    tinygrad_device,
    tinygrad_leaf,
    tinygrad_numpy,
)
from bench.backends.workload_ops import WorkloadOps

# tinygrad's Tensor refuses numpy index arrays ("ndarray indexing is not supported"); an
# evaluation's index constants become tinygrad tensors at prepare time, but these two index
# with numpy arrays of their own modules, which a tinygrad user would write as tensors
NUMPY_INDEXED = {
    "ba": "ba's cross product indexes columns with module-level numpy arrays (NEXT, LAST)",
    "ht": "ht's pose gathers with a module-level numpy array (POSE_INDEX)",
}
# at the quick size on the PYTHON emulator, each of the solvers' value tests realises and
# interprets kernels: saddle's 3,650 tests took 214 s on the shared 2-core machine, and
# particle's 3,922 (each under an Euler loop's gradients: 6x saddle's time in dezero) more
EMULATOR_TOO_SLOW = {
    "saddle": "on tinygrad's PYTHON emulator each of the solvers' 3,650 value tests realises "
    "and interprets kernels: about 3.5 min a call at the quick size (measured)",
    "particle": "on tinygrad's PYTHON emulator each of the solvers' 3,922 value tests realises "
    "and interprets kernels: est. 15-20 min a call at the quick size (saddle's 3.5 min x 6)",
}


class TinygradOps(WorkloadOps):
    """tinygrad tensors, float64: `Tensor.gradient` (a graph of its own, so a gradient of a
    gradient works); tinygrad has no forward mode, so the forward Jacobian's columns are
    reverse over reverse. Every call runs in tinygrad's context for the device here."""

    def __init__(self):
        from tinygrad import Tensor  # optional

        self._tensor = Tensor
        for op in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "matmul"):
            setattr(self, op, getattr(Tensor, op))

    @classmethod
    def unsupported(cls, workload):
        if workload.name in NUMPY_INDEXED:
            return f"tinygrad takes no numpy index arrays, and {NUMPY_INDEXED[workload.name]}"
        if tinygrad_device() == EMULATOR and workload.name in EMULATOR_TOO_SLOW:
            return EMULATOR_TOO_SLOW[workload.name]
        return None

    def inputs(self, params, consts):
        """Params, and every array of the constants (index arrays too, in nested lists and
        tuples), as tinygrad tensors realised once."""

        def convert(c):
            if isinstance(c, np.ndarray):
                return tinygrad_leaf(c).realize()
            if isinstance(c, (list, tuple)):
                return type(c)(convert(item) for item in c)
            return c

        with self._context():
            return [convert(p) for p in params], {k: convert(c) for k, c in consts.items()}

    def run(self, workload, params, consts, prepared):
        with self._context():
            return workload.run(self, params, consts)

    def const(self, a):
        return a if isinstance(a, self._tensor) else tinygrad_leaf(np.asarray(a))

    def value(self, v):
        if not isinstance(v, self._tensor):
            return np.asarray(v)
        with self._context():  # reading realises: on the device here, however it is called
            return tinygrad_numpy(v)

    def _context(self):
        from tinygrad.helpers import Context

        return Context(**settings())

    def less(self, a, b):
        with self._context():
            return bool(self.value(self.const(a) < b))

    def reshape(self, x, shape):
        return x.reshape(tuple(shape))

    def sum(self, x, axis=None):
        return x.sum(axis=axis)

    def min(self, x, axis):
        return x.min(axis=axis)

    def max(self, x):
        return x.max()

    def logsumexp(self, x, axis):
        return x.logsumexp(axis=axis)

    def concatenate(self, seq, axis=0):
        return seq[0].cat(*seq[1:], dim=axis)

    def stack(self, seq, axis=0):
        return self._tensor.stack(*seq, dim=axis)

    def transpose(self, x, axes):
        return x.permute(tuple(axes))

    def value_and_grad(self, f, params):
        with self._context():  # building a gradient may make constants: on the device here
            y = f(*params)
            grads = y.sum().gradient(*params)
            self._tensor.realize(y, *grads)
        return y, list(grads)

    def grad_at(self, f, x, create_graph):
        with self._context():
            return f(x).sum().gradient(x)[0]

    def jacfwd(self, f, x):
        with self._context():
            y = f(x)
            # J e_j is the gradient in u of (J^T u) . e_j, with J^T u a vjp on the graph; u
            # is a buffer, not a constant tinygrad would fold away
            u = tinygrad_leaf(np.zeros(tuple(y.shape)))
            (vjp,) = (y * u).sum().gradient(x)
            columns = [vjp[j].gradient(u)[0] for j in range(int(np.prod(x.shape)))]
            return self._tensor.stack(*columns, dim=len(y.shape))
