"""Each engine's fuzzed ops as Python source: the one table that both the fuzzer's namespaces
(`validation.fuzz.engines`, autograd's in `validation.fuzz.backends`) and the standalone
reproducers (`validation.fuzz.standalone`) evaluate, so a script calls exactly what the
fuzzer called.

Per engine: the import lines a script starts with, a prelude of helpers where the engine
lacks an op (written as its users write it), and one source expression per op: the op
registry's dotted spelling (`bench.workloads.ops`) for the elementwise ops and matmul, with
the module shortened to its import alias, and the engine's own call for the others. `where`
takes its condition as a numpy bool array of the broadcast shape.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from bench.workloads.op_vjps_numpy import mask_of
from bench.workloads.ops import OPS

REGISTRY_OPS = ("neg", "sin", "cos", "tanh", "sigmoid", "exp", "square", "log", "add", "mul")
REGISTRY_OPS += ("matmul",)

IMPORTS = {
    "autograd": "import autograd\nimport autograd.numpy as anp\nimport autograd.scipy.special",
    "mygrad": "import mygrad as mg\nfrom mygrad.nnet import activations",
    "paddle": "import paddle\nimport paddle.nn.functional as F",
    "tensorflow": "import tensorflow as tf",
    "tinygrad": "from tinygrad import Tensor",
}
# a dotted spelling's module -> the alias the imports above give it (longest first)
ALIASES = (
    ("autograd.numpy.", "anp."),
    ("autograd.scipy.special.", "autograd.scipy.special."),
    ("mygrad.nnet.activations.", "activations."),
    ("mygrad.", "mg."),
    ("paddle.nn.functional.", "F."),
    ("paddle.", "paddle."),
    ("tensorflow.", "tf."),
    ("tinygrad.Tensor.", "Tensor."),
)

_MASKED_TRIANGLES = '''
def tril(x, k):
    """tril as a product with numpy's 0/1 triangle (no tril here): kept elements times 1."""
    return x * np.tril(np.ones(tuple(x.shape)[-2:]), k)


def triu(x, k):
    return x * np.triu(np.ones(tuple(x.shape)[-2:]), k)
'''
PRELUDES = {
    "autograd": '''
def softmax(x, axis):
    """autograd has no softmax: written as its users write it, shifted by the max."""
    e = anp.exp(x - anp.max(x, axis=axis, keepdims=True))
    return e / anp.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis):
    shifted = x - anp.max(x, axis=axis, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=axis, keepdims=True))
''',
    "mygrad": _MASKED_TRIANGLES
    + '''

def logsumexp(x, axis=None, keepdims=False):
    """mygrad has no logsumexp: log(sum(exp(x - m))) + m, the maximum m held constant."""
    m = np.max(x.data, axis=axis, keepdims=True)
    y = mg.log(mg.sum(mg.exp(x - m), axis=axis, keepdims=keepdims))
    return y + (m if keepdims else np.squeeze(m, axis=axis))
