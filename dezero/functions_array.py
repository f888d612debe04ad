"""Joining arrays: concatenate and stack, with numpy's signatures. dezero.functions re-exports
them.

Each takes any number of inputs; its vjp hands every input its own slice of gy (`m.get_item`
with basic slices: a view in the fast sweep).
"""

import itertools

import numpy as np

from dezero.core import Function, Variable


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
