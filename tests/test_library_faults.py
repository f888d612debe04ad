"""Faults of the library itself: a gradient the engine gets wrong without saying so."""

import numpy as np
import pytest

import dezero.functions as F
from dezero import Variable

INTEGER_INPUTS = [
    pytest.param(np.array([1, 2, 3]), id="int64"),
    pytest.param(np.array([1, 2, 3], dtype=np.int8), id="int8"),
    pytest.param(np.array([True, False]), id="bool"),
]


@pytest.mark.parametrize("data", INTEGER_INPUTS)
@pytest.mark.parametrize(
    "f, df",
    [
        (F.sin, np.cos),
        (F.exp, np.exp),
        (lambda x: 0.5 * x, lambda x: np.full(x.shape, 0.5)),
    ],
    ids=["sin", "exp", "half"],
)
def test_integer_leaf_gets_the_float_gradient(data, f, df):
    x = Variable(data)
    F.sum(f(x)).backward()
    # numpy's own promotion decides the float type (sin of int8 is float16), as for y
    expected = df(data)
    assert x.grad.data.dtype.kind == "f"
    assert x.grad.data.dtype == f(Variable(data)).data.dtype
    np.testing.assert_allclose(x.grad.data, expected, rtol=np.finfo(expected.dtype).eps)


def test_integer_leaf_gradient_is_the_same_with_create_graph():
    grads = []
    for create_graph in (False, True):
        x = Variable(np.array([1, 2, 3]))
        F.sum(F.sin(x) * x).backward(create_graph=create_graph)
        grads.append(x.grad.data)
    assert grads[0].dtype == grads[1].dtype
    np.testing.assert_array_equal(grads[0], grads[1])


def test_float32_leaf_keeps_its_dtype_when_a_vjp_upcasts():
    x = Variable(np.array([1.0, 2.0], dtype=np.float32))
    F.sum(F.sin(x) * np.float64(0.5)).backward()
    assert x.grad.data.dtype == np.float32
