"""Linear algebra: matmul, linear, einsum, tril and triu. dezero.functions re-exports them.

einsum's adjoint is an einsum again: the gradient of operand i contracts gy with the other
operands onto operand i's labels. Two cases need an extra constant operand, since an einsum
cannot create a label no operand has: a label summed inside operand i alone (gy is broadcast
along it: a ones vector) and a label repeated in operand i (a diagonal: its gradient lies on
the diagonal, zero elsewhere: an identity matrix).
"""

import string
from collections import Counter

import numpy as np

from dezero.core import Function, array_of


def _explicit(subscripts, ndims):
    """(input labels, output labels) of an einsum numpy has accepted, with each ellipsis spelt
    in letters no operand uses (right-aligned, as numpy broadcasts it) and an implicit output
    made explicit (numpy's rule: the ellipsis, then the labels used once, sorted)."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    unused = [c for c in string.ascii_letters if c not in spec]
    widths = [nd - (len(t) - 3) if "..." in t else 0 for t, nd in zip(terms, ndims)]
    ellipsis = "".join(unused[: max(widths, default=0)])
    if not arrow:
        counts = Counter("".join(terms).replace(".", ""))
        out = "..." * ("..." in lhs) + "".join(sorted(c for c, n in counts.items() if n == 1))
    terms = [t.replace("...", ellipsis[len(ellipsis) - w :]) for t, w in zip(terms, widths)]
    return terms, out.replace("...", ellipsis)


class Einsum(Function):
    __slots__ = ("subscripts", "optimize", "terms", "out")

    def __init__(self, subscripts, optimize=False):
        self.subscripts = subscripts
        self.optimize = optimize

    def forward(self, *xs):
        y = np.einsum(self.subscripts, *xs, optimize=self.optimize)  # numpy checks the spec
        self.terms, self.out = _explicit(self.subscripts, [x.ndim for x in xs])
        return y

    def vjp(self, m, gy, *xs_and_y):
        xs = xs_and_y[:-1]
        gxs = [
            self._operand_grad(m, gy, xs, i) if self.needs_input_grad(i) else None
            for i in range(len(xs))
        ]
        return tuple(gxs) if len(gxs) > 1 else gxs[0]

    def _operand_grad(self, m, gy, xs, i):
        terms, out = self.terms, self.out
        shape, dtype = xs[i].shape, array_of(gy).dtype
        others = [j for j in range(len(xs)) if j != i]
        labels, operands = [out], [gy]
        for j in others:
            labels.append(terms[j])
            operands.append(xs[j])
        elsewhere = set(out).union(*(terms[j] for j in others))
        fresh = (c for c in string.ascii_letters if c not in "".join(terms) + out)
        target = []
        for axis, c in enumerate(terms[i]):
            if c in target:  # a repeated label: the gradient goes on the diagonal
                d = next(fresh)
                labels.append(c + d)
                operands.append(np.eye(shape[axis], dtype=dtype))
                target.append(d)
                continue
            if c not in elsewhere:  # summed inside this operand only: gy is broadcast along it
                labels.append(c)
                operands.append(np.ones(shape[axis], dtype=dtype))
                elsewhere.add(c)
            target.append(c)
        spec = ",".join(labels) + "->" + "".join(target)
        gx = m.einsum(spec, *operands, optimize=self.optimize)
        # A label of size 1 in every other operand (numpy broadcasts it) has size 1 in gx
        # too: spread it to this operand's size. (The sweep sums the opposite case back.)
        full = np.broadcast_shapes(gx.shape, shape)
        return gx if gx.shape == full else m.broadcast_to(gx, full)


class Tril(Function):
    __slots__ = ("k",)

    def __init__(self, k=0):
        self.k = k

    def forward(self, x):
        return np.tril(x, self.k)

    def vjp(self, m, gy, x, y):
        # Masking is its own adjoint. numpy's tril of a 1-D x masks x broadcast to a square:
        # the gradient is summed back over its rows (a one-input vjp returns x's shape).
        gx = m.tril(gy, self.k)
        return gx if x.ndim > 1 else m.sum(gx, axis=0)


class Triu(Tril):
    __slots__ = ()

    def forward(self, x):
        return np.triu(x, self.k)

    def vjp(self, m, gy, x, y):
        gx = m.triu(gy, self.k)
        return gx if x.ndim > 1 else m.sum(gx, axis=0)


def einsum(subscripts, *operands, optimize=False):
    """numpy's einsum (explicit or implicit output, ellipses, repeated labels), differentiable
    in every operand; `optimize` is numpy's, used for the gradients' einsums too."""
    if not isinstance(subscripts, str):
        raise TypeError(
            f"einsum takes a subscripts string first, got {type(subscripts).__name__} "
            "(the interleaved operand/sublist form is not supported)"
        )
    if not operands:
        raise ValueError(f"einsum {subscripts!r} got no operands")
    return Einsum(subscripts, optimize)(*operands)


def _check_triangle(name, x):
    if np.ndim(array_of(x)) == 0:
        raise ValueError(f"{name} needs an array of at least 1 dimension, got a 0-d array")


def tril(x, k=0):
    _check_triangle("tril", x)
    return Tril(k)(x)


def triu(x, k=0):
    _check_triangle("triu", x)
    return Triu(k)(x)


def matmul_vector_vjp(f, m, gy, x, W):
    """MatMul's gradients where an operand is 1-D: numpy's matmul promotes it to a matrix
    ((1, n) on the left, (n, 1) on the right) and drops that axis from the result, so gy gets
    it back, the matrix rule applies, and the gradient loses it again (the sweep sums any
    batch axes back to the vector)."""
    shape = gy.shape
    if W.ndim == 1:
        shape = (*shape, 1)
    if x.ndim == 1:
        shape = (*shape[:-1], 1, shape[-1])
    gy = m.reshape(gy, shape)
    x2 = m.reshape(x, (1, x.shape[0])) if x.ndim == 1 else x
    W2 = m.reshape(W, (W.shape[0], 1)) if W.ndim == 1 else W
    gx = gW = None
    if f.needs_input_grad(0):
        gx = m.matmul(gy, m.transpose(W2, _swap_last_two(W2.ndim)))
        if x.ndim == 1:
            gx = m.reshape(gx, (*gx.shape[:-2], gx.shape[-1]))
    if f.needs_input_grad(1):
        gW = m.matmul(m.transpose(x2, _swap_last_two(x2.ndim)), gy)
        if W.ndim == 1:
            gW = m.reshape(gW, gW.shape[:-1])
    return gx, gW


def _swap_last_two(ndim):
    axes = list(range(ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return tuple(axes)


def _check_matmul_operands(x, W):
    if x.ndim < 2 or W.ndim < 2:
        raise ValueError(
            f"linear needs operands with ndim >= 2, got shapes {x.shape} and {W.shape}; "
            "reshape vectors to (1, n) or (n, 1)"
        )


class MatMul(Function):
    """numpy's matmul: batched over leading axes, a 1-D operand taken as a row or a column."""

    __slots__ = ()

    def forward(self, x, W):
        if x.ndim == 0 or W.ndim == 0:
            raise ValueError(
                f"matmul needs operands with ndim >= 1, got shapes {x.shape} and {W.shape}"
            )
        return np.matmul(x, W)

    def vjp(self, m, gy, x, W, y):
        if x.ndim == 1 or W.ndim == 1:
            return matmul_vector_vjp(self, m, gy, x, W)
        gx = gW = None  # an operand given as an array gets no gradient: skip its matmul
        if self.needs_input_grad(0):
            gx = m.matmul(gy, m.transpose(W, _swap_last_two(W.ndim)))
        if self.needs_input_grad(1):
            gW = m.matmul(m.transpose(x, _swap_last_two(x.ndim)), gy)
        return gx, gW


