"""The fast paths of a training step: several-input ops recorded by `Function._record_one`,
the flat label index of softmax_cross_entropy and the gradients the sweep stores. Each
must give the book's graph and the generic path's gradients, bit for bit."""

import numpy as np
import pytest

import dezero.functions as F
from dezero import Function, Variable, no_grad, optimizers
from dezero.models import MLP


def _generic_record(self, inputs, y, held):
    return Function._record(self, inputs, (y,), held)


def _spiral_steps(dtype, steps=3):
    """Losses, parameters and gradients (every one, and the input batch's) of a few SGD steps."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 2)).astype(dtype)
    t = rng.integers(0, 3, 30)
    np.random.seed(0)
    model = MLP((10, 3))
    model(x[:1])  # make W, then cast every parameter to the step's dtype, as bench.training does
    for p in model.params():
        p.data = p.data.astype(dtype)
    optimizer = optimizers.SGD(lr=0.1).setup(model)
    arrays = []
    for _ in range(steps):
        y = model(x)
        loss = F.softmax_cross_entropy(y, t)
        model.cleargrads()
        loss.backward()
        batch = y.creator.inputs[0].creator.inputs[0].creator.inputs[0]
        arrays += [loss.data, batch.grad.data]
        arrays += [a for p in model.params() for a in (p.data.copy(), p.grad.data)]
        optimizer.update()
    return arrays


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_spiral_steps_match_the_generic_record_path_bitwise(dtype, monkeypatch):
    fast = _spiral_steps(dtype)
    monkeypatch.setattr(Function, "_record_one", _generic_record)
    generic = _spiral_steps(dtype)
    for i, (a, b) in enumerate(zip(fast, generic)):
        assert a.dtype == b.dtype == dtype, f"array {i}: dtype {a.dtype} vs {b.dtype}"
        assert a.tobytes() == b.tobytes(), f"array {i} differs from the generic path"


def test_a_multi_input_op_records_the_books_graph():
    x = np.ones((4, 2))
    W, b = Variable(np.ones((2, 3))), Variable(np.zeros(3))
    h = F.sin(W)  # generation 1
    y = F.linear(x, h, b)
    f = y.creator
    assert type(f) is F.Linear and y.creator is f
    wrapped, h_in, b_in = f.inputs
    assert type(wrapped) is Variable and wrapped.data is x and h_in is h and b_in is b
    assert f.generation == 1 and y.generation == 2
    assert f.outputs[0]() is y, "creator must hand the Function a weak reference to y"


def test_a_held_multi_input_function_knows_its_output_and_holds_it_weakly():
    f = F.Linear()
    y = f(Variable(np.ones((2, 2))), Variable(np.ones((2, 2))))
    assert f.outputs[0]() is y
    del y
    assert f.outputs[0]() is None


def test_no_grad_records_no_creator_for_a_multi_input_op():
    with no_grad():
        y = F.softmax_cross_entropy(Variable(np.ones((2, 3))), np.array([0, 2]))
    assert y.creator is None and y.generation == 0 and type(y.data) is np.ndarray


def test_create_graph_runs_through_linear_and_cross_entropy():
    rng = np.random.default_rng(1)
    x = Variable(rng.standard_normal((4, 3)))
    W = Variable(rng.standard_normal((3, 3)))
    t = np.array([0, 2, 1, 2])
    F.softmax_cross_entropy(F.linear(x, W), t).backward(create_graph=True)
    gx = x.grad
    assert gx.creator is not None, "create_graph must record the first gradient"
    x.cleargrad()
    F.sum(gx * gx).backward()

    # d/dx sum(gx^2) by central differences, gx from the fast sweep
    def g_sq(xd):
        v = Variable(xd)
        F.softmax_cross_entropy(F.linear(v, Variable(W.data)), t).backward()
        return float((v.grad.data**2).sum())

    eps, numeric = 1e-6, np.zeros_like(x.data)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x.data)
        d[i] = eps
        numeric[i] = (g_sq(x.data + d) - g_sq(x.data - d)) / (2 * eps)
    np.testing.assert_allclose(x.grad.data, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.uint8, np.uint64])
def test_cross_entropy_labels_of_any_integer_dtype_give_the_same_bits(label_dtype):
    x = np.random.default_rng(2).standard_normal((5, 4))[:, ::-1]  # not C-contiguous
    t = np.array([3, 0, 1, 3, 2])
    results = []
    for dtype in (np.int64, label_dtype):
        v = Variable(x)
        loss = F.softmax_cross_entropy(v, t.astype(dtype))
        loss.backward()
        results.append((loss.data.tobytes(), v.grad.data.tobytes()))
    assert results[0] == results[1]
    np.testing.assert_allclose(loss.data, F.softmax_cross_entropy_simple(x, t).data, rtol=1e-12)


def test_stored_gradients_are_writable_variables_of_the_inputs_dtype():
    x = Variable(np.ones((3, 4), dtype=np.float32))
    b = Variable(np.ones(4, dtype=np.float32))
    F.sum(F.broadcast_to(b, (3, 4)) * x).backward()  # b's gradient is a sum; x's a product
    for v in (x, b):
        assert type(v.grad) is Variable and v.grad.creator is None
        assert v.grad.data.dtype == np.float32 and v.grad.data.flags.writeable
        assert v.grad.data.shape == v.data.shape
