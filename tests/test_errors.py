"""Every documented error: the exception type and a message naming the bad value."""

import numpy as np
import pytest

import dezero.functions as F
from dezero import Function, Variable, using_config


class NoForward(Function):
    pass


class NoBackward(Function):
    def forward(self, x):
        return x


def _backward_through(function):
    y = function(Variable(np.array(1.0)))
    y.backward()


def _enter(context):
    with context:
        pass


X = np.ones((2, 3))
ERRORS = {
    "variable-float-data": (lambda: Variable(1.0), TypeError, "float"),
    "variable-list-data": (lambda: Variable([1.0]), TypeError, "list"),
    "operand-str": (lambda: Variable(X) + "a", TypeError, "str"),
    "matmul-0d": (lambda: F.matmul(np.ones(()), np.ones(3)), ValueError, r"\(\) and \(3,\)"),
    "matmul-1d-mismatch": (lambda: F.matmul(np.ones(3), np.ones((4, 2))), ValueError, "4 .* 3"),
    "linear-1d": (lambda: F.linear(np.ones(3), np.ones((3, 2))), ValueError, r"\(3,\)"),
    "sce-float-labels": (
        lambda: F.softmax_cross_entropy(X, np.array([0.0, 1.0])),
        ValueError,
        "label",
    ),
    "sce-label-count": (
        lambda: F.softmax_cross_entropy(X, np.array([0, 1, 2])),
        ValueError,
        "label",
    ),
    "sce-label-too-large": (
        lambda: F.softmax_cross_entropy(X, np.array([0, 3])),
        ValueError,
        "label",
    ),
    "sce-label-negative": (
        lambda: F.softmax_cross_entropy(X, np.array([0, -1])),
        ValueError,
        "label",
    ),
    "sce-1d-scores": (
        lambda: F.softmax_cross_entropy(np.ones(3), np.array([0])),
        ValueError,
        r"\(3,\)",
    ),
    "unknown-config": (lambda: _enter(using_config("no_such_flag", 1)), AttributeError, "no_such"),
    "function-without-forward": (
        lambda: NoForward()(Variable(np.array(1.0))),
        NotImplementedError,
        "NoForward",
    ),
    "function-without-backward": (
        lambda: _backward_through(NoBackward()),
        NotImplementedError,
        "NoBackward",
    ),
    "backward-from-none": (lambda: Variable(None).backward(), ValueError, "None"),
}


@pytest.mark.parametrize(("call", "error", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_documented_error_is_raised_with_a_message_naming_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_unknown_config_leaves_config_untouched():
    from dezero import Config

    with pytest.raises(AttributeError):
        _enter(using_config("no_such_flag", 1))
    assert not hasattr(Config, "no_such_flag")
