"""The numpy-style functions beyond the book's where the op table cannot look: ties and kinks
(against torch, first and second order), inputs numpy accepts that the table does not draw,
wrong inputs, constants, and the book's Variable methods. Values, gradients and second
derivatives at ordinary points are generated from bench/workloads/op_table_numpy.py."""

import numpy as np
import pytest

import dezero.functions as F
from bench.workloads.op_record import torch
from dezero import Variable, array_ops

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _dezero_first_and_second(op, xs, gy, vs):
    """Forward, the fast sweep's gradient, create_graph's gradient and H v along vs."""
    variables = [Variable(x.copy()) for x in xs]
    y = op(*variables)
    F.sum(y * gy).backward(create_graph=True)
    grads = [v.grad for v in variables]
    for v in variables:
        v.cleargrad()
    directional = F.sum(grads[0] * vs[0])
    for g, v in zip(grads[1:], vs[1:]):
        directional = directional + F.sum(g * v)
    directional.backward()
    fast = [Variable(x.copy()) for x in xs]
    F.sum(op(*fast) * gy).backward()
    hvps = [np.zeros_like(x) if v.grad is None else v.grad.data for x, v in zip(xs, variables)]
    return y.data, [v.grad.data for v in fast], [g.data for g in grads], hvps


def _torch_first_and_second(torch_op, xs, gy, vs):
    tensors = [torch.tensor(x, requires_grad=True) for x in xs]
    y = torch_op(*tensors)
    grads = torch.autograd.grad((y * torch.as_tensor(gy)).sum(), tensors, create_graph=True)
    terms = [(g * torch.as_tensor(v)).sum() for g, v in zip(grads, vs) if g.requires_grad]
    hvps = [None] * len(xs)  # a piecewise linear op: its gradient is a constant
    if terms:
        hvps = torch.autograd.grad(sum(terms), tensors, allow_unused=True)
    hvps = [np.zeros_like(x) if h is None else h.numpy(force=True) for x, h in zip(xs, hvps)]
    return y.detach().numpy(), [g.detach().numpy() for g in grads], hvps


def assert_matches_torch(op, torch_op, *xs):
    """Forward, the fast sweep's gradient, create_graph's, and H v, each against torch."""
    rng = np.random.default_rng(0)
    gy = rng.uniform(0.5, 1.5, op(*xs).shape)
    vs = [rng.uniform(0.5, 1.5, np.shape(x)) for x in xs]
    y, fast, graph, hvps = _dezero_first_and_second(op, xs, gy, vs)
    want_y, want_grads, want_hvps = _torch_first_and_second(torch_op, xs, gy, vs)
    np.testing.assert_allclose(y, want_y, rtol=1e-14, err_msg="forward differs from torch")
    for i in range(len(xs)):
        for stage, got, want in (
            ("fast gradient", fast[i], want_grads[i]),
            ("create_graph gradient", graph[i], want_grads[i]),
            ("Hessian-vector product", hvps[i], want_hvps[i]),
        ):
            np.testing.assert_allclose(got, want, rtol=1e-14, err_msg=f"{stage} of input {i}")


TIES = np.array([1.0, 2.0, 3.0, -0.0, 2.0])
OTHERS = np.array([2.0, 2.0, 1.0, 0.0, 2.0])


@needs_torch
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_split_ties_half_and_half_like_torch(name):
    op, torch_op = getattr(F, name), getattr(torch, name)
    # squares inside, so the second derivative depends on how ties split the gradient
    assert_matches_torch(lambda a, b: op(a * a, b), lambda a, b: torch_op(a * a, b), TIES, OTHERS)
    # a scalar operand (relu as maximum(x, 0)): its gradient sums the ties' halves
    assert_matches_torch(lambda a, b: op(a, b), lambda a, b: torch_op(a, b), TIES, np.array(2.0))
    x = Variable(np.array([0.0, 1.0]))
    F.sum(op(x, 0.0)).backward()
    assert x.grad.data[0] == 0.5


