"""The single-function gate: every differentiable op-table record, float64 and float32, against
the complex-step exact gradient within its rounding floor; underflow checked absolutely."""

import numpy as np
import pytest

import dezero.functions
from bench.workloads.op_table import GRAD_CASES, OPS
from validation import op_gate
from validation.metrics import compare, underflow_violations
from validation.vocabulary import UNDERFLOW

CASE_IDS = [case.name.replace(" ", "-") for case in op_gate.OP_CASES]


@pytest.mark.parametrize("case", op_gate.OP_CASES, ids=CASE_IDS)
def test_dezero_gradient_within_floor_tolerance(case):
    messages = op_gate.check_case(case)
    assert not messages, "\n".join(messages)


def test_every_differentiable_record_is_gated_in_float64_and_float32():
    gated = {(c.record.name, c.shapes, c.dtype) for c in op_gate.OP_CASES}
    for record, shapes in GRAD_CASES:
        for dtype in ("float64", "float32"):
            assert (record.name, shapes, dtype) in gated
    assert {r.name for r in OPS if r.differentiable} <= {c.record.name for c in op_gate.OP_CASES}


def test_complex_step_gives_tanh_derivative_to_longdouble_precision():
    record = next(r for r in OPS if r.name == "tanh")
    x = np.array([-1.5, 0.25, 2.0])
    (grad,) = op_gate.complex_step_grads(record, [x], np.ones(3))
    want = 1 / np.cosh(x.astype(np.longdouble)) ** 2
    assert np.max(np.abs(grad - want) / want) < 1e-17


def test_underflow_rule_accepts_zero_and_near_subnormals_rejects_the_rest():
    tiny = np.finfo(np.float64).smallest_subnormal
    ref = np.array([1e-320, 1e-320, 1e-320, 1e-320], dtype=np.longdouble)
    got = np.array([0.0, 1e-320, 1e-320 + 3 * tiny, 0.5])
    assert list(underflow_violations(got, ref, np.float64)) == [3]
    # the ULP metric alone has nothing to say about this row: the blind spot the rule closes
    assert compare(got, ref, np.float64)["flag"] == UNDERFLOW


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_underflow_case_catches_a_planted_derivative_error(monkeypatch, dtype):
    case = next(
        c for c in op_gate.OP_CASES if c.record.name == "exp-underflow" and c.dtype == dtype
    )
    assert np.isnan(op_gate.exact(case).floors[0]), "the case's exact gradient should underflow"
    assert not op_gate.check_case(case)
    vjp = dezero.functions.Exp.vjp
    # 1e-3 relative: hundreds of smallest subnormals at exp(-740), invisible to any ULP metric
    monkeypatch.setattr(dezero.functions.Exp, "vjp", lambda *a: vjp(*a) * (1 + 1e-3))
    messages = op_gate.check_case(case)
    assert any("underflows" in m and "exp-underflow" in m for m in messages), messages
