"""Fuzz programs in the engines written elsewhere: TensorFlow, PaddlePaddle, mygrad, tinygrad.

Each namespace spells the fuzzed ops as that engine's users do (`tf.gather`, `paddle.amax`,
`Tensor.permute`...); each runner has the signature of `validation.fuzz.backends`' runners:
`(program, arrays, direction=None) -> (value, grads, hvp)`, numpy float64 arrays, `hvp`
None where the engine has no second derivatives (mygrad). An input the objective does not
reach gets a zero gradient, as in the other runners.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from bench.backends.workload_mygrad import shifted_logsumexp
from bench.workloads.op_vjps_numpy import mask_of
from validation.fuzz.backends import _dot, _registry
from validation.fuzz.programs import evaluate


def tensorflow_ops() -> SimpleNamespace:
    import tensorflow as tf

    return SimpleNamespace(
        **(
            _registry("tensorflow")
            # tf.linalg.matmul takes rank >= 2 only (documented); its numpy API takes 1-D too
            | {"matmul": tf.experimental.numpy.matmul}
        ),
        sub=tf.math.subtract,
        div=tf.math.divide,
        relu=tf.nn.relu,
        clip=lambda x, lo, hi: tf.clip_by_value(x, lo, hi),
        sum=lambda x, axis=None, keepdims=False: tf.reduce_sum(x, axis=axis, keepdims=keepdims),
        max=lambda x, axis=None, keepdims=False: tf.reduce_max(x, axis=axis, keepdims=keepdims),
        reshape=lambda x, shape: tf.reshape(x, tuple(shape)),
        transpose=lambda x, axes: tf.transpose(x, perm=tuple(axes)),
        get_item=lambda x, index: tf.gather(x, index, axis=0),
        softmax=lambda x, axis: tf.nn.softmax(x, axis=axis),
        log_softmax=lambda x, axis: tf.nn.log_softmax(x, axis=axis),
        abs=tf.abs,
        sqrt=tf.sqrt,
        maximum=tf.maximum,
        minimum=tf.minimum,
        where=lambda a, b, mask: tf.where(mask_of(a, b, mask), a, b),
        logsumexp=lambda x, axis=None, keepdims=False: tf.reduce_logsumexp(
            x, axis=axis, keepdims=keepdims
        ),
        concatenate=lambda *xs, axis: tf.concat(xs, axis=axis),
        stack=lambda *xs, axis: tf.stack(xs, axis=axis),
        einsum=lambda *xs, spec: tf.einsum(spec, *xs),
        **_masked_triangles(),  # TensorFlow has no tril/triu with an offset k
    )


def paddle_ops() -> SimpleNamespace:
    import paddle
    import paddle.nn.functional as F

    return SimpleNamespace(
        **_registry("paddle"),
        abs=paddle.abs,
        sqrt=paddle.sqrt,
        maximum=paddle.maximum,
        minimum=paddle.minimum,
        where=lambda a, b, mask: paddle.where(paddle.to_tensor(mask_of(a, b, mask)), a, b),
        logsumexp=lambda x, axis=None, keepdims=False: paddle.logsumexp(
            x, axis=axis, keepdim=keepdims
        ),
        concatenate=lambda *xs, axis: paddle.concat(list(xs), axis=axis),
        stack=lambda *xs, axis: paddle.stack(list(xs), axis=axis),
        einsum=lambda *xs, spec: paddle.einsum(spec, *xs),
        tril=lambda x, k: paddle.tril(x, k),
        triu=lambda x, k: paddle.triu(x, k),
        sub=paddle.subtract,
        div=paddle.divide,
        relu=F.relu,
        clip=lambda x, lo, hi: paddle.clip(x, lo, hi),
        sum=lambda x, axis=None, keepdims=False: paddle.sum(x, axis=axis, keepdim=keepdims),
        max=lambda x, axis=None, keepdims=False: paddle.amax(x, axis=axis, keepdim=keepdims),
        reshape=lambda x, shape: paddle.reshape(x, list(shape)),
        transpose=lambda x, axes: paddle.transpose(x, list(axes)),
        get_item=lambda x, index: paddle.gather(x, paddle.to_tensor(index), axis=0),
        softmax=lambda x, axis: F.softmax(x, axis=axis),
        log_softmax=lambda x, axis: F.log_softmax(x, axis=axis),
    )


def mygrad_ops() -> SimpleNamespace:
    import mygrad as mg
    from mygrad.nnet import activations

    return SimpleNamespace(
        **_registry("mygrad"),
        sub=mg.subtract,
        div=mg.divide,
        relu=activations.relu,
        clip=lambda x, lo, hi: mg.clip(x, lo, hi),
        sum=lambda x, axis=None, keepdims=False: mg.sum(x, axis=axis, keepdims=keepdims),
        max=lambda x, axis=None, keepdims=False: mg.max(x, axis=axis, keepdims=keepdims),
        reshape=lambda x, shape: mg.reshape(x, tuple(shape)),
        transpose=lambda x, axes: mg.transpose(x, *axes),
        get_item=lambda x, index: x[np.asarray(index)],
        softmax=lambda x, axis: activations.softmax(x, axis=axis),
        log_softmax=lambda x, axis: activations.logsoftmax(x, axis=axis),
        abs=mg.abs,
        sqrt=mg.sqrt,
        maximum=mg.maximum,
        minimum=mg.minimum,
        where=lambda a, b, mask: mg.where(mask_of(a, b, mask), a, b),
        logsumexp=shifted_logsumexp,
        concatenate=lambda *xs, axis: mg.concatenate(xs, axis=axis),
        stack=lambda *xs, axis: mg.stack(xs, axis=axis),
        einsum=lambda *xs, spec: mg.einsum(spec, *xs),
        **_masked_triangles(),  # mygrad has no tril/triu
    )


def tinygrad_ops() -> SimpleNamespace:
    from tinygrad import Tensor

    return SimpleNamespace(
        **_registry("tinygrad"),
        sub=Tensor.sub,
        div=Tensor.div,
        relu=Tensor.relu,
        clip=lambda x, lo, hi: x.clip(lo, hi),
        sum=lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdim=keepdims),
        max=lambda x, axis=None, keepdims=False: x.max(axis=axis, keepdim=keepdims),
        reshape=lambda x, shape: x.reshape(tuple(shape)),
        transpose=lambda x, axes: x.permute(tuple(axes)),
        get_item=lambda x, index: x[Tensor(np.asarray(index, np.int32), device=x.device)],
        softmax=lambda x, axis: x.softmax(axis=axis),
        log_softmax=lambda x, axis: x.log_softmax(axis=axis),
        abs=Tensor.abs,
        sqrt=Tensor.sqrt,
        maximum=Tensor.maximum,
        minimum=Tensor.minimum,
        where=lambda a, b, mask: Tensor(mask_of(a, b, mask), device=a.device).where(a, b),
        logsumexp=lambda x, axis=None, keepdims=False: x.logsumexp(axis=axis, keepdim=keepdims),
        concatenate=lambda *xs, axis: xs[0].cat(*xs[1:], dim=axis),
        stack=lambda *xs, axis: Tensor.stack(*xs, dim=axis),
        einsum=lambda *xs, spec: Tensor.einsum(spec, *xs),
        tril=lambda x, k: x.tril(k),
        triu=lambda x, k: x.triu(k),
    )


def _masked_triangles() -> dict:
    """tril/triu as a product with numpy's 0/1 triangle, for engines without them: the kept
    elements are multiplied by exactly 1, so values and gradients are the op's own."""
    return {
        "tril": lambda x, k: x * np.tril(np.ones(tuple(x.shape)[-2:]), k),
        "triu": lambda x, k: x * np.triu(np.ones(tuple(x.shape)[-2:]), k),
    }


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
