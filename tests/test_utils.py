"""dezero.utils: numerical differentiation, gradient_check, array comparison."""

import numpy as np
import pytest

import dezero.functions as F
from dezero import Function, Variable
from dezero.utils import (
    array_allclose,
    array_equal,
    gradient_check,
    numerical_diff,
    numerical_grad,
)


def test_numerical_diff_is_central_difference_with_eps_1e4():
    # For x³ the central difference is exactly 3x² + eps²: this pins both the form and eps.
    assert numerical_diff(lambda x: x**3, Variable(np.array(1.0))) == pytest.approx(
        3 + 1e-8, abs=1e-11
    )
    assert numerical_diff(lambda x: x**3, Variable(np.array(1.0)), eps=1e-2) == pytest.approx(
        3 + 1e-4, abs=1e-11
    )


def test_numerical_diff_of_the_seed_function():
    def f(x):
        return F.square(F.exp(F.square(x)))

    assert numerical_diff(f, Variable(np.array(0.5))) == pytest.approx(3.297442541400256, rel=1e-7)


def test_numerical_grad_of_elementwise_and_reducing_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(numerical_grad(F.square, x), 2 * x, rtol=1e-8)
    np.testing.assert_allclose(
        numerical_grad(lambda v: F.sum(v, axis=1) * np.array([1.0, 2.0]), x),
        [[1.0, 1.0], [2.0, 2.0]],
        rtol=1e-8,
    )


def test_numerical_grad_passes_extra_arguments():
    x = np.array([1.0, 2.0])
    c = np.array([3.0, 4.0])
    np.testing.assert_allclose(numerical_grad(F.mul, x, c), c, rtol=1e-8)


def test_gradient_check_accepts_a_correct_gradient():
    assert gradient_check(F.tanh, np.random.default_rng(0).uniform(-1, 1, (3, 2)))
    assert gradient_check(F.mul, np.array([1.0, 2.0]), np.array([3.0, 4.0]))


class WrongSquare(Function):
    """x² with a planted wrong derivative (3x instead of 2x)."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return 3 * self.inputs[0] * gy


def test_gradient_check_rejects_a_wrong_gradient():
    assert gradient_check(lambda x: WrongSquare()(x), np.array([1.0, 2.0])) is False


def test_array_equal_compares_variables_and_ndarrays():
    a = np.array([1.0, 2.0])
    assert array_equal(Variable(a), a.copy())
    assert array_equal(a, Variable(a.copy()))
    assert not array_equal(Variable(a), a + 1e-12)


def test_array_allclose_uses_its_tolerances():
    a = np.array([1.0, 2.0])
    assert array_allclose(Variable(a), a + 1e-6)
    assert not array_allclose(Variable(a), a + 1e-3)
    assert array_allclose(a, a + 1e-3, rtol=0, atol=1e-2)
