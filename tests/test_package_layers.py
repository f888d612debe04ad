"""The package wires what core cannot import: Variable's `backward` and operators, and the
namespace create_graph records with (tests/test_architecture.py holds the import layers).
"""

import numpy as np

import dezero.functions as F
from dezero import Variable, arithmetic, core, sweep


def test_setup_variable_installs_the_operators_and_the_graph_namespace():
    for name, operator in arithmetic.VARIABLE_OPERATORS.items():
        assert getattr(Variable, name) is operator, f"Variable.{name} is not installed"
    assert Variable.backward is sweep.backward
    assert core.graph_ops is F
    x = Variable(np.array([1.0, 2.0]))
    (x * x).sum().backward(create_graph=True)
    assert x.grad.creator is not None, "create_graph recorded no graph"


def test_book_style_backward_of_a_builtin_sums_gradients_to_input_shapes():
    # The book's API: Function.backward(gy) returns Variables shaped like the inputs,
    # while a vjp returns them at the broadcast shape and leaves the sum to the sweep.
    a, b = Variable(np.ones((2, 3))), Variable(np.arange(3.0))
    y = a * b
    ga, gb = y.creator.backward(Variable(np.full((2, 3), 2.0)))
    assert ga.shape == (2, 3) and gb.shape == (3,)
    np.testing.assert_array_equal(ga.data, np.broadcast_to(2.0 * np.arange(3.0), (2, 3)))
    np.testing.assert_array_equal(gb.data, [4.0, 4.0, 4.0])
    gx = F.sin(b).creator.backward(Variable(np.ones(3)))
    np.testing.assert_allclose(gx.data, np.cos(np.arange(3.0)), rtol=1e-15)
