"""Shapes and indexing: reshape, transpose, get_item (and its adjoint), expand_dims, flatten,
and joining arrays: concatenate and stack, with numpy's signatures. dezero.functions
re-exports them.

Each takes any number of inputs; its vjp hands every input its own slice of gy (`m.get_item`
with basic slices: a view in the fast sweep).
"""

import itertools

import numpy as np

from dezero import array_ops
from dezero.core import Function, Variable, as_variable


class Concatenate(Function):
    # `bounds[i]:bounds[i + 1]` is input i's part of the joined axis (of the flattened
    # inputs when axis is None, numpy's meaning).
    __slots__ = ("axis", "bounds")

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        y = np.concatenate(xs, axis=self.axis)
        if self.axis is None:
            sizes = [x.size for x in xs]
        else:
            self.axis %= y.ndim
            sizes = [x.shape[self.axis] for x in xs]
        # itertools, not np.cumsum: on a handful of ints numpy's call costs ~1 µs per op
        self.bounds = list(itertools.accumulate(sizes, initial=0))
        return y

    def vjp(self, m, gy, *xs_and_y):
        xs = xs_and_y[:-1]
        bounds = self.bounds
        lead = () if self.axis is None else (slice(None),) * self.axis
        gxs = []
        for i, x in enumerate(xs):
            if not self.needs_input_grad(i):
                gxs.append(None)
                continue
            gx = m.get_item(gy, (*lead, slice(bounds[i], bounds[i + 1])))
            gxs.append(m.reshape(gx, x.shape) if self.axis is None else gx)
        return tuple(gxs) if len(gxs) > 1 else gxs[0]


class Stack(Function):
    __slots__ = ("axis",)

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        shapes = {x.shape for x in xs}
        if len(shapes) > 1:
            raise ValueError(f"stack needs arrays of one shape, got shapes {[x.shape for x in xs]}")
        y = np.stack(xs, axis=self.axis)
        self.axis %= y.ndim
        return y

    def vjp(self, m, gy, *xs_and_y):
        lead = (slice(None),) * self.axis
        gxs = [
            m.get_item(gy, (*lead, i)) if self.needs_input_grad(i) else None
            for i in range(len(xs_and_y) - 1)
        ]
        return tuple(gxs) if len(gxs) > 1 else gxs[0]


def _arrays(name, seq):
    """The sequence's items, each a Variable or an array (a constant), checked. As in numpy,
    an array (or a Variable) is the sequence of its rows."""
    if isinstance(seq, (Variable, np.ndarray)) and seq.ndim > 0:
        items = [seq[i] for i in range(len(seq))]
    elif isinstance(seq, (list, tuple)):
        items = seq
    else:
        raise TypeError(
            f"{name} takes a sequence (list or tuple) of arrays, got {type(seq).__name__}"
        )
    if not items:
        raise ValueError(f"{name} needs at least one array, got an empty {type(seq).__name__}")
    checked = []
    for i, x in enumerate(items):
        if not isinstance(x, Variable):
            array = np.asarray(x)
            if array.dtype.kind not in "biufc":
                raise TypeError(
                    f"{name}: item {i} is a {type(x).__name__}, expected a Variable or an array"
                )
            x = array
        checked.append(x)
    return checked


def concatenate(seq, axis=0):
    return Concatenate(axis)(*_arrays("concatenate", seq))


def stack(seq, axis=0):
    return Stack(axis)(*_arrays("stack", seq))


class Reshape(Function):
    __slots__ = ("shape", "x_shape")

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def vjp(self, m, gy, x, y):
        return m.reshape(gy, self.x_shape)


class Transpose(Function):
    __slots__ = ("axes",)

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def vjp(self, m, gy, x, y):
        if self.axes is None:
            return m.transpose(gy)
        inverse = tuple(np.argsort([a % len(self.axes) for a in self.axes]))
        return m.transpose(gy, inverse)


class GetItem(Function):
    __slots__ = ("slices",)

    def __init__(self, slices):
        self.slices = slices

    def forward(self, x):
        return x[self.slices]

    def vjp(self, m, gy, x, y):
        return m.get_item_grad(gy, self.slices, x.shape)


class GetItemGrad(Function):
    """Scatter of gy into zeros: the adjoint of indexing (repeated indices add up)."""

    __slots__ = ("slices", "in_shape")

    def __init__(self, slices, in_shape):
        self.slices = slices
        self.in_shape = in_shape

    def forward(self, gy):
        return array_ops.get_item_grad(gy, self.slices, self.in_shape)

    def vjp(self, m, ggx, gy, y):
        return m.get_item(ggx, self.slices)


def reshape(x, shape):
    if x.shape == tuple(shape):
        return as_variable(x)
    return Reshape(shape)(x)


def transpose(x, axes=None):
    return Transpose(axes)(x)


def get_item(x, slices):
    return GetItem(slices)(x)


def get_item_grad(gy, slices, in_shape):
    return GetItemGrad(slices, in_shape)(gy)


def expand_dims(x, axis):
    x = as_variable(x)
    shape = list(x.shape)
    shape.insert(axis if axis >= 0 else len(shape) + axis + 1, 1)
    return reshape(x, tuple(shape))


def flatten(x):
    """Keep the first axis (the batch), flatten the rest."""
    x = as_variable(x)
    return reshape(x, (x.shape[0], -1))