''',
    "paddle": "",
    "tensorflow": _MASKED_TRIANGLES,
    "tinygrad": "",
}

_REDUCE = "lambda x, axis=None, keepdims=False: "
OWN = {
    "autograd": {
        "sub": "anp.subtract",
        "div": "anp.divide",
        "relu": "lambda x: x * (x > 0)",
        "clip": "lambda x, lo, hi: anp.clip(x, lo, hi)",
        "sum": _REDUCE + "anp.sum(x, axis=axis, keepdims=keepdims)",
        "max": _REDUCE + "anp.max(x, axis=axis, keepdims=keepdims)",
        "reshape": "lambda x, shape: anp.reshape(x, tuple(shape))",
        "transpose": "lambda x, axes: anp.transpose(x, tuple(axes))",
        "get_item": "lambda x, index: x[np.asarray(index)]",
        "softmax": "softmax",
        "log_softmax": "log_softmax",
        "abs": "anp.abs",
        "sqrt": "anp.sqrt",
        "maximum": "anp.maximum",
        "minimum": "anp.minimum",
        "where": "lambda a, b, mask: anp.where(mask, a, b)",
        "logsumexp": _REDUCE + "autograd.scipy.special.logsumexp(x, axis=axis, keepdims=keepdims)",
        "concatenate": "lambda *xs, axis: anp.concatenate(xs, axis=axis)",
        "stack": "lambda *xs, axis: anp.stack(xs, axis=axis)",
        "einsum": "lambda *xs, spec: anp.einsum(spec, *xs)",
        "tril": "lambda x, k: anp.tril(x, k)",
        "triu": "lambda x, k: anp.triu(x, k)",
    },
    "mygrad": {
        "sub": "mg.subtract",
        "div": "mg.divide",
        "relu": "activations.relu",
        "clip": "lambda x, lo, hi: mg.clip(x, lo, hi)",
        "sum": _REDUCE + "mg.sum(x, axis=axis, keepdims=keepdims)",
        "max": _REDUCE + "mg.max(x, axis=axis, keepdims=keepdims)",
        "reshape": "lambda x, shape: mg.reshape(x, tuple(shape))",
        "transpose": "lambda x, axes: mg.transpose(x, *axes)",
        "get_item": "lambda x, index: x[np.asarray(index)]",
        "softmax": "lambda x, axis: activations.softmax(x, axis=axis)",
        "log_softmax": "lambda x, axis: activations.logsoftmax(x, axis=axis)",
        "abs": "mg.abs",
        "sqrt": "mg.sqrt",
        "maximum": "mg.maximum",
        "minimum": "mg.minimum",
        "where": "lambda a, b, mask: mg.where(mask, a, b)",
        "logsumexp": "logsumexp",
        "concatenate": "lambda *xs, axis: mg.concatenate(xs, axis=axis)",
        "stack": "lambda *xs, axis: mg.stack(xs, axis=axis)",
        "einsum": "lambda *xs, spec: mg.einsum(spec, *xs)",
        "tril": "tril",
        "triu": "triu",
    },
    "paddle": {
        "sub": "paddle.subtract",
        "div": "paddle.divide",
        "relu": "F.relu",
        "clip": "lambda x, lo, hi: paddle.clip(x, lo, hi)",
        "sum": _REDUCE + "paddle.sum(x, axis=axis, keepdim=keepdims)",
        "max": _REDUCE + "paddle.amax(x, axis=axis, keepdim=keepdims)",
        "reshape": "lambda x, shape: paddle.reshape(x, list(shape))",
        "transpose": "lambda x, axes: paddle.transpose(x, list(axes))",
        "get_item": "lambda x, index: paddle.gather(x, paddle.to_tensor(index), axis=0)",
        "softmax": "lambda x, axis: F.softmax(x, axis=axis)",
        "log_softmax": "lambda x, axis: F.log_softmax(x, axis=axis)",
        "abs": "paddle.abs",
        "sqrt": "paddle.sqrt",
        "maximum": "paddle.maximum",
        "minimum": "paddle.minimum",
        "where": "lambda a, b, mask: paddle.where(paddle.to_tensor(mask), a, b)",
        "logsumexp": _REDUCE + "paddle.logsumexp(x, axis=axis, keepdim=keepdims)",
        "concatenate": "lambda *xs, axis: paddle.concat(list(xs), axis=axis)",
        "stack": "lambda *xs, axis: paddle.stack(list(xs), axis=axis)",
        "einsum": "lambda *xs, spec: paddle.einsum(spec, *xs)",
        "tril": "lambda x, k: paddle.tril(x, k)",
        "triu": "lambda x, k: paddle.triu(x, k)",
    },
    "tensorflow": {
        # tf.linalg.matmul takes rank >= 2 only (documented); its numpy API takes 1-D too
        "matmul": "tf.experimental.numpy.matmul",
        "sub": "tf.math.subtract",
        "div": "tf.math.divide",
        "relu": "tf.nn.relu",
        "clip": "lambda x, lo, hi: tf.clip_by_value(x, lo, hi)",
        "sum": _REDUCE + "tf.reduce_sum(x, axis=axis, keepdims=keepdims)",
        "max": _REDUCE + "tf.reduce_max(x, axis=axis, keepdims=keepdims)",
        "reshape": "lambda x, shape: tf.reshape(x, tuple(shape))",
        "transpose": "lambda x, axes: tf.transpose(x, perm=tuple(axes))",
        "get_item": "lambda x, index: tf.gather(x, index, axis=0)",
        "softmax": "lambda x, axis: tf.nn.softmax(x, axis=axis)",
        "log_softmax": "lambda x, axis: tf.nn.log_softmax(x, axis=axis)",
        "abs": "tf.abs",
        "sqrt": "tf.sqrt",
        "maximum": "tf.maximum",
        "minimum": "tf.minimum",
        "where": "lambda a, b, mask: tf.where(mask, a, b)",
        "logsumexp": _REDUCE + "tf.reduce_logsumexp(x, axis=axis, keepdims=keepdims)",
        "concatenate": "lambda *xs, axis: tf.concat(xs, axis=axis)",
        "stack": "lambda *xs, axis: tf.stack(xs, axis=axis)",
        "einsum": "lambda *xs, spec: tf.einsum(spec, *xs)",
        "tril": "tril",  # TensorFlow has no tril/triu with an offset k
        "triu": "triu",
    },
    "tinygrad": {
        "sub": "Tensor.sub",
        "div": "Tensor.div",
        "relu": "Tensor.relu",
        "clip": "lambda x, lo, hi: x.clip(lo, hi)",
        "sum": _REDUCE + "x.sum(axis=axis, keepdim=keepdims)",
        "max": _REDUCE + "x.max(axis=axis, keepdim=keepdims)",
        "reshape": "lambda x, shape: x.reshape(tuple(shape))",
        "transpose": "lambda x, axes: x.permute(tuple(axes))",
        "get_item": "lambda x, index: x[Tensor(np.asarray(index, np.int32), device=x.device)]",
        "softmax": "lambda x, axis: x.softmax(axis=axis)",
        "log_softmax": "lambda x, axis: x.log_softmax(axis=axis)",
        "abs": "Tensor.abs",
        "sqrt": "Tensor.sqrt",
        "maximum": "Tensor.maximum",
        "minimum": "Tensor.minimum",
        "where": "lambda a, b, mask: Tensor(mask, device=a.device).where(a, b)",
        "logsumexp": _REDUCE + "x.logsumexp(axis=axis, keepdim=keepdims)",
        "concatenate": "lambda *xs, axis: xs[0].cat(*xs[1:], dim=axis)",
        "stack": "lambda *xs, axis: Tensor.stack(*xs, dim=axis)",
        "einsum": "lambda *xs, spec: Tensor.einsum(spec, *xs)",
        "tril": "lambda x, k: x.tril(k)",
        "triu": "lambda x, k: x.triu(k)",
    },
}
ENGINES = tuple(OWN)


def aliased(dotted: str) -> str:
    """A dotted spelling ('tensorflow.math.sin') as the scripts' imports name it ('tf.math.sin')."""
    for module, alias in ALIASES:
        if dotted.startswith(module):
            return alias + dotted.removeprefix(module)
    raise ValueError(f"no import alias for spelling {dotted!r}")


def sources(engine: str) -> dict[str, str]:
    """Op name -> the source expression `engine`'s namespace evaluates for it."""
    if engine not in OWN:
        raise KeyError(f"no spelling table for engine {engine!r}; known: {sorted(OWN)}")
    registry = {name: aliased(OPS[name].spelled(engine)) for name in REGISTRY_OPS}
    return registry | OWN[engine]


def scope(engine: str) -> dict:
    """The names the sources refer to: the engine's imports and prelude, and numpy as np."""
    names = {"np": np}
    exec(IMPORTS[engine] + "\n" + PRELUDES[engine], names)  # noqa: S102 - our own table
    return names


def namespace(engine: str) -> SimpleNamespace:
    """The fuzz op namespace of `engine`, evaluated from its sources; `where` takes a
    program's stored mask (`mask_of`)."""
    names = scope(engine)
    ops = {name: eval(source, names) for name, source in sources(engine).items()}  # noqa: S307
    where = ops["where"]
    ops["where"] = lambda a, b, mask: where(a, b, mask_of(a, b, mask))
    return SimpleNamespace(**ops)
