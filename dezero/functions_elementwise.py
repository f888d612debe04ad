"""Elementwise functions: the book's (square, exp, log, sin, cos, tanh, sigmoid, relu,
leaky_relu, clip) and numpy's abs, sqrt, maximum, minimum and where, with numpy's signatures
and broadcasting. dezero.functions re-exports them.

Their derivatives at kinks follow torch: abs'(0) = 0, and where maximum/minimum's operands tie,
each gets half the gradient.
"""

import numpy as np

from dezero import array_ops
from dezero.compaction import record_unary
from dezero.core import Function, Variable, _operand, array_of


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


class Square(Function):
    __slots__ = ()

    def forward(self, x):
        return x * x

    def vjp(self, m, gy, x, y):
        return 2 * x * gy


class Exp(Function):
    __slots__ = ()
    ufunc = np.exp

    def forward(self, x):
        return np.exp(x)

    def vjp(self, m, gy, x, y):
        return gy * y


class Log(Function):
    __slots__ = ()
    ufunc = np.log

    def forward(self, x):
        return np.log(x)

    def vjp(self, m, gy, x, y):
        return gy / x


class Sin(Function):
    __slots__ = ()
    ufunc = np.sin

    def forward(self, x):
        return np.sin(x)

    def vjp(self, m, gy, x, y):
        return gy * m.cos(x)


class Cos(Function):
    __slots__ = ()
    ufunc = np.cos

    def forward(self, x):
        return np.cos(x)

    def vjp(self, m, gy, x, y):
        return gy * -m.sin(x)


class Tanh(Function):
    __slots__ = ()
    ufunc = np.tanh

    def forward(self, x):
        return np.tanh(x)

    def vjp(self, m, gy, x, y):
        return gy * (1 - y * y)


class Sigmoid(Function):
    # `complement` = sigmoid(-x), which the derivative y (1 - y) needs: 1 - y computed by
    # subtraction loses all digits once y ~ 1. Forward has every piece of it already.
    __slots__ = ("complement",)

    def forward(self, x):
        y, self.complement = array_ops.sigmoid_pair(x)
        return y

    def vjp(self, m, gy, x, y):
        # The fast sweep reuses forward's sigmoid(-x); a recorded graph needs it as a
        # function of x (its second derivative), so under create_graph it is rebuilt, by
        # forward's own formula where forward took e^-x / (1 + e^-x): the same bits.
        if m is array_ops:
            complement = self.complement
        elif array_ops.exp_neg_is_finite(x.data):
            e = m.exp(-x)
            complement = e / (1 + e)
        else:
            complement = m.sigmoid(-x)
        return gy * y * complement


class ReLU(Function):
    __slots__ = ()

    def forward(self, x):
        return np.maximum(x, 0)

    def vjp(self, m, gy, x, y):
        xd = array_of(x)
        return gy * (xd > 0).astype(xd.dtype)


class LeakyReLU(Function):
    __slots__ = ("slope",)

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope).astype(x.dtype, copy=False)

    def vjp(self, m, gy, x, y):
        xd = array_of(x)
        return gy * np.where(xd > 0, 1, self.slope).astype(xd.dtype)


class Clip(Function):
    __slots__ = ("x_min", "x_max")

    def __init__(self, x_min, x_max):
        self.x_min = x_min
        self.x_max = x_max

    def forward(self, x):
        return np.clip(x, self.x_min, self.x_max)

    def vjp(self, m, gy, x, y):
        xd = array_of(x)
        # Inside the closed interval the slope is 1; clipped elements get no gradient.
        mask = (xd >= self.x_min) & (xd <= self.x_max)
        return gy * mask.astype(xd.dtype)


def square(x):
    return Square()(x)


def exp(x):
    return record_unary(Exp, x)


def log(x):
    return record_unary(Log, x)


def sin(x):
    return record_unary(Sin, x)


def cos(x):
    return record_unary(Cos, x)


def tanh(x):
    return record_unary(Tanh, x)


def sigmoid(x):
    return Sigmoid()(x)


def relu(x):
    return ReLU()(x)


def leaky_relu(x, slope=0.2):
    return LeakyReLU(slope)(x)


def clip(x, x_min, x_max):
    return Clip(x_min, x_max)(x)
