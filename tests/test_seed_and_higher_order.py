"""The seed example (the book's step 7) and higher derivatives through create_graph."""

import numpy as np
import pytest

import dezero.functions as F
from dezero import Function, Variable


def test_seed_example_gives_the_exact_gradient():
    x = Variable(np.array(0.5))
    y = F.square(F.exp(F.square(x)))
    y.backward()
    assert x.grad.data == 3.297442541400256


class BookSquare(Function):
    """The book's step-7 Square: ndarrays in and out, the input read via self.input.data."""

    def forward(self, x):
        return x**2

    def backward(self, gy):
        x = self.input.data
        return 2 * x * gy


class BookExp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        x = self.input.data
        return np.exp(x) * gy


def test_book_style_functions_run_on_the_engine():
    x = Variable(np.array(0.5))
    a = BookSquare()(x)
    b = BookExp()(a)
    y = BookSquare()(b)
    assert y.creator.input is b and b.creator.input is a and a.creator.input is x
    assert y.creator.output is y
    y.backward()
    assert x.grad.data == 3.297442541400256


def test_book_style_function_mixes_with_builtins():
    x = Variable(np.array([0.5, -1.0]))
    y = F.sum(F.sin(BookSquare()(F.exp(x))))
    y.backward()
    expected = np.cos(np.exp(2 * x.data)) * 2 * np.exp(2 * x.data)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)


def nth_derivative(f, x, n):
    """The n-th derivative of f at x (elementwise), by repeated backward(create_graph=True)."""
    x = Variable(x)
    y = f(x)
    for _ in range(n):
        x.cleargrad()
        y.backward(create_graph=True)
        y = x.grad
    return y.data


def _tanh_4th(x):
    t = np.tanh(x)
    return 8 * t * (1 - t**2) * (2 - 3 * t**2)


@pytest.mark.parametrize(
    ("name", "f", "closed_form"),
    [("sin", F.sin, np.sin), ("tanh", F.tanh, _tanh_4th)],
    ids=["sin", "tanh"],
)
def test_fourth_derivative_matches_closed_form(name, f, closed_form):
    x = np.linspace(-2.0, 2.0, 9)
    np.testing.assert_allclose(nth_derivative(f, x, 4), closed_form(x), rtol=1e-12, atol=1e-12)


def test_derivatives_of_sin_cycle_through_cos_and_sin():
    x = np.linspace(-2.0, 2.0, 5)
    expected = [np.cos(x), -np.sin(x), -np.cos(x)]
    for n, value in enumerate(expected, start=1):
        np.testing.assert_allclose(nth_derivative(F.sin, x, n), value, rtol=1e-13, atol=1e-13)


def test_newton_method_minimises_quartic_in_at_most_seven_steps():
    def f(x):
        return x**4 - 2 * x**2

    x = Variable(np.array(2.0))
    for step in range(1, 11):
        y = f(x)
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        gx2 = x.grad
        if step == 1:  # f'(2) = 4·8 − 4·2, f''(2) = 12·4 − 4
            assert (gx.data, gx2.data) == (24.0, 44.0)
        x.data = x.data - gx.data / gx2.data
        if abs(x.data - 1.0) < 1e-10:
            break
    assert abs(x.data - 1.0) < 1e-10
    assert step <= 7, f"took {step} Newton steps"
