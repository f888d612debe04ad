"""Indexing's adjoint: a slice assignment for basic indices, np.bincount for one float64
integer array, np.add.at for the other fancy ones."""

import numpy as np
import pytest

import dezero.functions as F
from dezero import Variable, array_ops

BASIC = [
    np.s_[:-1],
    np.s_[::-1],
    np.s_[5:0:-2],
    np.s_[3],
    np.s_[-2],
    np.s_[np.int64(1)],
    np.s_[..., 1],
    np.s_[None, 2:],
    np.s_[1:, None, ...],
    np.s_[..., None],
]
FANCY = [
    np.s_[[0, 0, 2]],
    np.s_[[1, 1], [2, 2]],
    np.s_[np.array([3, 3, 3])],
    np.s_[np.array([True, False, True, False, True, True])],
    np.s_[True],
]


def reference(gy, index, shape):
    gx = np.zeros(shape)
    np.add.at(gx, index, gy)
    return gx


@pytest.mark.parametrize("index", BASIC, ids=repr)
def test_basic_index_is_recognised(index):
    assert array_ops.is_basic_index(index)


@pytest.mark.parametrize("index", FANCY[:4], ids=repr)
def test_fancy_index_is_not_basic(index):
    assert not array_ops.is_basic_index(index)


def test_bool_is_not_a_basic_index():
    assert not array_ops.is_basic_index(True)
    assert not array_ops.is_basic_index((slice(None), False))


@pytest.mark.parametrize("index", BASIC + FANCY, ids=repr)
def test_get_item_gradient_matches_scatter_add(index):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((6, 3))
    x = Variable(x0)
    y = x[index]
    gy = rng.standard_normal(y.shape)
    F.sum(y * gy).backward()
    assert np.array_equal(x.grad.data, reference(gy, index, x0.shape))


@pytest.mark.parametrize("index", [np.s_[1:-1], np.s_[[0, 0, 1]]], ids=repr)
def test_second_order_through_indexing(index):
    x = Variable(np.array([0.5, 1.0, 2.0]))
    y = F.sum(x[index] ** 3)
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    F.sum(gx).backward()
    expected = reference(6 * np.asarray(x.data)[index], index, (3,))
    assert np.allclose(x.grad.data, expected)


GATHERS = [
    ((7,), np.array([[0, 6, 6], [-1, 3, -7]])),  # a 2-D index into a vector, negatives, repeats
    ((6, 3, 2), np.array([5, -6, 0, 0])),  # whole rows of a 3-D array
    ((4,), np.array([], dtype=np.int64)),
    ((5, 0), np.array([1, 1])),
    ((9,), np.array([2, 2, 2], dtype=np.int32)),
    ((5, 4), (slice(None), np.array([0, 1, 1, -1]))),  # gmm's padded[:, lower]
    ((2, 3, 4), (slice(None), slice(None), np.array([[0, 3], [3, 3]]))),
    ((2, 3, 4), (slice(None), np.array([2, 0, 2]))),  # rows of a middle axis
    ((3, 5, 2), (slice(None), np.array([4, 4]), slice(None))),  # not a gather: np.add.at
]


@pytest.mark.parametrize("shape, index", GATHERS, ids=repr)
def test_integer_array_gather_adjoint_is_bitwise_np_add_at(shape, index):
    """The bincount path sums in the order np.add.at does, so float64 gradients are the
    same bits; values of mixed magnitude make any reordering of the sums visible."""
    rng = np.random.default_rng(3)
    gy = rng.standard_normal(np.zeros(shape)[index].shape) * 10.0 ** rng.integers(-8, 9, 1)
    assert np.array_equal(array_ops.get_item_grad(gy, index, shape), reference(gy, index, shape))


def test_float32_gather_adjoint_accumulates_in_float32():
    """bincount sums in double; float32 keeps np.add.at so its rounding stays float32's."""
    gy = np.full(3, 1e-8, dtype=np.float32)
    gx = array_ops.get_item_grad(gy, np.array([0, 0, 0]), (2,))
    assert gx.dtype == np.float32
    expected = np.zeros(2, dtype=np.float32)
    np.add.at(expected, np.array([0, 0, 0]), gy)
    assert np.array_equal(gx, expected)
