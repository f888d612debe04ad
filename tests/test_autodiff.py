"""dezero.grad, jvp and hvp against torch and jax, and what grad leaves alone.

Each computation is written once against an op namespace (`ops.sin`, `ops.grad`, ...) and
run by dezero, torch and jax, so a nested gradient is checked three ways at 1e-12.
"""

import types

import numpy as np
import pytest

import dezero
import dezero.functions as F
from dezero import Function, Variable

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

TOL = 1e-12


def dezero_ops():
    def grad(f, x):
        y = f(x)
        return dezero.grad(y, x, create_graph=True)[0]

    return types.SimpleNamespace(sin=F.sin, exp=F.exp, sum=F.sum, grad=grad)


def torch_ops():
    def grad(f, x):
        return torch.autograd.grad(f(x), x, create_graph=True)[0]

    return types.SimpleNamespace(sin=torch.sin, exp=torch.exp, sum=torch.sum, grad=grad)


def nested_quadratic(ops, w, p, steps):
    """`steps` inner gradient steps on sum(p**2 * w), then the outer loss sum(p**2)."""
    for _ in range(steps):
        p = p - 0.1 * ops.grad(lambda q: ops.sum(q**2 * w), p)
    return ops.sum(p**2)


def jax_nested_quadratic(w, p, steps):
    for _ in range(steps):
        p = p - 0.1 * jax.grad(lambda q: jnp.sum(q**2 * w))(p)
    return jnp.sum(p**2)


def close(a, b, tol=TOL):
    a = np.asarray(a)
    b = np.asarray(b)
    return np.allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.abs(b).max())))


W0 = np.array([0.5, -0.3, 1.2])
P0 = np.array([1.0, 2.0, -0.7])


@pytest.mark.parametrize("steps", [1, 5, 30])
def test_nested_quadratic_matches_torch_and_jax(steps):
    w = Variable(W0.copy())
    p = Variable(P0.copy())
    (gw,) = dezero.grad(nested_quadratic(dezero_ops(), w, p, steps), w)
    tw = torch.tensor(W0, requires_grad=True)
    tp = torch.tensor(P0, requires_grad=True)
    (tgw,) = torch.autograd.grad(nested_quadratic(torch_ops(), tw, tp, steps), tw)
    jgw = jax.grad(jax_nested_quadratic)(jnp.array(W0), jnp.array(P0), steps)
    assert close(gw.data, tgw.numpy()), (gw.data, tgw.numpy())
    assert close(gw.data, np.asarray(jgw)), (gw.data, jgw)


def test_grad_touches_no_grad_attribute():
    w = Variable(W0.copy())
    p = Variable(P0.copy())
    w.grad = Variable(np.full(3, 7.0))  # a stale gradient: must be neither read nor changed
    loss = nested_quadratic(dezero_ops(), w, p, 3)
    (gw,) = dezero.grad(loss, w)
    assert p.grad is None
    assert np.array_equal(w.grad.data, np.full(3, 7.0))
    (again,) = dezero.grad(loss, w)
    assert np.array_equal(gw.data, again.data)


def test_third_derivative_matches_torch():
    x = Variable(np.array([0.3, -1.1]))
    tx = torch.tensor(x.data, requires_grad=True)
    y, ty = F.sum(F.sin(x) * F.exp(x)), torch.sum(torch.sin(tx) * torch.exp(tx))
    for _ in range(3):
        (x_grad,) = dezero.grad(y, x, create_graph=True)
        (t_grad,) = torch.autograd.grad(ty, tx, create_graph=True)
        assert close(x_grad.data, t_grad.detach().numpy())
        y, ty = F.sum(x_grad), torch.sum(t_grad)
    assert x.grad is None


def test_several_outputs_inputs_and_grad_outputs_match_torch():
    a0, b0 = np.array([0.2, 0.9]), np.array([[1.5], [-0.4]])
    gy0 = np.array([[1.0, -2.0], [0.5, 3.0]])
    a, b = Variable(a0), Variable(b0)
    h = F.sin(a * b)  # an input that other inputs' paths run through
    outs = (h * a, F.sum(F.exp(h)))
    ga, gb, gh = dezero.grad(outs, [a, b, h], grad_outputs=[gy0, None])
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    th = torch.sin(ta * tb)
    touts = (th * ta, torch.sum(torch.exp(th)))
    expected = torch.autograd.grad(touts, [ta, tb, th], grad_outputs=[torch.tensor(gy0), None])
    for got, want in zip((ga, gb, gh), expected):
        assert close(got.data, want.numpy())


