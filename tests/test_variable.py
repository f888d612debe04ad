"""The Variable API, Parameter, as_array/as_variable and the Config switches."""

import numpy as np
import pytest

import dezero
import dezero.functions as F
from dezero import Config, Parameter, Variable, as_array, as_variable, no_grad, using_config


@pytest.mark.parametrize(
    ("data", "type_name"),
    [(1.0, "float"), (3, "int"), ([1.0, 2.0], "list"), ("abc", "str")],
)
def test_variable_rejects_non_ndarray_data_naming_its_type(data, type_name):
    with pytest.raises(TypeError, match=type_name):
        Variable(data)


def test_variable_accepts_none_data():
    x = Variable(None)
    assert x.data is None
    assert repr(x) == "variable(None)"


def test_variable_attributes():
    data = np.arange(6.0).reshape(2, 3)
    x = Variable(data, name="x")
    assert x.data is data
    assert x.name == "x"
    assert x.grad is None and x.creator is None and x.generation == 0
    assert (x.shape, x.ndim, x.size, x.dtype) == ((2, 3), 2, 6, np.float64)
    assert len(x) == 2


def test_T_transposes():
    x = Variable(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.T.data, x.data.T)


def test_repr_indents_rows_under_variable():
    assert repr(Variable(np.array(1.5))) == "variable(1.5)"
    assert repr(Variable(np.array([[1, 2], [3, 4]]))) == "variable([[1 2]\n          [3 4]])"


def test_cleargrad_drops_the_gradient():
    x = Variable(np.array(3.0))
    F.square(x).backward()
    assert x.grad.data == 6.0
    x.cleargrad()
    assert x.grad is None


def test_second_backward_accumulates_into_leaf_grad():
    x = Variable(np.array(3.0))
    F.square(x).backward()
    F.square(x).backward()
    assert x.grad.data == 12.0


def test_unchain_removes_creator():
    y = F.sin(Variable(np.array(1.0)))
    y.unchain()
    assert y.creator is None


def test_unchain_backward_cuts_every_edge_above():
    x = Variable(np.array(1.0))
    a = F.sin(x)
    b = F.exp(a)
    y = F.add(b, a)
    y.unchain_backward()
    assert a.creator is None and b.creator is None
    y.backward()
    assert x.grad is None


@pytest.mark.parametrize(
    "shape_args", [((3, 2),), (3, 2), ([3, 2],)], ids=["tuple", "args", "list"]
)
def test_reshape_accepts_tuple_or_separate_ints(shape_args):
    x = Variable(np.arange(6.0).reshape(2, 3))
    y = x.reshape(*shape_args)
    assert y.shape == (3, 2)
    y.backward()
    assert x.grad.shape == (2, 3)


@pytest.mark.parametrize(
    ("axes", "expected_shape"),
    [((), (4, 3, 2)), ((1, 0, 2), (3, 2, 4)), (((2, 0, 1),), (4, 2, 3)), ((None,), (4, 3, 2))],
    ids=["none", "args", "tuple", "None"],
)
def test_transpose_axes_forms(axes, expected_shape):
    x = Variable(np.arange(24.0).reshape(2, 3, 4))
    y = x.transpose(*axes)
    assert y.shape == expected_shape
    np.testing.assert_array_equal(y.data, x.data.transpose(*axes))


@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (0, False), (1, True), ((0, 1), True)]
)
def test_sum_method_matches_numpy(axis, keepdims):
    x = Variable(np.arange(6.0).reshape(2, 3))
    y = x.sum(axis, keepdims)
    np.testing.assert_array_equal(y.data, x.data.sum(axis=axis, keepdims=keepdims))
    y.backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


@pytest.mark.parametrize(
    "index",
    [1, (slice(None), 1), (np.array([0, 0]),), Ellipsis],
    ids=["int", "col", "fancy", "..."],
)
def test_indexing_forward_and_scatter_back(index):
    x = Variable(np.arange(6.0).reshape(2, 3))
    y = x[index]
    np.testing.assert_array_equal(y.data, x.data[index])
    y.backward()
    expected = np.zeros((2, 3))
    np.add.at(expected, index, 1.0)
    np.testing.assert_array_equal(x.grad.data, expected)


def test_parameter_is_a_variable_that_learns():
    W = Parameter(np.array([1.0, 2.0]), name="W")
    assert isinstance(W, Variable)
    assert not isinstance(Variable(np.array(1.0)), Parameter)
    F.sum(W * W).backward()
    np.testing.assert_array_equal(W.grad.data, [2.0, 4.0])


def test_as_array_wraps_scalars_and_passes_ndarrays_through():
    a = np.array([1.0])
    assert as_array(a) is a
    assert type(as_array(2.0)) is np.ndarray and as_array(2.0).ndim == 0
    assert as_array(2, dtype=np.float32).dtype == np.float32


def test_as_variable_wraps_once():
    x = Variable(np.array(1.0))
    assert as_variable(x) is x
    v = as_variable(np.array([1.0, 2.0]))
    assert isinstance(v, Variable)
    np.testing.assert_array_equal(v.data, [1.0, 2.0])


def test_no_grad_records_no_graph_and_restores_config():
    x = Variable(np.array(2.0))
    with no_grad():
        assert Config.enable_backprop is False
        y = F.square(F.exp(x))
        z = x * 3
    assert y.creator is None and z.creator is None
    assert Config.enable_backprop is True
    assert F.square(x).creator is not None


def test_test_mode_sets_train_false_and_makes_dropout_the_identity():
    x = np.random.default_rng(0).uniform(1, 2, (50, 50))
    with dezero.test_mode():
        assert Config.train is False
        np.testing.assert_array_equal(F.dropout(x).data, x)
    assert Config.train is True
    assert np.any(F.dropout(x).data == 0)


def test_using_config_restores_the_value_after_an_exception():
    with pytest.raises(RuntimeError), using_config("train", False):
        raise RuntimeError
    assert Config.train is True


def test_backward_without_create_graph_leaves_grad_without_history():
    x = Variable(np.array(2.0))
    F.sin(x).backward()
    assert x.grad.creator is None


def test_backward_with_create_graph_records_the_grad_computation():
    x = Variable(np.array(2.0))
    F.sin(x).backward(create_graph=True)
    assert x.grad.creator is not None
