"""Arithmetic Functions and Variable's operators (+ - * / ** and unary -).

This module only names the operators (VARIABLE_OPERATORS); dezero's __init__ installs
them on Variable, so importing arithmetic has no side effect on core.

A vjp returns each gradient at the broadcast shape; the sweep sums it back to its
input's shape (see dezero.sweep), so no op repeats that step. It returns None for an
input whose gradient no one reads (`Function.needs_input_grad`: a constant, or a
Variable a `dezero.grad` call did not ask about).

Scalars on either side are weakly typed: they take the other operand's float dtype, so
`float32_variable * 2.0` stays float32 (numpy 2 would promote a 0-d float64 array).
"""

import numpy as np

from dezero.core import Function, Variable, _operand


class Add(Function):
    __slots__ = ()

    def forward(self, x0, x1):
        return x0 + x1

    def vjp(self, m, gy, x0, x1, y):
        return gy, gy


class Sub(Function):
    __slots__ = ()

    def forward(self, x0, x1):
        return x0 - x1

    def vjp(self, m, gy, x0, x1, y):
        return gy, -gy if self.needs_input_grad(1) else None


class Mul(Function):
    __slots__ = ()

    def forward(self, x0, x1):
        return x0 * x1

    def vjp(self, m, gy, x0, x1, y):
        if x0 is x1:  # x * x: both products are gy * x, so compute it once (same bits)
            return (gy * x0,) * 2
        gx0 = gy * x1 if self.needs_input_grad(0) else None
        return gx0, gy * x0 if self.needs_input_grad(1) else None


class Div(Function):
    __slots__ = ()

    def forward(self, x0, x1):
        return x0 / x1

    def vjp(self, m, gy, x0, x1, y):
        gx0 = gy / x1
        if not self.needs_input_grad(1):
            return gx0, None
        return gx0 if self.needs_input_grad(0) else None, -gx0 * x0 / x1


class Neg(Function):
    __slots__ = ()

    def forward(self, x):
        return -x

    def vjp(self, m, gy, x, y):
        return -gy


class Pow(Function):
    """x ** c for a constant exponent c (the book's Pow)."""

    __slots__ = ("c",)

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x**self.c

    def vjp(self, m, gy, x, y):
        c = self.c
        return gy * c * x ** (c - 1)


class Power(Function):
    """x0 ** x1 with both operands differentiable."""

    __slots__ = ()

    def forward(self, x0, x1):
        return x0**x1

    def vjp(self, m, gy, x0, x1, y):
        # d/dx1 is y·log(x0): real only for x0 > 0, as in numpy/torch.
        gx0 = gy * x1 * x0 ** (x1 - 1) if self.needs_input_grad(0) else None
        return gx0, gy * y * m.log(x0) if self.needs_input_grad(1) else None


def add(x0, x1):
    return Add()(_operand(x0, x1), _operand(x1, x0))


def sub(x0, x1):
    return Sub()(_operand(x0, x1), _operand(x1, x0))


def rsub(x0, x1):
    return Sub()(_operand(x1, x0), x0)


def mul(x0, x1):
    return Mul()(_operand(x0, x1), _operand(x1, x0))


def div(x0, x1):
    return Div()(_operand(x0, x1), _operand(x1, x0))


def rdiv(x0, x1):
    return Div()(_operand(x1, x0), x0)


def neg(x):
    return Neg()(x)


def pow(x, c):
    if isinstance(c, Variable):
        return Power()(x, c)
    if isinstance(c, np.ndarray) and c.ndim > 0:
        return Power()(x, c)
    if isinstance(c, np.generic):
        c = c.item()  # a numpy scalar is weakly typed, like a Python one: float32 stays float32
    return Pow(c)(x)


def rpow(x, c):
    return Power()(_operand(c, x), x)


# Variable's operators, installed by the package's setup_variable() (the book's step 22).
VARIABLE_OPERATORS = {
    "__add__": add,
    "__radd__": add,
    "__sub__": sub,
    "__rsub__": rsub,
    "__mul__": mul,
    "__rmul__": mul,
    "__truediv__": div,
    "__rtruediv__": rdiv,
    "__neg__": neg,
    "__pow__": pow,
    "__rpow__": rpow,
}
