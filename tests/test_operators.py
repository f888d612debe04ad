"""Operators + - * / ** and unary - between Variables, ndarrays and scalars on either side."""

import operator

import numpy as np
import pytest

from dezero import Variable

# Each binary operator with its partial derivatives (d/da, d/db) at (a, b).
BINARY_OPERATORS = {
    "+": (operator.add, lambda a, b: 1.0, lambda a, b: 1.0),
    "-": (operator.sub, lambda a, b: 1.0, lambda a, b: -1.0),
    "*": (operator.mul, lambda a, b: b, lambda a, b: a),
    "/": (operator.truediv, lambda a, b: 1 / b, lambda a, b: -a / b**2),
    "**": (operator.pow, lambda a, b: b * a ** (b - 1), lambda a, b: a**b * np.log(a)),
}

# How a plain value of `dtype` is wrapped as an operand. Values stay positive (for **).
OPERAND_KINDS = {
    "variable": lambda value, dtype: Variable(np.asarray(value, dtype=dtype)),
    "ndarray": lambda value, dtype: np.asarray(value, dtype=dtype),
    "python-float": lambda value, dtype: float(value),
    "python-int": lambda value, dtype: int(round(value)),
    # A float64 numpy scalar: numpy would promote float32 with it; dezero must not.
    "numpy-float64": lambda value, dtype: np.float64(value),
}
KIND_PAIRS = [
    (left, right)
    for left in OPERAND_KINDS
    for right in OPERAND_KINDS
    if "variable" in (left, right)
]
A, B = 1.5, 2.0  # python-int rounds A to 2


def _value(operand):
    return operand.data if isinstance(operand, Variable) else np.asarray(operand)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(("left", "right"), KIND_PAIRS, ids=[f"{lt}-{rt}" for lt, rt in KIND_PAIRS])
@pytest.mark.parametrize("symbol", BINARY_OPERATORS)
def test_binary_operator_value_type_dtype_and_grads(symbol, left, right, dtype):
    op, d_left, d_right = BINARY_OPERATORS[symbol]
    a = OPERAND_KINDS[left](A, dtype)
    b = OPERAND_KINDS[right](B, dtype)
    y = op(a, b)
    av, bv = _value(a).astype(np.float64), _value(b).astype(np.float64)

    assert isinstance(y, Variable), f"{left} {symbol} {right} gave {type(y).__name__}"
    assert type(y.data) is np.ndarray and y.ndim == 0, "0-d result must be an ndarray"
    assert y.dtype == dtype, f"{left} {symbol} {right} gave {y.dtype}"
    np.testing.assert_allclose(y.data, op(av, bv), rtol=1e-6)

    y.backward()
    for operand, derivative in ((a, d_left), (b, d_right)):
        if isinstance(operand, Variable):
            grad = operand.grad.data
            assert type(grad) is np.ndarray and grad.dtype == dtype
            np.testing.assert_allclose(grad, derivative(av, bv), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_unary_minus_value_dtype_and_grad(dtype):
    x = Variable(np.array([1.0, -2.0], dtype=dtype))
    y = -x
    np.testing.assert_array_equal(y.data, [-1.0, 2.0])
    assert y.dtype == dtype
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, -1.0])
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("symbol", BINARY_OPERATORS)
def test_ndarray_on_the_left_broadcasts_and_returns_a_variable(symbol):
    op, d_left, d_right = BINARY_OPERATORS[symbol]
    a = np.array([[1.0, 2.0, 3.0], [0.5, 1.5, 2.5]])
    x = Variable(np.array([1.5, 2.0, 0.5]))
    y = op(a, x)
    assert isinstance(y, Variable)
    np.testing.assert_allclose(y.data, op(a, x.data))
    y.backward()
    assert x.grad.shape == (3,)
    expected = np.broadcast_to(d_right(a, x.data), a.shape).sum(axis=0)
    np.testing.assert_allclose(x.grad.data, expected)


def test_scalar_base_to_variable_power():
    x = Variable(np.array(3.0))
    y = 2**x
    assert y.data == 8.0
    y.backward()
    assert np.isclose(x.grad.data, 8.0 * np.log(2.0))


def test_variable_base_to_variable_power_differentiates_both():
    x = Variable(np.array(2.0))
    c = Variable(np.array(3.0))
    y = x**c
    y.backward()
    assert y.data == 8.0
    assert np.isclose(x.grad.data, 12.0)
    assert np.isclose(c.grad.data, 8.0 * np.log(2.0))


def test_chained_operators_give_the_expected_polynomial_gradient():
    x = Variable(np.array(2.0))
    y = 3 * x**3 - x / 4 + 1 - (-x)
    y.backward()
    assert y.data == 3 * 8 - 0.5 + 1 + 2
    assert x.grad.data == 9 * 4 - 0.25 + 1
