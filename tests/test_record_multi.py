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
    """Losses, parameters and gradients (every one, and the input batch's when it is a
    Variable) of a few SGD steps, the batch fed as an array and as a Variable."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 2)).astype(dtype)
    x_variable = Variable(x)
    t = rng.integers(0, 3, 30)
    np.random.seed(0)
    model = MLP((10, 3))
    # make W, then cast every parameter to the step dtype (as bench.experiments.training)
    model(x[:1])
    for p in model.params():
        p.data = p.data.astype(dtype)
    optimizer = optimizers.SGD(lr=0.1).setup(model)
    arrays = []
    for step in range(2 * steps):
        as_variable = step % 2 == 1
        x_variable.cleargrad()
        y = model(x_variable if as_variable else x)
        loss = F.softmax_cross_entropy(y, t)
        model.cleargrads()
        loss.backward()
        batch = y.creator.inputs[0].creator.inputs[0].creator.inputs[0]
        if as_variable:
            assert batch is x_variable
            arrays += [loss.data, batch.grad.data]
        else:  # an array is data: no gradient computed or stored
            assert batch.data is x and batch.grad is None
            arrays += [loss.data]
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
    assert isinstance(wrapped, Variable) and wrapped.data is x and h_in is h and b_in is b
    assert not f.needs_input_grad(0) and f.needs_input_grad(1) and f.needs_input_grad(2)
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


def test_an_array_argument_is_data_and_gets_no_gradient():
    """An ndarray passed to a Function is wrapped as a constant: the sweep stores no gradient
    for it (a vjp may skip computing one), every Variable's gradient is unchanged, and a
    Variable around the same array gets the gradient the array would have had."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 2))
    W, b = Variable(rng.standard_normal((2, 3))), Variable(rng.standard_normal(3))
    held = Variable(x.copy())
    for create_graph in (False, True):
        W.cleargrad(), b.cleargrad(), held.cleargrad()
        y = F.linear(x, W, b) * np.array([1.0, 2.0, 3.0])  # a constant in Mul too
        F.sum(y).backward(create_graph=create_graph)
        constant = y.creator.inputs[0].creator.inputs[0]
        assert constant.data is x and constant.grad is None
        assert y.creator.inputs[1].grad is None
        gW, gb = W.grad.data.copy(), b.grad.data.copy()
        W.cleargrad(), b.cleargrad()
        F.sum(F.linear(held, W, b) * np.array([1.0, 2.0, 3.0])).backward(create_graph=create_graph)
        np.testing.assert_array_equal(W.grad.data, gW)
        np.testing.assert_array_equal(b.grad.data, gb)
        np.testing.assert_allclose(held.grad.data, np.tile([1.0, 2.0, 3.0] @ W.data.T, (4, 1)))


def test_a_book_style_function_given_an_array_still_gives_its_variables_gradients():
    class Scale(Function):  # the book's way: forward/backward, no vjp
        def forward(self, x, k):
            return x * k

        def backward(self, gy):
            x, k = self.inputs
            return gy * k, gy * x

    v, k = Variable(np.array([1.0, 2.0])), np.array([3.0, 4.0])
    y = Scale()(v, k)
    F.sum(y).backward()
    np.testing.assert_array_equal(v.grad.data, k)
    assert y.creator.inputs[1].grad is None


def test_matmul_and_convolutions_skip_an_array_operands_gradient_only():
    rng = np.random.default_rng(2)
    a, B = rng.standard_normal((3, 4)), Variable(rng.standard_normal((4, 2)))
    A = Variable(a.copy())
    F.sum(F.matmul(a, B)).backward()
    gB = B.grad.data.copy()
    B.cleargrad()
    F.sum(F.matmul(A, B)).backward()
    np.testing.assert_array_equal(B.grad.data, gB)
    b = Variable(rng.standard_normal((4, 2)))
    y = F.matmul(A, b.data)  # the right operand as an array
    F.sum(y).backward()
    assert y.creator.inputs[1].grad is None and A.grad is not None
    x = rng.standard_normal((2, 3, 5, 5))
    W, bias = Variable(rng.standard_normal((4, 3, 3, 3))), Variable(np.zeros(4))
    for conv in (F.conv2d, F.deconv2d):
        W_ = W if conv is F.conv2d else Variable(rng.standard_normal((3, 4, 3, 3)))
        bias_ = bias if conv is F.conv2d else Variable(np.zeros(4))
        xs = x if conv is F.conv2d else rng.standard_normal((2, 3, 5, 5))
        held = Variable(xs.copy())
        F.sum(conv(xs, W_, bias_)).backward()
        gW = W_.grad.data.copy()
        W_.cleargrad()
        F.sum(conv(held, W_, bias_)).backward()
        np.testing.assert_array_equal(W_.grad.data, gW)
        assert held.grad is not None and held.grad.shape == xs.shape
