"""Every function in dezero.functions, checked from the op table (bench/workloads/op_table.py).

Tests are generated from the table: forward against numpy, gradient against
`dezero.utils.numerical_grad` (float64), gradient against torch (by the fast sweep and by
`create_graph=True`), and float32 in → float32 out.
"""

import numpy as np
import pytest

import dezero
import dezero.functions as F
from bench.workloads.op_table import (
    CASES,
    GRAD_CASES,
    GRAD_IDS,
    IDS,
    OPS,
    TORCH_CASES,
    TORCH_IDS,
    cotangent,
    sample_inputs,
    torch,
)
from dezero import Variable
from dezero.utils import numerical_grad


@pytest.mark.parametrize(("record", "shapes"), CASES, ids=IDS)
def test_forward_on_ndarrays_matches_numpy(record, shapes):
    xs = sample_inputs(record, shapes)
    y = record.op(*xs)
    expected = np.asarray(record.ref(*xs))
    assert isinstance(y, Variable)
    assert type(y.data) is np.ndarray
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


def _weighted_sum(record, xs, i, gy):
    """sum(op(xs with input i replaced) * gy) as a function of input i alone."""

    def f(xi):
        args = list(xs)
        args[i] = xi
        return F.sum(record.op(*args) * gy)

    return f


@pytest.mark.parametrize(("record", "shapes"), GRAD_CASES, ids=GRAD_IDS)
def test_grad_matches_numerical_grad(record, shapes):
    xs = sample_inputs(record, shapes)
    gy = cotangent(np.asarray(record.ref(*xs)))
    variables = [Variable(x) for x in xs]
    F.sum(record.op(*variables) * gy).backward()
    for i, (x, v) in enumerate(zip(xs, variables)):
        expected = numerical_grad(_weighted_sum(record, xs, i, gy), x)
        assert v.grad is not None, f"input {i} got no gradient"
        assert v.grad.shape == x.shape, f"input {i}: grad shape differs from input shape"
        # NOTE: central differences with eps=1e-4 are accurate to ~1e-8 here, not 1e-15.
        np.testing.assert_allclose(
            v.grad.data, expected, rtol=1e-5, atol=1e-7, err_msg=f"grad of input {i}"
        )


def compare_with_torch(op, torch_op, xs, gy, forward_tol=1e-12, grad_tol=1e-10, create_graph=False):
    """Feed identical float64 inputs to dezero and torch; compare forward, then gradients."""
    variables = [Variable(x.copy()) for x in xs]
    tensors = [torch.tensor(x, requires_grad=True) for x in xs]
    y = op(*variables)
    y_torch = torch_op(*tensors)
    np.testing.assert_allclose(
        y.data,
        y_torch.detach().numpy(),
        rtol=forward_tol,
        atol=forward_tol,
        err_msg="forward differs from torch",
    )
    y.grad = Variable(gy)
    y.backward(create_graph=create_graph)
    y_torch.backward(torch.as_tensor(gy))
    for i, (v, t) in enumerate(zip(variables, tensors)):
        assert v.grad.shape == v.shape, f"gradient of input {i} has shape {v.grad.shape}"
        np.testing.assert_allclose(
            v.grad.data,
            t.grad.numpy(),
            rtol=grad_tol,
            atol=grad_tol,
            err_msg=f"gradient of input {i} differs from torch",
        )


# The same derivative line runs on ndarrays (the fast sweep) or records a graph (create_graph).
SWEEPS = pytest.mark.parametrize("create_graph", [False, True], ids=["fast", "create_graph"])


@SWEEPS
@pytest.mark.parametrize(("record", "shapes"), TORCH_CASES, ids=TORCH_IDS)
def test_forward_and_grad_match_torch(record, shapes, create_graph):
    if torch is None:
        pytest.skip("torch is not installed")
    xs = sample_inputs(record, shapes)
    gy = cotangent(np.asarray(record.ref(*xs)))
    compare_with_torch(record.op, record.torch_op, xs, gy, create_graph=create_graph)


