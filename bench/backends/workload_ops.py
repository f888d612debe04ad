"""The op namespaces GradBench's evaluations run on, one per engine.

An evaluation (bench.workloads.gradbench) is a function of `ops`; bench.workloads.gradbench.
workload says what it may ask. Each class here gives that math under numpy's spellings and
the functional derivatives (`value_and_grad`, `grad_at`) in its engine's own terms: dezero
and torch by recording and sweeping a graph, jax and autograd by transforming the function.
Imports are lazy, so the module loads without torch, jax or autograd.
"""

import time

import numpy as np

import dezero
import dezero.functions as F

_SHARED = ("exp", "log", "sqrt", "sin", "cos", "tanh", "matmul", "reshape")


def loop_scan(step, carry, xs):
    """`carry = step(carry, rows)` for each row of the arrays xs, in a Python loop."""
    for rows in zip(*xs):
        carry = step(carry, rows)
    return carry


class DezeroOps:
    """Eager dezero: a graph per call, `dezero.grad` for the gradients."""

    scan = staticmethod(loop_scan)

    def __init__(self):
        for op in (*_SHARED, "sigmoid"):
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
    tape. `restart()` begins a run; `trace_seconds` adds up the tracing, like a compile.
    """

    def __init__(self):
        super().__init__()
        self.tapes, self.calls, self.trace_seconds = [], 0, 0.0

    def restart(self):
        self.calls = 0

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


class TorchOps:
    """Eager PyTorch: `torch.autograd.grad`, nothing accumulated into `.grad`."""

    scan = staticmethod(loop_scan)

    def __init__(self):
        import torch  # optional and slow to import

        self._torch = torch
        for op in (*_SHARED, "sigmoid"):
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


class JaxOps:
    """JAX: `jax.vjp` and `jax.grad` of the function, eager or (`jit=True`) under a trace,
    where `value` must leave arrays as they are; the caller converts after the call."""

    def __init__(self, jit=False):
        from bench.backends.jax_common import jax_modules

        self._jax, jnp = jax_modules()
        self._jnp, self.jit = jnp, jit
        for op in _SHARED:
            setattr(self, op, getattr(jnp, op))
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

    def sum(self, x, axis=None):
        return self._jnp.sum(x, axis=axis)

    def min(self, x, axis):
        return self._jnp.min(x, axis=axis)

    def max(self, x):
        return self._jnp.max(x)

    def logsumexp(self, x, axis):
        from jax.scipy.special import logsumexp

        return logsumexp(x, axis=axis)

    def concatenate(self, seq, axis=0):
        return self._jnp.concatenate(seq, axis=axis)

    def stack(self, seq, axis=0):
        return self._jnp.stack(seq, axis=axis)

    def transpose(self, x, axes):
        return self._jnp.transpose(x, axes)

    def value_and_grad(self, f, params):
        y, pull_back = self._jax.vjp(f, *params)
        return y, list(pull_back(self._jnp.ones_like(y)))

    def grad_at(self, f, x, create_graph):
        return self._jax.grad(f)(x)

    def jacfwd(self, f, x):
        return self._jax.jacfwd(f)(x)


class AutogradOps:
    """HIPS autograd: `make_vjp` and `grad` of the function, on numpy arrays."""

    scan = staticmethod(loop_scan)

    def __init__(self):
        import autograd
        import autograd.numpy as anp

        self._autograd, self._anp = autograd, anp
        for op in _SHARED:
            setattr(self, op, getattr(anp, op))

    def sigmoid(self, x):
        return 0.5 * (self._anp.tanh(0.5 * x) + 1)  # autograd.numpy has no sigmoid

    def const(self, a):
        return np.asarray(a)

    def value(self, v):
        return np.asarray(v)

    def less(self, a, b):
        from autograd.tracer import getval

        return bool(getval(a) < getval(b))

    def sum(self, x, axis=None):
        return self._anp.sum(x, axis=axis)

    def min(self, x, axis):
        return self._anp.min(x, axis=axis)

    def max(self, x):
        return self._anp.max(x)

    def logsumexp(self, x, axis):
        from autograd.scipy.special import logsumexp

        return logsumexp(x, axis=axis)

    def concatenate(self, seq, axis=0):
        return self._anp.concatenate(seq, axis=axis)

    def stack(self, seq, axis=0):
        return self._anp.stack(seq, axis=axis)

    def transpose(self, x, axes):
        return self._anp.transpose(x, axes)

    def value_and_grad(self, f, params):
        pull_back, y = self._autograd.make_vjp(lambda xs: f(*xs))(tuple(params))
        return y, list(pull_back(self._anp.ones_like(y)))

    def grad_at(self, f, x, create_graph):
        return self._autograd.grad(f)(x)

    def jacfwd(self, f, x):
        jvp = self._autograd.make_jvp(f)(x)  # reverse over reverse, one pass a column
        unit = np.eye(np.size(x))
        return self._anp.stack([jvp(unit[j])[1] for j in range(len(unit))], axis=-1)


def workload_ops(backend_name: str):
    """A fresh op namespace for one of WORKLOAD_BACKENDS' names."""
    makers = {
        "dezero": DezeroOps,
        "dezero_replay": DezeroReplayOps,
        "torch": TorchOps,
        "jax": JaxOps,
        "jax_jit": lambda: JaxOps(jit=True),
        "autograd": AutogradOps,
    }
    if backend_name not in makers:
        raise ValueError(
            f"no workload op namespace for backend {backend_name!r}; known: {', '.join(makers)}"
        )
    return makers[backend_name]()
