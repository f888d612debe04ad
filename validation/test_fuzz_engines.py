"""The fuzzer in the engines written elsewhere: each namespace spells every fuzzed op, each
runner agrees with the exact reference on programs it once got wrong or could not run, and
what an engine cannot do (paddle: no second derivative of softmax) stays recorded."""

from __future__ import annotations

import numpy as np
import pytest

from validation.fuzz import engines
from validation.fuzz.checker import CI_SEED, direction_for, run_fuzz
from validation.fuzz.programs import input_arrays
from validation.fuzz.reference import RULES, reference
from validation.fuzz.runners import second_order

PACKAGES = {
    "mygrad": "mygrad",
    "paddle": "paddle",
    "tensorflow": "tensorflow",
    "tinygrad": "tinygrad",
}


def _program(op, shape, values, **attrs):
    """input -> op, the one-op programs the shrinker reduces findings to."""
    node = {"op": op, "args": [0]} | ({"attrs": attrs} if attrs else {})
    return {"version": 1, "nodes": [{"op": "input", "shape": shape, "values": values}, node]}


def _runner(name):
    pytest.importorskip(PACKAGES[name])
    return engines.RUNNERS[name]


@pytest.mark.parametrize("name", list(engines.RUNNERS))
def test_engine_namespace_spells_every_op_of_the_op_table(name):
    pytest.importorskip(PACKAGES[name])
    ns = getattr(engines, f"{name}_ops")()
    assert set(vars(ns)) == set(RULES), set(vars(ns)) ^ set(RULES)


@pytest.mark.parametrize(
    ("name", "program"),
    [
        # a gather's gradient is TensorFlow's IndexedSlices: read back dense
        ("tensorflow", _program("get_item", [3], [0.5, -1.0, 2.0], index=[2, 0, 2])),
        # a 0-d input and a linear program's constant Hessian: no device in tinygrad
        ("tinygrad", _program("neg", [], [0.5478467492858172])),
        ("paddle", _program("sin", [2], [0.25, -1.5])),
        ("mygrad", _program("log_softmax", [3], [0.1, 0.2, -0.4], axis=0)),
    ],
    ids=["tensorflow-get_item", "tinygrad-neg-0d", "paddle-sin", "mygrad-log_softmax"],
)
def test_engine_runner_matches_the_exact_reference(name, program):
    run = _runner(name)
    arrays = input_arrays(program)
    direction = direction_for(arrays)
    want = reference(program, direction)
    value, grads, hvp = run(program, arrays, direction if second_order(name) else None)
    np.testing.assert_allclose(value, float(want["value"]), rtol=1e-14, err_msg=f"{name} value")
    for got, exact in zip(grads, want["grads"], strict=True):
        assert got.dtype == np.float64 and got.shape == np.shape(exact), (got.dtype, got.shape)
        np.testing.assert_allclose(got, exact, rtol=1e-13, atol=1e-15, err_msg=f"{name} grad")
    if second_order(name):
        for got, exact in zip(hvp, want["hvp"], strict=True):
            np.testing.assert_allclose(
                got, np.asarray(exact, np.float64), rtol=1e-10, atol=1e-12, err_msg=f"{name} hvp"
            )
    else:
        assert hvp is None, f"{name} has no second order here, yet returned {hvp}"


def test_mygrad_agrees_with_the_reference_on_the_ci_programs():
    pytest.importorskip("mygrad")
    rows, findings = run_fuzz(CI_SEED, 20, ["mygrad"])
    assert findings == [], findings
    assert rows[["chunk", "program"]].drop_duplicates().shape[0] == 20


def test_paddle_has_no_second_derivative_of_softmax():
    """A limitation paddle states in its error (softmax_grad has no grad op), not a wrong
    value: when a paddle release adds it this test fails, and the finding is closed."""
    run = _runner("paddle")
    program = _program("softmax", [3], [0.1, 0.2, -0.4], axis=0)
    arrays = input_arrays(program)
    with pytest.raises(RuntimeError, match="softmax_grad doesn't have any grad op"):
        run(program, arrays, direction_for(arrays))
    value, grads, _ = run(program, arrays)  # first order is fine
    np.testing.assert_allclose(grads[0], 0.0, atol=1e-15)  # sum(softmax(x)) == 1
