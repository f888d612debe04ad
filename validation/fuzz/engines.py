"""Fuzz programs in the engines written elsewhere: TensorFlow, PaddlePaddle, mygrad, tinygrad.

Each namespace spells the fuzzed ops as that engine's users do (`tf.gather`, `paddle.amax`,
`Tensor.permute`...), from the one table of `validation.fuzz.spellings`; each runner has
the signature of `validation.fuzz.backends`' runners:
`(program, arrays, direction=None) -> (value, grads, hvp)`, numpy float64 arrays, `hvp`
None where the engine has no second derivatives (mygrad). An input the objective does not
reach gets a zero gradient, as in the other runners.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from validation.fuzz.backends import _dot
from validation.fuzz.programs import evaluate
from validation.fuzz.spellings import namespace


def tensorflow_ops() -> SimpleNamespace:
    return namespace("tensorflow")


def paddle_ops() -> SimpleNamespace:
    return namespace("paddle")


def mygrad_ops() -> SimpleNamespace:
    return namespace("mygrad")


def tinygrad_ops() -> SimpleNamespace:
    return namespace("tinygrad")


def _zeros_for_none(arrays, grads) -> list[np.ndarray]:
    return [np.zeros_like(a) if g is None else np.asarray(g) for a, g in zip(arrays, grads)]


def _tf_numpy(tf, grads) -> list:
    # a gather's gradient is an IndexedSlices (a sparse update), made dense to be compared
    return [None if g is None else tf.convert_to_tensor(g).numpy() for g in grads]


def run_tensorflow(program, arrays, direction=None):
    import tensorflow as tf

    ns = tensorflow_ops()
    leaves = [tf.constant(a) for a in arrays]
    with tf.GradientTape(watch_accessed_variables=False) as outer:
        outer.watch(leaves)
        with tf.GradientTape(watch_accessed_variables=False) as inner:
            inner.watch(leaves)
            out = evaluate(program, ns, leaves)
        grads = inner.gradient(out, leaves)
        reached = [g for g in grads if g is not None]
        if direction is not None and reached:
            pairs = [
                (tf.convert_to_tensor(g), v) for g, v in zip(grads, direction) if g is not None
            ]
            dot = _dot(ns, [g for g, _ in pairs], [tf.constant(v) for _, v in pairs])
    hvp = None
    if direction is not None:
        hvp = outer.gradient(dot, leaves) if reached else [None] * len(arrays)
        hvp = _zeros_for_none(arrays, _tf_numpy(tf, hvp))
    return out.numpy(), _zeros_for_none(arrays, _tf_numpy(tf, grads)), hvp


def run_paddle(program, arrays, direction=None):
    import paddle

    ns = paddle_ops()
    leaves = [paddle.to_tensor(a, stop_gradient=False) for a in arrays]
    out = evaluate(program, ns, leaves)
    second = direction is not None
    grads = paddle.grad([out], leaves, create_graph=second, allow_unused=True)
    hvp = None
    if second:
        pairs = [(g, v) for g, v in zip(grads, direction) if g is not None]
        dot = _dot(ns, [g for g, _ in pairs], [paddle.to_tensor(v) for _, v in pairs])
        # a linear program's gradient is constant: then there is no graph to differentiate
        hvp = [None] * len(arrays)
        if dot is not None and not dot.stop_gradient:
            hvp = paddle.grad([dot], leaves, allow_unused=True)
        hvp = _zeros_for_none(arrays, [None if h is None else h.numpy() for h in hvp])
    grads = _zeros_for_none(arrays, [None if g is None else g.numpy() for g in grads])
    return out.numpy(), grads, hvp


def run_mygrad(program, arrays, direction=None):
    import mygrad as mg

    ns = mygrad_ops()
    leaves = [mg.tensor(a) for a in arrays]
    out = evaluate(program, ns, leaves)
    out.backward()
    return np.asarray(out.data), _zeros_for_none(arrays, [t.grad for t in leaves]), None


def run_tinygrad(program, arrays, direction=None):
    from tinygrad import Tensor
    from tinygrad.helpers import Context

    from bench.backends.tinygrad_engine import settings, tinygrad_leaf, tinygrad_numpy

    ns = tinygrad_ops()
    with Context(**settings()):
        leaves = [tinygrad_leaf(a) for a in arrays]
        out = evaluate(program, ns, leaves)
        grads = out.gradient(*leaves)
        hvp = None
        if direction is not None:
            dot = _dot(ns, grads, [tinygrad_leaf(v) for v in direction])
            hvp = dot.gradient(*leaves)
        Tensor.realize(out, *grads, *(hvp or ()))
        if hvp is not None:
            hvp = [tinygrad_numpy(h) for h in hvp]
        return tinygrad_numpy(out), [tinygrad_numpy(g) for g in grads], hvp


RUNNERS = {
    "mygrad": run_mygrad,
    "paddle": run_paddle,
    "tensorflow": run_tensorflow,
    "tinygrad": run_tinygrad,
}
