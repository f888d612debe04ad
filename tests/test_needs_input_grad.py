"""Gradients nobody asked for are not computed: a raw array's in the eager sweep, an
input `dezero.grad` was not asked about, and a constant's in a replayed trace."""

import numpy as np
import pytest

import dezero
import dezero.functions as F
from dezero import Variable, array_ops
from dezero.arithmetic import Div, Mul, Pow, Power, Sub


class Spy(np.ndarray):
    """An array that counts the ufunc calls it takes part in."""

    calls = 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        Spy.calls += 1
        inputs = [np.asarray(a) if isinstance(a, Spy) else a for a in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)


def spy(values):
    return np.asarray(values, dtype=float).view(Spy)


OPS = {
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "sub": lambda a, b: a - b,
    "power": lambda a, b: a**b,
}


@pytest.mark.parametrize("name", OPS)
def test_a_constant_operands_gradient_is_not_computed(name):
    """The constant b is an ndarray: the gradient terms that would read the spied x (b's
    own gradient is gy * x for mul, and so on) are skipped; x's gradient is still right."""
    x = Variable(spy([1.5, 2.0]))
    b = np.array([0.5, 3.0])
    y = OPS[name](x, b)
    Spy.calls = 0
    F.sum(y).backward()
    expected = {"mul": b, "div": 1 / b, "sub": np.ones(2), "power": b * 1.5 ** (b - 1)}
    if name == "power":
        expected["power"] = b * np.asarray(x.data) ** (b - 1)
        assert Spy.calls == 1  # x ** (b - 1) for x's own gradient; not log(x) for b's
    else:
        assert Spy.calls == 0
    assert np.allclose(x.grad.data, expected[name])


def test_grad_skips_the_inputs_it_was_not_asked_about():
    w = Variable(spy([1.0, 2.0]))
    x = Variable(np.array([3.0, 4.0]))
    y = F.sum(x * w)
    Spy.calls = 0
    (gx,) = dezero.grad(y, x)
    assert Spy.calls == 1  # gy * w for x; w's gradient gy * x is never formed
    assert np.array_equal(gx.data, [1.0, 2.0])


@pytest.mark.parametrize("cls", [Mul, Div, Sub, Power])
def test_binary_vjps_return_none_for_an_unneeded_input(cls):
    f = cls()
    x0, x1 = Variable(np.array([2.0])), np.array([3.0])
    y = f(x0, x1)
    gx0, gx1 = f.vjp(array_ops, np.ones(1), x0.data, x1, y.data)
    assert gx1 is None and gx0 is not None


def test_pow_needs_no_skip_single_input():
    x = Variable(np.array([2.0]))
    y = Pow(3)(x)
    y.backward()
    assert np.allclose(x.grad.data, 12.0)


def test_replayed_tape_skips_a_constants_gradient(monkeypatch):
    """A closed-over Variable V is a constant of the trace: replay does not compute
    gy @ x.T for it, and Mul's vjp is told its second operand needs no gradient."""
    rng = np.random.default_rng(0)
    V = Variable(rng.standard_normal((3, 4)))
    c = Variable(rng.standard_normal((3, 1)))

    def f(x):
        return F.sum(F.matmul(V, x) * c)

    flags = []
    real_vjp = Mul.vjp

    def spying_vjp(self, m, gy, x0, x1, y):
        flags.append((self.needs_input_grad(0), self.needs_input_grad(1)))
        return real_vjp(self, m, gy, x0, x1, y)

    monkeypatch.setattr(Mul, "vjp", spying_vjp)  # before tracing: replay binds the vjp
    x0 = rng.standard_normal((4, 1))
    tape = dezero.trace(f, x0)
    calls = []
    real_matmul = array_ops.matmul
    monkeypatch.setattr(array_ops, "matmul", lambda a, b: calls.append(1) or real_matmul(a, b))
    flags.clear()
    value, (gx,) = tape.value_and_grad(x0)
    assert len(calls) == 1  # V.T @ g for x only
    assert flags == [(True, False)]
    assert np.allclose(gx, V.data.T @ c.data)


def test_a_square_written_as_x_times_x_computes_its_product_once_with_the_same_bits():
    rng = np.random.default_rng(3)
    data, gy = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    expected = gy * data + gy * data  # the two products the sweep used to add
    for create_graph in (False, True):
        x = Variable(data.copy())
        y = x * x
        y.grad = Variable(gy)  # the seed (backward's own arguments are the book's flags)
        y.backward(create_graph=create_graph)
        assert np.array_equal(x.grad.data, expected), create_graph
    x = Variable(spy(data))
    y = x * x
    y.grad = Variable(gy)
    Spy.calls = 0
    y.backward()
    assert Spy.calls == 1  # one gy * x, added to itself by the sweep, not two products