@SWEEPS
@pytest.mark.parametrize(("record", "shapes"), GRAD_CASES, ids=GRAD_IDS)
def test_float32_inputs_give_float32_values_and_grads(record, shapes, create_graph):
    variables = [Variable(x) for x in sample_inputs(record, shapes, dtype=np.float32)]
    y = record.op(*variables)
    assert y.dtype == np.float32
    y.backward(create_graph=create_graph)
    for i, v in enumerate(variables):
        assert type(v.grad.data) is np.ndarray, f"grad of input {i} holds {type(v.grad.data)}"
        assert v.grad.dtype == np.float32, f"grad of input {i} is {v.grad.dtype}"
        assert v.grad.shape == v.shape, f"grad of input {i} has shape {v.grad.shape}"


def test_table_covers_every_public_function():
    # A record's name starts with the function it tests (`sum-axis0` tests `sum`).
    tested = {record.name.split("-")[0] for record in OPS}
    public = set(F.__all__) - {"get_item_grad"}  # get_item_grad is get_item's backward
    assert public <= tested, f"functions without an op record: {sorted(public - tested)}"


def test_dropout_in_train_mode_zeroes_and_rescales():
    np.random.seed(0)
    x = np.ones((100, 100))
    y = F.dropout(x, dropout_ratio=0.25).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert 0.7 < kept.mean() < 0.8


def test_max_splits_the_gradient_between_ties():
    x = Variable(np.array([1.0, 3.0, 3.0, 2.0]))
    F.max(x).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5, 0.0])


@pytest.mark.parametrize("axis", [None, 1], ids=["all", "axis1"])
@pytest.mark.parametrize("create_graph", [False, True], ids=["fast", "graph"])
def test_max_gradient_is_bitwise_gy_times_one_over_the_tie_count(axis, create_graph):
    # Three-way ties (1/3 is inexact) and signed gy: each winner gets exactly gy * (1 / c),
    # each loser gy * 0.0 (a signed zero), in both sweeps.
    x = np.array([[3.0, 1.0, 3.0, 3.0], [-2.0, 5.0, -2.0, 0.5], [7.0, 7.0, 7.0, 7.0]])
    gy = np.array([[-0.7, 1.3, 2.9]]) if axis is None else np.array([-0.7, 1.3, 2.9])
    v = Variable(x)
    y = F.max(v, axis=axis)
    weights = gy.sum() if axis is None else gy  # F.max over all: gy is the sum's weight
    (gx,) = dezero.grad(F.sum(y * weights), v, create_graph=create_graph)
    top = x.max(axis=axis, keepdims=True)
    mask = (x == top).astype(float)
    g = np.broadcast_to(np.reshape(weights, (-1, 1) if axis else ()), x.shape)
    expected = g * (mask / mask.sum(axis=axis, keepdims=True))
    assert gx.data.tobytes() == expected.tobytes()


def test_clip_passes_gradient_only_inside_the_interval():
    x = Variable(np.array([-2.0, 0.0, 2.0]))
    F.clip(x, -1.0, 1.0).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])


def test_relu_gradient_is_zero_for_negative_inputs():
    x = Variable(np.array([-1.0, 2.0]))
    F.relu(x).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0])