def test_unused_input_raises_or_gives_none():
    x, z = Variable(np.array(1.0)), Variable(np.array(2.0))
    y = F.sin(x)
    with pytest.raises(ValueError, match=r"inputs\[1\] was not used"):
        dezero.grad(y, [x, z])
    gx, gz = dezero.grad(y, [x, z], allow_unused=True)
    assert gz is None and close(gx.data, np.cos(1.0))


def test_grad_rejects_bad_arguments_naming_them():
    x = Variable(np.ones(3))
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a dezero Variable, got ndarray"):
        dezero.grad(F.sum(x), np.ones(3))
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(2,\)"):
        dezero.grad(F.sin(x), x, grad_outputs=np.ones(2))


class Counted(Function):
    """Identity whose book-style backward counts its calls."""

    calls = 0

    def forward(self, x):
        return x

    def backward(self, gy):
        Counted.calls += 1
        return gy


def test_grad_walks_only_between_outputs_and_inputs():
    w = Variable(np.array(0.5))
    history = w
    for _ in range(50):
        history = Counted()(F.sin(history))
    x = Variable(np.array(2.0))
    h = F.exp(x)
    y = F.sin(h) * history
    Counted.calls = 0
    (gh,) = dezero.grad(y, h)  # h sits above x: the sweep stops there
    assert Counted.calls == 0
    assert close(gh.data, np.cos(h.data) * history.data)
    y.backward()
    assert Counted.calls == 50  # backward still walks everything


def test_grad_of_a_chain_of_a_million_ops_needs_no_recursion():
    x = Variable(np.array(0.1))
    y = x
    for _ in range(10**6):
        y = F.sin(y)
    (gx,) = dezero.grad(y, x)
    assert np.isfinite(gx.data) and 0 < gx.data < 1
    assert x.grad is None


def test_jvp_matches_torch_and_jax():
    x0, v0 = np.array([0.3, -0.8, 1.1]), np.array([1.0, 0.5, -2.0])
    s0, t0 = np.array(0.7), np.array(0.25)

    def f(ops, x, s):
        return ops.sin(x) * s, ops.sum(ops.exp(x * s))

    ys, dots = dezero.jvp(lambda x, s: f(F, x, s), (x0, s0), (v0, t0))
    ns = types.SimpleNamespace(sin=torch.sin, exp=torch.exp, sum=torch.sum)
    t_ys, t_dots = torch.func.jvp(
        lambda x, s: f(ns, x, s),
        (torch.tensor(x0), torch.tensor(s0)),
        (torch.tensor(v0), torch.tensor(t0)),
    )
    j_ys, j_dots = jax.jvp(lambda x, s: f(jnp, x, s), (x0, s0), (v0, t0))
    for got, want, jwant in zip(dots, t_dots, j_dots):
        assert close(got.data, want.numpy()) and close(got.data, np.asarray(jwant))
    assert close(ys[1].data, t_ys[1].numpy())


def test_hvp_matches_torch():
    x0, v0 = np.array([0.3, -0.8, 1.1]), np.array([1.0, 0.5, -2.0])
    y, (hv,) = dezero.hvp(lambda x: F.sum(F.sin(x) * F.exp(x)), (x0,), (v0,))
    _, t_hv = torch.autograd.functional.hvp(
        lambda x: torch.sum(torch.sin(x) * torch.exp(x)), torch.tensor(x0), torch.tensor(v0)
    )
    assert close(hv.data, t_hv.numpy())
    assert close(y.data, np.sum(np.sin(x0) * np.exp(x0)))


def test_backward_after_grad_is_the_books():
    x = Variable(np.array(1.5))
    y = x**3
    (gx,) = dezero.grad(y, x, create_graph=True)
    y.backward()
    assert close(x.grad.data, 3 * 1.5**2) and close(gx.data, 3 * 1.5**2)