class Linear(Function):
    __slots__ = ()

    def forward(self, x, W, b=None):
        if x.ndim < 2 or W.ndim < 2:  # the check inline: a layer calls this every step
            _check_matmul_operands(x, W)
        y = np.matmul(x, W)
        return y if b is None else y + b

    def vjp(self, m, gy, x, W, *b_and_y):
        if x.ndim == 2 and W.ndim == 2:  # a layer's case: .T is the transpose, a view
            gW = m.matmul(x.T, gy)
            # A raw input batch's gradient is never read: skip its matmul.
            gx = m.matmul(gy, W.T) if self.needs_input_grad(0) else None
        else:
            gx = m.matmul(gy, m.transpose(W, _swap_last_two(W.ndim)))
            gW = m.matmul(m.transpose(x, _swap_last_two(x.ndim)), gy)
        if len(b_and_y) == 2 and b_and_y[0].ndim == 1 and gy.ndim == 2:
            # A layer's bias, broadcast over the batch: its adjoint here is one sum,
            # cheaper than the sweep's general sum_to.
            return gx, gW, m.sum(gy, axis=0)
        return gx, gW, gy  # without a bias, the sweep's zip drops the third


def matmul(x, W):
    return MatMul()(x, W)


def linear(x, W, b=None):
    return Linear()(x, W) if b is None else Linear()(x, W, b)
