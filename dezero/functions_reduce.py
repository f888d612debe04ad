"""Reductions and broadcasting: sum, sum_to, broadcast_to, max, min and average.
dezero.functions re-exports them.

sum and broadcast_to are each other's adjoint, as are sum_to and broadcast_to: the sweep's
broadcast adjoint (`sum_to`) is this module's Function under `create_graph`.
"""

import numpy as np

from dezero import array_ops
from dezero.core import Function, array_of, as_variable


class Sum(Function):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis, keepdims):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def vjp(self, m, gy, x, y):
        gy = m.reshape(gy, array_ops.keepdims_shape(x.shape, self.axis))
        return m.broadcast_to(gy, x.shape)


class SumTo(Function):
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return array_ops.sum_to(x, self.shape)

    def vjp(self, m, gy, x, y):
        return m.broadcast_to(gy, x.shape)


class BroadcastTo(Function):
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def vjp(self, m, gy, x, y):
        return m.sum_to(gy, x.shape)


class Max(Function):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def vjp(self, m, gy, x, y):
        shape = array_ops.keepdims_shape(x.shape, self.axis)
        xd, yd = array_of(x), array_of(y).reshape(shape)
        # Ties share the gradient equally (torch.amax does the same), so it sums to gy.
        # The mask stays boolean and the share is taken on the reduced shape: two passes
        # over x fewer than a float mask divided in place, and the same numbers.
        winners = xd == yd
        share = 1.0 / winners.sum(axis=self.axis, keepdims=True, dtype=xd.dtype)
        return m.broadcast_to(m.reshape(gy, shape) * share, x.shape) * winners


class Min(Max):
    __slots__ = ()

    def forward(self, x):
        return x.min(axis=self.axis, keepdims=self.keepdims)


def sum(x, axis=None, keepdims=False):
    return Sum(axis, keepdims)(x)


def sum_to(x, shape):
    if x.shape == tuple(shape):
        return as_variable(x)
    return SumTo(shape)(x)


def broadcast_to(x, shape):
    if x.shape == tuple(shape):
        return as_variable(x)
    return BroadcastTo(shape)(x)


def max(x, axis=None, keepdims=False):
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims=False):
    return Min(axis, keepdims)(x)


def average(x, axis=None, keepdims=False):
    x = as_variable(x)
    y = sum(x, axis, keepdims)
    return y * (y.data.size / x.data.size)
