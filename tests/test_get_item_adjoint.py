"""Indexing's adjoint: a slice assignment for basic indices, np.add.at for fancy ones."""

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
