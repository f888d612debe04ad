"""Fuzz programs in each backend: the op namespace it is run through, and one runner.

A runner takes a program, the input arrays (float64) and optionally a direction v (one
array per input), and returns `(value, grads, hvp)`, numpy arrays; `hvp` is H v, the
second-order check, or None where the backend has no second derivatives here (`numpy`).
It is asked for H v where the adapter declares `second_order`. An engine from outside the
registry offers its runner through `Backend.fuzz_runner()` (`runner`).

The namespaces spell each fuzzed op the way a user of that framework would: the chain
registry's spellings for the elementwise ops (`bench.backends.base.namespace`), each
framework's own function for the structural ones (`torch.amax`, `jax.nn.log_softmax`...).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from bench.backends.torch_eager import pin_threads
from bench.workloads.op_vjps_numpy import mask_of
from validation.fuzz.programs import evaluate

ELEMENTWISE = ("neg", "sin", "cos", "tanh", "sigmoid", "exp", "square", "log", "add", "mul")


def _registry(key: str) -> dict:
    from bench.backends.base import namespace

    ns = namespace(key)
    return {name: getattr(ns, name) for name in (*ELEMENTWISE, "matmul")}


def dezero_ops() -> SimpleNamespace:
    import dezero.functions as F

    return SimpleNamespace(
        **_registry("dezero"),
        sub=F.sub,
        div=F.div,
        relu=F.relu,
        clip=lambda x, lo, hi: F.clip(x, lo, hi),
        sum=lambda x, axis=None, keepdims=False: F.sum(x, axis, keepdims),
        max=lambda x, axis=None, keepdims=False: F.max(x, axis, keepdims),
        reshape=lambda x, shape: F.reshape(x, tuple(shape)),
        transpose=lambda x, axes: F.transpose(x, tuple(axes)),
        get_item=lambda x, index: F.get_item(x, np.asarray(index)),
        softmax=lambda x, axis: F.softmax(x, axis),
        log_softmax=lambda x, axis: F.log_softmax(x, axis),
        abs=F.abs,
        sqrt=F.sqrt,
        maximum=F.maximum,
        minimum=F.minimum,
        where=lambda a, b, mask: F.where(mask_of(a, b, mask), a, b),
        logsumexp=lambda x, axis=None, keepdims=False: F.logsumexp(x, axis, keepdims),
        concatenate=lambda *xs, axis: F.concatenate(xs, axis),
        stack=lambda *xs, axis: F.stack(xs, axis),
        einsum=lambda *xs, spec: F.einsum(spec, *xs),
        tril=lambda x, k: F.tril(x, k),
        triu=lambda x, k: F.triu(x, k),
    )


def torch_ops() -> SimpleNamespace:
    import torch

    def reduce(fn):
        def call(x, axis=None, keepdims=False):
            return fn(x) if axis is None and not keepdims else fn(x, dim=axis, keepdim=keepdims)

        return call

    def logsumexp(x, axis=None, keepdims=False):
        if axis is not None:
            return torch.logsumexp(x, dim=axis, keepdim=keepdims)
        y = torch.logsumexp(x.reshape(-1), 0)  # torch reduces over named dims only
        return y.reshape((1,) * x.ndim) if keepdims else y

    def full_amax(x, dim=None, keepdim=False):
        dims = tuple(range(x.ndim)) if dim is None else dim
        return torch.amax(x, dim=dims, keepdim=keepdim)

    return SimpleNamespace(
        **_registry("torch"),
        sub=torch.sub,
        div=torch.div,
        relu=torch.relu,
        clip=lambda x, lo, hi: torch.clamp(x, lo, hi),
        sum=reduce(torch.sum),
        max=lambda x, axis=None, keepdims=False: full_amax(x, axis, keepdims),
        reshape=lambda x, shape: torch.reshape(x, tuple(shape)),
        transpose=lambda x, axes: torch.permute(x, tuple(axes)),
        get_item=lambda x, index: x[torch.as_tensor(index)],
        softmax=lambda x, axis: torch.softmax(x, dim=axis),
        log_softmax=lambda x, axis: torch.log_softmax(x, dim=axis),
        abs=torch.abs,
        sqrt=torch.sqrt,
        maximum=torch.maximum,
        minimum=torch.minimum,
        where=lambda a, b, mask: torch.where(torch.as_tensor(mask_of(a, b, mask)), a, b),
        logsumexp=logsumexp,
        concatenate=lambda *xs, axis: torch.cat(xs, dim=axis),
        stack=lambda *xs, axis: torch.stack(xs, dim=axis),
        einsum=lambda *xs, spec: torch.einsum(spec, *xs),
        tril=lambda x, k: torch.tril(x, k),
        triu=lambda x, k: torch.triu(x, k),
    )


def _numpy_like(key: str, xp, softmax, log_softmax, relu, logsumexp) -> SimpleNamespace:
    return SimpleNamespace(
        **_registry(key),
        sub=xp.subtract,
        div=xp.divide,
        relu=relu,
        clip=lambda x, lo, hi: xp.clip(x, lo, hi),
        sum=lambda x, axis=None, keepdims=False: xp.sum(x, axis=axis, keepdims=keepdims),
        max=lambda x, axis=None, keepdims=False: xp.max(x, axis=axis, keepdims=keepdims),
        reshape=lambda x, shape: xp.reshape(x, tuple(shape)),
        transpose=lambda x, axes: xp.transpose(x, tuple(axes)),
        get_item=lambda x, index: x[np.asarray(index)],
        softmax=softmax,
        log_softmax=log_softmax,
        abs=xp.abs,
        sqrt=xp.sqrt,
        maximum=xp.maximum,
        minimum=xp.minimum,
        where=lambda a, b, mask: xp.where(mask_of(a, b, mask), a, b),
        logsumexp=lambda x, axis=None, keepdims=False: logsumexp(x, axis=axis, keepdims=keepdims),
        concatenate=lambda *xs, axis: xp.concatenate(xs, axis=axis),
        stack=lambda *xs, axis: xp.stack(xs, axis=axis),
        einsum=lambda *xs, spec: xp.einsum(spec, *xs),
        tril=lambda x, k: xp.tril(x, k),
        triu=lambda x, k: xp.triu(x, k),
    )


def jax_ops() -> SimpleNamespace:
    from bench.backends.jax_common import jax_modules

    jax, jnp = jax_modules()
    from jax.scipy.special import logsumexp as jax_logsumexp

    return _numpy_like(
        "jax",
        jnp,
        lambda x, axis: jax.nn.softmax(x, axis=axis),
        lambda x, axis: jax.nn.log_softmax(x, axis=axis),
        jax.nn.relu,
        jax_logsumexp,
    )


def autograd_ops() -> SimpleNamespace:
    from validation.fuzz.spellings import namespace

    # autograd has no softmax: the table writes it as its users do (shifted by the max)
    return namespace("autograd")


def _dot(ns, grads, direction):
    total = None
    for g, v in zip(grads, direction, strict=True):
        term = ns.sum(ns.mul(g, v))
        total = term if total is None else ns.add(total, term)
    return total


def run_dezero(program, arrays, direction=None):
    from dezero import Variable

    ns = dezero_ops()
    leaves = [Variable(a.copy()) for a in arrays]
    out = evaluate(program, ns, leaves)
    out.backward(create_graph=direction is not None)
    grads = [leaf.grad for leaf in leaves]
    hvp = None
    if direction is not None:
        for leaf in leaves:
            leaf.cleargrad()
        _dot(ns, grads, [Variable(v) for v in direction]).backward()
        hvp = [
            np.zeros_like(a) if leaf.grad is None else leaf.grad.data
            for a, leaf in zip(arrays, leaves)
        ]
    return out.data, [g.data for g in grads], hvp


def run_torch(program, arrays, direction=None):
    import torch

    pin_threads()
    ns = torch_ops()
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = evaluate(program, ns, leaves)
    grads = torch.autograd.grad(out, leaves, create_graph=direction is not None)
    hvp = None
    if direction is not None:
        dot = _dot(ns, grads, [torch.as_tensor(v) for v in direction])
        # a linear program's gradient is constant: torch then has no graph to differentiate
        hvp = torch.autograd.grad(dot, leaves, allow_unused=True) if dot.requires_grad else ()
        hvp = hvp or [None] * len(arrays)
        # NOTE: force=True: torch hands back a ZeroTensor for some second derivatives
        # (abs: d/dx of sign(x) * g), which .numpy() refuses; its value is right, so it is
        # read, not reported
        hvp = [np.zeros_like(a) if h is None else h.numpy(force=True) for a, h in zip(arrays, hvp)]
    return out.detach().numpy(), [g.detach().numpy() for g in grads], hvp


def run_jax(program, arrays, direction=None):
    from bench.backends.jax_common import jax_modules

    jax, jnp = jax_modules()
    ns = jax_ops()

    def objective(xs):
        return evaluate(program, ns, xs)

    xs = [jnp.asarray(a) for a in arrays]
    value, grads = jax.value_and_grad(objective)(xs)
    hvp = None
    if direction is not None:
        _, hvp = jax.jvp(jax.grad(objective), (xs,), ([jnp.asarray(v) for v in direction],))
        hvp = [np.asarray(h) for h in hvp]
    return np.asarray(value), [np.asarray(g) for g in grads], hvp


def run_autograd(program, arrays, direction=None):
    import autograd

    ns = autograd_ops()

    def objective(xs):
        return evaluate(program, ns, list(xs))

    value, grads = autograd.value_and_grad(objective)(tuple(arrays))
    hvp = None
    if direction is not None:
        hvp = autograd.grad(lambda xs: _dot(ns, autograd.grad(objective)(xs), direction))(
            tuple(arrays)
        )
        hvp = [np.asarray(h) for h in hvp]
    return np.asarray(value), [np.asarray(g) for g in grads], hvp


def run_numpy(program, arrays, direction=None):
    from validation.fuzz.reference import tape_value_and_grads

    value, grads = tape_value_and_grads(program, [np.asarray(a) for a in arrays])
    return np.asarray(value), grads, None


RUNNERS = {
    "dezero": run_dezero,
    "numpy": run_numpy,
    "torch": run_torch,
    "jax": run_jax,
    "autograd": run_autograd,
}
