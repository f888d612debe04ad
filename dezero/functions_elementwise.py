"""Elementwise functions beyond the book's: abs, sqrt, maximum, minimum and where, with numpy's
signatures and broadcasting. dezero.functions re-exports them.

Their derivatives at kinks follow torch: abs'(0) = 0, and where maximum/minimum's operands tie,
each gets half the gradient.
"""

import numpy as np

from dezero.core import Function, Variable, _operand, array_of, record_unary


class Abs(Function):
    __slots__ = ()
    ufunc = np.abs

    def forward(self, x):
        return np.abs(x)

    def vjp(self, m, gy, x, y):
        xd = array_of(x)
        # sign(x) as one subtraction of two masks (0 at x = 0, torch's subgradient).
        return gy * np.subtract(xd > 0, xd < 0, dtype=xd.dtype)


class Sqrt(Function):
    __slots__ = ()
    ufunc = np.sqrt

    def forward(self, x):
        return np.sqrt(x)

    def vjp(self, m, gy, x, y):
        return gy / (2 * y)


class Maximum(Function):
    __slots__ = ()
    # x0 wins where wins(x0, x1); Minimum swaps the comparison. Class attributes, not methods:
    # a ufunc does not bind to the instance.
    wins = np.greater

    def forward(self, x0, x1):
        return np.maximum(x0, x1)

    def vjp(self, m, gy, x0, x1, y):
        x0d, x1d = array_of(x0), array_of(x1)
        dtype = array_of(y).dtype
        # Ties split the gradient half and half (torch.maximum's rule): the two still sum to gy.
        ties = np.equal(x0d, x1d).astype(dtype) * 0.5
        gx0 = gx1 = None
        if self.needs_input_grad(0):
            gx0 = gy * (self.wins(x0d, x1d).astype(dtype) + ties)
        if self.needs_input_grad(1):
            gx1 = gy * (self.wins(x1d, x0d).astype(dtype) + ties)
        return gx0, gx1


class Minimum(Maximum):
    __slots__ = ()
    wins = np.less

    def forward(self, x0, x1):
        return np.minimum(x0, x1)


class Where(Function):
    """x0 where the constant `condition` holds, else x1 (all three broadcast together)."""

    __slots__ = ("condition",)

    def __init__(self, condition):
        self.condition = condition

    def forward(self, x0, x1):
        return np.where(self.condition, x0, x1)

    def vjp(self, m, gy, x0, x1, y):
        # m.where, not a product with a 0/1 mask: an inf in gy must not turn into NaN
        # where the other branch was taken.
        zero = np.zeros((), dtype=array_of(gy).dtype)
        c = self.condition
        gx0 = m.where(c, gy, zero) if self.needs_input_grad(0) else None
        gx1 = m.where(c, zero, gy) if self.needs_input_grad(1) else None
        return gx0, gx1


def abs(x):
    return record_unary(Abs, x)


def sqrt(x):
    return record_unary(Sqrt, x)


def maximum(x0, x1):
    return Maximum()(_operand(x0, x1), _operand(x1, x0))


def minimum(x0, x1):
    return Minimum()(_operand(x0, x1), _operand(x1, x0))


def where(condition, x0, x1):
    """numpy's where(condition, x, y): a gradient flows to x where condition holds, to y
    elsewhere; the condition is data (a Variable's array is read, never differentiated)."""
    c = np.asarray(condition.data if isinstance(condition, Variable) else condition)
    if c.dtype != bool:
        if c.dtype.kind not in "iuf":
            raise TypeError(
                f"where's condition must be a boolean or numeric array, got dtype {c.dtype}"
            )
        c = c != 0
    return Where(c)(_operand(x0, x1), _operand(x1, x0))