@needs_torch
def test_abs_gradient_at_zero_is_zero_like_torch():
    x = np.array([-1.5, -0.0, 0.0, 2.0])
    assert_matches_torch(lambda a: F.abs(a) * a, lambda a: a.abs() * a, x)
    v = Variable(x)
    F.sum(F.abs(v)).backward()
    np.testing.assert_array_equal(v.grad.data, [-1.0, 0.0, 0.0, 1.0])


@needs_torch
def test_sqrt_and_logsumexp_second_derivatives_through_their_outputs_match_torch():
    x = np.array([[0.25, 1.0, 4.0], [2.0, 3.0, 0.5]])
    assert_matches_torch(lambda a: F.sqrt(a) * a, lambda a: a.sqrt() * a, x)
    assert_matches_torch(
        lambda a: F.logsumexp(a * a, axis=-1, keepdims=True),
        lambda a: (a * a).logsumexp(-1, keepdim=True),
        x,
    )


def test_logsumexp_of_infinite_slices_is_that_infinity_without_warnings():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [1.0, 2.0]])
    with np.errstate(all="raise"):
        y = F.logsumexp(x, axis=1).data
    assert y[0] == -np.inf and y[1] == np.inf
    assert y[2] == pytest.approx(2.0 + np.log1p(np.exp(-1.0)), rel=1e-15)
    assert F.logsumexp(np.zeros((2, 3)), axis=(0, -1), keepdims=True).shape == (1, 1)
    assert F.logsumexp(np.zeros((2, 3))).shape == ()


def test_log_softmax_forward_is_bitwise_the_formula_it_had_before_logsumexp_was_shared():
    x = np.random.default_rng(0).normal(size=(4, 5)) * 30
    x_max = x.max(axis=1, keepdims=True)
    before = x - (x_max + np.log(np.exp(x - x_max).sum(axis=1, keepdims=True)))
    np.testing.assert_array_equal(F.log_softmax(x).data, before)


def test_concatenate_of_one_array_is_a_copy_with_its_gradient():
    x = Variable(np.arange(6.0).reshape(2, 3))
    for create_graph in (False, True):
        x.cleargrad()
        y = F.concatenate([x], axis=-1)
        assert y.data is not x.data
        np.testing.assert_array_equal(y.data, x.data)
        F.sum(y * y).backward(create_graph=create_graph)
        np.testing.assert_array_equal(x.grad.data, 2 * x.data)


def test_concatenate_and_stack_take_an_array_as_the_sequence_of_its_rows_like_numpy():
    x = Variable(np.arange(6.0).reshape(2, 3))
    y = F.concatenate(x)
    np.testing.assert_array_equal(y.data, np.concatenate(x.data))
    F.sum(y * np.arange(6.0)).backward()
    np.testing.assert_array_equal(x.grad.data, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(F.stack(x.data, axis=1).data, np.stack(x.data, axis=1))


def test_constant_operands_get_no_gradient_computed():
    """An array passed straight in is a constant: each vjp returns None for it."""
    a, b = np.ones((2, 3)), Variable(np.ones((3, 2)))
    cases = [
        F.einsum("ij,jk->ik", a, b),
        F.concatenate([a, b.T]),
        F.stack([a, b.T]),
        F.maximum(a, b.T),
        F.minimum(a, b.T),
        F.where(a > 0, a, b.T),
    ]
    for y in cases:
        f = y.creator
        gxs = f.vjp(array_ops, np.ones_like(y.data), *[x.data for x in f.inputs], y.data)
        name = type(f).__name__
        assert gxs[0] is None, f"{name} computed the constant's gradient"
        assert gxs[1] is not None, f"{name} skipped the Variable's gradient"


def test_where_keeps_an_infinite_cotangent_out_of_the_branch_not_taken():
    x0, x1 = Variable(np.array([1.0, 2.0])), Variable(np.array([3.0, 4.0]))
    y = F.where(Variable(np.array([True, False])), x0, x1)
    np.testing.assert_array_equal(y.data, [1.0, 4.0])
    y.grad = Variable(np.array([np.inf, np.inf]))
    y.backward()
    np.testing.assert_array_equal(x0.grad.data, [np.inf, 0.0])
    np.testing.assert_array_equal(x1.grad.data, [0.0, np.inf])


def test_einsum_optimize_gives_the_gradients_of_the_plain_contraction():
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=s) for s in ((2, 3), (3, 4), (4, 5))]
    grads = []
    for optimize in (False, True):
        vs = [Variable(x) for x in xs]
        F.sum(F.einsum("ij,jk,kl->il", *vs, optimize=optimize)).backward()
        grads.append([v.grad.data for v in vs])
    for plain, optimized in zip(*grads):
        np.testing.assert_allclose(optimized, plain, rtol=1e-14)


