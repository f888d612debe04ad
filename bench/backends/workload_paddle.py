"""PaddlePaddle's op namespace for GradBench's evaluations: its eager (dynamic graph) mode.

Paddle must load before TensorFlow in one process (see `bench.backends.paddle_eager`).
"""

from __future__ import annotations

import numpy as np

from bench.backends.workload_ops import WorkloadOps


class PaddleOps(WorkloadOps):
    """Eager PaddlePaddle on the CPU, float64 tensors: `paddle.grad`, with `create_graph`
    for a gradient that is differentiated again."""

    convert_consts = True

    def __init__(self):
        import paddle  # optional and slow to import

        self._paddle = paddle
        for op in ("exp", "log", "sqrt", "sin", "cos", "tanh", "matmul"):
            setattr(self, op, getattr(paddle, op))
        self.sigmoid = paddle.nn.functional.sigmoid

    def const(self, a):
        if isinstance(a, self._paddle.Tensor):
            return a
        return self._paddle.to_tensor(np.asarray(a), place=self._paddle.CPUPlace())

    def value(self, v):
        return v.numpy() if isinstance(v, self._paddle.Tensor) else np.asarray(v)

    def less(self, a, b):
        return bool(a < b)

    def reshape(self, x, shape):
        return self._paddle.reshape(x, list(shape))

    def sum(self, x, axis=None):
        return self._paddle.sum(x, axis=axis)

    def min(self, x, axis):
        # paddle.min and paddle.amin have no gradient of their gradient (kmeans takes one):
        # the minimum picked by its index, as paddle's users write a differentiable argmin
        at = self._paddle.argmin(x, axis=axis, keepdim=True)
        return self._paddle.squeeze(self._paddle.take_along_axis(x, at, axis=axis), axis=axis)

    def max(self, x):
        return self._paddle.max(x)

    def logsumexp(self, x, axis):
        return self._paddle.logsumexp(x, axis=axis)

    def concatenate(self, seq, axis=0):
        return self._paddle.concat(list(seq), axis=axis)

    def stack(self, seq, axis=0):
        return self._paddle.stack(list(seq), axis=axis)

    def transpose(self, x, axes):
        return self._paddle.transpose(x, list(axes))

    def _leaf(self, a):
        a = self.const(a)
        if a.stop_gradient:  # a constant point: a fresh leaf (it depends on nothing)
            a = a.detach()
            a.stop_gradient = False
        return a

    def _grads(self, y, leaves, create_graph):
        # of sum(y) (paddle seeds a non-scalar output with ones); None where y does not reach
        grads = self._paddle.grad([y], leaves, create_graph=create_graph, allow_unused=True)
        return [self._paddle.zeros_like(a) if g is None else g for a, g in zip(leaves, grads)]

    def value_and_grad(self, f, params):
        leaves = [self._leaf(p).detach() for p in params]
        for leaf in leaves:
            leaf.stop_gradient = False
        y = f(*leaves)
        return y, self._grads(y, leaves, create_graph=False)

    def grad_at(self, f, x, create_graph):
        x = self._leaf(x)
        return self._grads(f(x), [x], create_graph)[0]

    def jacfwd(self, f, x):
        # Paddle's eager mode has no forward mode, and reverse over reverse through ht's
        # gathers fails in paddle ("empty GradSlotMeta"), as does paddle.autograd.jacobian
        # (it keeps a graph of each row): one plain reverse pass per output element
        paddle, x = self._paddle, self._leaf(x)
        y = f(x)
        flat = paddle.reshape(y, [-1])
        rows = [paddle.grad([flat[i]], [x], retain_graph=True)[0] for i in range(flat.shape[0])]
        return paddle.reshape(paddle.stack(rows), [*y.shape, int(np.size(x))])
