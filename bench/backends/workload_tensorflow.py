"""TensorFlow's op namespace for GradBench's evaluations: eager tensors under GradientTape.

The evaluations index with numpy integer arrays (`padded[:, lower]`), which a tf.Tensor
takes only with TensorFlow's NumPy behaviour switched on: `experimental_enable_numpy_behavior`
is what TensorFlow documents for running NumPy-style code, and with its default
('legacy') dtype conversion it changes indexing and adds methods, not type promotion. It
is switched on where the namespace is made (a process's set-up, never an import).
"""

from __future__ import annotations

import numpy as np

from bench.backends.workload_ops import WorkloadOps


class TensorflowOps(WorkloadOps):
    """Eager TensorFlow, float64 tensors: nested `tf.GradientTape`s for gradients of
    gradients (a tape records the inner tape's gradient computed inside it), and
    `tf.autodiff.ForwardAccumulator` for the forward-mode Jacobian."""

    convert_consts = True

    def __init__(self):
        import tensorflow as tf  # optional and slow to import
        import tensorflow.experimental.numpy as tnp

        tnp.experimental_enable_numpy_behavior()
        self._tf = tf
        self.exp, self.log, self.sqrt = tf.exp, tf.math.log, tf.sqrt
        self.sin, self.cos, self.tanh, self.sigmoid = tf.sin, tf.cos, tf.tanh, tf.sigmoid
        # tf.linalg.matmul takes rank >= 2 only; the NumPy API's matmul takes a vector too
        self.matmul = tnp.matmul

    def const(self, a):
        return self._tf.convert_to_tensor(a)

    def value(self, v):
        return v.numpy() if isinstance(v, self._tf.Tensor) else np.asarray(v)

    def less(self, a, b):
        return bool(a < b)

    def reshape(self, x, shape):
        return self._tf.reshape(x, shape)

    def sum(self, x, axis=None):
        return self._tf.reduce_sum(x, axis=axis)

    def min(self, x, axis):
        return self._tf.reduce_min(x, axis=axis)

    def max(self, x):
        return self._tf.reduce_max(x)

    def logsumexp(self, x, axis):
        return self._tf.reduce_logsumexp(x, axis=axis)

    def concatenate(self, seq, axis=0):
        return self._tf.concat(list(seq), axis=axis)

    def stack(self, seq, axis=0):
        return self._tf.stack(list(seq), axis=axis)

    def transpose(self, x, axes):
        return self._tf.transpose(x, perm=axes)

    def _gradients(self, y, leaves, tape):
        grads = tape.gradient(y, leaves)  # of sum(y); None where y does not reach a leaf
        # a gather's gradient is an IndexedSlices (a sparse update): made dense
        return [
            self._tf.zeros_like(a) if g is None else self._tf.convert_to_tensor(g)
            for a, g in zip(leaves, grads)
        ]

    def value_and_grad(self, f, params):
        leaves = [self._tf.convert_to_tensor(p) for p in params]
        with self._tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(leaves)
            y = f(*leaves)
        return y, self._gradients(y, leaves, tape)

    def grad_at(self, f, x, create_graph):
        # an outer tape, where there is one, records this gradient: nothing to ask for
        x = self._tf.convert_to_tensor(x)
        with self._tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            y = f(x)
        return self._gradients(y, [x], tape)[0]

    def jacfwd(self, f, x):
        tf, n = self._tf, int(np.size(x))
        columns = []
        for j in range(n):
            with tf.autodiff.ForwardAccumulator(x, tf.one_hot(j, n, dtype=x.dtype)) as acc:
                y = f(x)
            columns.append(acc.jvp(y))
        return tf.stack(columns, axis=-1)