def test_sigmoid_gradient_keeps_full_precision_where_1_minus_y_would_round_to_0():
    # The fast vjp reuses forward's sigmoid(-x): e^-|x| / (1 + e^-|x|)^2 to the last digits.
    x = np.array([-700.0, -40.0, -1.0, -0.0, 0.0, 1.0, 40.0, 700.0])
    v = Variable(x)
    F.sum(F.sigmoid(v)).backward()
    e = np.exp(-np.abs(x))
    # NOTE: rtol 1e-15, not 0: both sides round a few times (1 - y would give 0 at |x| >= 40).
    np.testing.assert_allclose(v.grad.data, e / (1 + e) ** 2, rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_sigmoid_takes_the_stable_form_only_where_exp_of_minus_x_would_overflow(dtype):
    """1 / (1 + e^-x) is the fast form; a batch with an x below -log(max) takes the stable
    one. Both agree to a few roundings, neither overflows, and sigmoid is the pair's first."""
    from dezero import array_ops

    limit = np.log(np.finfo(dtype).max)
    body = np.linspace(-limit + 1.5, limit, 41).astype(dtype)
    past = np.append(body, dtype(-limit - 1))  # e^-x overflows here
    assert array_ops.exp_neg_is_finite(body) and not array_ops.exp_neg_is_finite(past)
    for x in (body, past, np.append(body, dtype(np.nan))):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y, complement = array_ops.sigmoid_pair(x)
        np.testing.assert_array_equal(y, array_ops.sigmoid(x))
        assert y.dtype == complement.dtype == dtype
    fast, stable = array_ops.sigmoid_pair(body), array_ops.sigmoid_pair(past)
    ulps, tiny = 4 * np.finfo(dtype).eps, float(np.finfo(dtype).smallest_subnormal)
    for f, s in zip(fast, stable):
        np.testing.assert_allclose(f, s[:-1], rtol=ulps, atol=tiny)
    assert stable[0][-1] > 0 or dtype != np.float64  # e^-710.8 is a float64 subnormal, not 0
    assert stable[1][-1] == 1
    assert not array_ops.exp_neg_is_finite(np.zeros(0))
    assert not array_ops.exp_neg_is_finite(np.arange(3))  # integers: the stable form


def test_sigmoid_second_derivative_past_the_overflow_point_matches_the_fast_sweep():
    # create_graph rebuilds sigmoid(-x) from x: bitwise where forward took e^-x / (1 + e^-x)
    # (the saved-state test below), to a rounding on a batch that took the stable form.
    x = np.array([-800.0, -3.0, 0.5, 40.0])
    fast, graph = Variable(x), Variable(x)
    F.sum(F.sigmoid(fast)).backward()
    F.sum(F.sigmoid(graph)).backward(create_graph=True)
    np.testing.assert_allclose(graph.grad.data, fast.grad.data, rtol=4e-16, atol=0)
    assert np.all(np.isfinite(graph.grad.data))


SAVED_STATE_CASES = {
    "sigmoid": (lambda x: F.sigmoid(x), np.array([[-50.0, -3.0, 0.0], [0.5, 3.0, 50.0]])),
    "softmax_cross_entropy": (
        lambda x: F.softmax_cross_entropy(x, np.array([2, 0])),
        np.array([[-1.0, 0.5, 3.0], [40.0, -2.0, 0.25]]),
    ),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", SAVED_STATE_CASES)
def test_vjp_from_saved_forward_state_equals_create_graph_gradient_bitwise(name, dtype):
    """Sigmoid and softmax_cross_entropy keep forward arrays for the fast sweep and rebuild
    them from x under create_graph: both give the same bits, however often backward runs."""
    op, x = SAVED_STATE_CASES[name]
    x = x.astype(dtype)
    fast, graph = Variable(x), Variable(x)
    y = F.sum(op(fast) * np.linspace(0.5, 2.0, 3).astype(dtype))
    y.backward()
    first = fast.grad.data.copy()
    fast.cleargrad()
    y.backward()  # a second sweep over the same graph must not see state the first changed
    F.sum(op(graph) * np.linspace(0.5, 2.0, 3).astype(dtype)).backward(create_graph=True)
    np.testing.assert_array_equal(first, fast.grad.data)
    np.testing.assert_array_equal(first, graph.grad.data)
    assert first.dtype == dtype


def test_array_ops_broadcast_to_same_shape_is_numpys_read_only_view():
    from dezero import array_ops

    x = np.arange(6.0).reshape(2, 3)
    for shape in ((2, 3), (4, 2, 3)):
        ours, numpys = array_ops.broadcast_to(x, shape), np.broadcast_to(x, shape)
        assert ours.shape == numpys.shape and ours.dtype == numpys.dtype
        assert np.array_equal(ours, numpys) and np.shares_memory(ours, x)
        assert not ours.flags.writeable  # writing through a gradient view must fail loudly