def test_variable_methods_are_the_books_matmul_dot_max_min_and_matmul_operator():
    x = Variable(np.arange(6.0).reshape(2, 3))
    v = Variable(np.array([1.0, -1.0, 2.0]))
    np.testing.assert_array_equal(x.matmul(v).data, x.data @ v.data)
    np.testing.assert_array_equal((x @ v).data, x.data @ v.data)
    np.testing.assert_array_equal(v.dot(v).data, 6.0)
    np.testing.assert_array_equal(x.max(axis=1, keepdims=True).data, [[2.0], [5.0]])
    np.testing.assert_array_equal(x.min(axis=0).data, [0.0, 1.0, 2.0])
    y = np.ones((4, 2)) @ x  # an ndarray on the left defers to Variable.__rmatmul__
    assert isinstance(y, Variable)
    F.sum(y).backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 4.0))


ERRORS = {
    "concatenate-empty": (lambda: F.concatenate([]), ValueError, "at least one array.*list"),
    "concatenate-not-a-sequence": (lambda: F.concatenate(3.0), TypeError, "float"),
    "concatenate-none-item": (lambda: F.concatenate([np.ones(2), None]), TypeError, "item 1"),
    "concatenate-shapes": (
        lambda: F.concatenate([np.ones((2, 3)), np.ones((2, 4))]),
        ValueError,
        "size 3 .* size 4",
    ),
    "concatenate-axis": (lambda: F.concatenate([np.ones(2)], axis=1), ValueError, "axis 1"),
    "stack-shapes": (lambda: F.stack([np.ones(2), np.ones(3)]), ValueError, r"\(2,\), \(3,\)"),
    "stack-empty": (lambda: F.stack(()), ValueError, "at least one array.*tuple"),
    "where-str-condition": (lambda: F.where(np.array(["a"]), 1.0, 2.0), TypeError, "<U1"),
    "einsum-not-a-str": (lambda: F.einsum(np.ones(2), [0]), TypeError, "ndarray"),
    "einsum-no-operands": (lambda: F.einsum("ij"), ValueError, "'ij'"),
    "einsum-too-many-labels": (lambda: F.einsum("ijk", np.ones((2, 2))), ValueError, "operand"),
    "tril-0d": (lambda: F.tril(np.float64(1.0)), ValueError, "0-d"),
    "triu-0d": (lambda: F.triu(Variable(np.array(1.0))), ValueError, "0-d"),
}


@pytest.mark.parametrize(("call", "error", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_wrong_inputs_raise_an_error_naming_the_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_trace_of_the_new_functions_replays_bitwise():
    import dezero

    condition = np.arange(48).reshape(2, 3, 8) % 3 == 0

    def f(x, W, v):
        h = F.einsum("ij,jk->ik", x, W)
        h = F.stack([F.concatenate([h, F.abs(h)], axis=-1), F.sqrt(F.abs(h) + 1) @ np.ones((4, 8))])
        h = F.maximum(h, 0.1) + F.minimum(h, -0.1) + F.where(condition, h, 0.0)
        w = F.concatenate([v, v, v[:2]])
        return F.sum(F.logsumexp(F.tril(h[0]), axis=1)) + F.sum(F.matmul(F.triu(h[1]), w))

    rng = np.random.default_rng(0)
    tape = dezero.trace(f, *[rng.normal(size=s) for s in ((3, 4), (4, 4), (3,))])
    arrays = [rng.normal(size=s) for s in ((3, 4), (4, 4), (3,))]
    value, grads = tape.value_and_grad(*arrays)
    variables = [Variable(a) for a in arrays]
    y = f(*variables)
    y.backward()
    assert value == y.data
    for g, v in zip(grads, variables):
        np.testing.assert_array_equal(g, v.grad.data)
