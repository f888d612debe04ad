"""The CI gate on GradBench's evaluations: every backend passes on the quick sizes, and a
gradient wrong by a little (within GradBench's 1e-4, outside the rounding floor) or by a lot
fails it."""

import numpy as np
import pytest

from bench.backends.workloads import WORKLOAD_BACKENDS, prepare_workload, unsupported
from bench.workloads.gradbench import WORKLOADS
from bench.workloads.workload_costs import SLOW_AT_QUICK
from validation.workload_accuracy import (
    ERROR,
    UNSUPPORTED,
    gradbench_error,
    measure_outputs,
    to_frame,
    workload_accuracy,
)
from validation.workload_gate import workload_gate_messages

# Cases whose backend alone takes over 10 s at the quick size run with `pytest -m slow`
# (SLOW_AT_QUICK says why); the same evaluation in every other backend, ht in jax_jit too, and
# the same eager JAX namespace on the other evaluations stay in the fast gate.
SLOW = SLOW_AT_QUICK
CASES = [
    pytest.param(name, backend, marks=[pytest.mark.slow] if (name, backend) in SLOW else [])
    for name in WORKLOADS
    for backend in WORKLOAD_BACKENDS
]


@pytest.mark.parametrize(("name", "backend"), CASES)
def test_every_backend_passes_the_gate_on_the_quick_sizes(name, backend):
    """Each evaluation in each backend: a row per quick size, none raised, and no message
    from the gate (a backend that cannot run it has a row with its reason)."""
    df = workload_accuracy([name], [backend], "quick")
    assert len(df) == len(WORKLOADS[name].quick)
    assert (df["status"] != ERROR).all(), df[["backend", "reason"]]
    assert workload_gate_messages(df) == []


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_every_evaluation_is_gated_in_a_backend_outside_the_slow_set(name):
    """The fast gate checks something of every evaluation: a backend that runs it and is not
    left to `pytest -m slow` (and every slow case says why)."""
    assert all(reason.strip() for reason in SLOW.values())
    fast = [b for b in WORKLOAD_BACKENDS if (name, b) not in SLOW and unsupported(b, name) is None]
    assert fast, f"{name} has no backend in the fast gate"


def _row(name, outputs, backend="dezero"):
    size = WORKLOADS[name].quick[0]
    base = {"eval": name, "size": "quick", "backend": backend, "dtype": "float64"}
    return base | {"status": "ok"} | measure_outputs(name, size, outputs)


def _dezero_outputs(name):
    return prepare_workload("dezero", name, WORKLOADS[name].quick[0]).call()


@pytest.mark.parametrize("name", ["gmm", "lstm", "det", "kmeans", "ba", "ht"])
def test_gate_fails_on_a_gradient_off_by_a_relative_1e_12(name):
    """A relative 1e-12 passes GradBench's 1e-4 by eight orders of magnitude; the floor
    catches it. The same outputs unperturbed pass, so it is the perturbation that fails."""
    outputs = _dezero_outputs(name)
    assert workload_gate_messages(to_frame([_row(name, outputs)])) == []
    gradients = outputs[1:] or outputs  # kmeans: one result, made of derivatives
    wrong = outputs[: len(outputs) - len(gradients)] + [g * (1 + 1e-12) for g in gradients]
    messages = workload_gate_messages(to_frame([_row(name, wrong)]))
    assert messages and all("ULP normwise" in m for m in messages), messages
    assert not any("GradBench" in m for m in messages)


def test_gate_fails_gradbench_metric_on_a_gross_error():
    outputs = _dezero_outputs("gmm")
    wrong = [*outputs[:-1], outputs[-1] + 1e-3]
    messages = workload_gate_messages(to_frame([_row("gmm", wrong)]))
    assert any("GradBench's error" in m for m in messages), messages


def test_gate_fails_on_a_crash_a_silent_gap_and_a_nonfinite_gradient():
    outputs = _dezero_outputs("lse")
    nan = [outputs[0], np.full_like(outputs[1], np.nan)]
    rows = [
        {"eval": "lse", "size": "n=50", "backend": "torch", "status": ERROR, "reason": "boom"},
        {"eval": "lse", "size": "n=50", "backend": "jax", "status": UNSUPPORTED, "reason": ""},
        {"eval": "lse", "size": "n=50", "backend": "jax_jit", "status": UNSUPPORTED,
         "reason": "a reason"},
        _row("lse", nan),
    ]  # fmt: skip
    messages = workload_gate_messages(to_frame(rows))
    assert len(messages) == 4, messages
    assert "raised boom" in messages[0]
    assert "without a reason" in messages[1]
    assert "not finite" in messages[2] and "GradBench" in messages[3]


def test_outputs_of_the_wrong_size_are_refused_by_name():
    outputs = _dezero_outputs("lse")
    with pytest.raises(ValueError, match="lse gave outputs of sizes"):
        measure_outputs("lse", WORKLOADS["lse"].quick[0], [outputs[0], outputs[1][:-1]])


def test_gradbench_error_is_their_metric():
    """|a - b| / max(1, |a| + |b|): absolute below 1, relative above."""
    assert gradbench_error([1e-3], [0.0]) == pytest.approx(1e-3)
    assert gradbench_error([1000.0], [1001.0]) == pytest.approx(1 / 2001)
    assert gradbench_error([np.inf], [1.0]) == np.inf


def test_workload_accuracy_names_an_unknown_evaluation_and_size_grid():
    with pytest.raises(ValueError, match="'nope'"):
        workload_accuracy(["nope"])
    with pytest.raises(ValueError, match="'tiny'"):
        workload_accuracy(["lse"], ["dezero"], "tiny")


def test_unsupported_backends_have_a_row_with_a_reason():
    df = workload_accuracy(["lse"], WORKLOAD_BACKENDS, "quick")
    assert list(df["backend"]) == list(WORKLOAD_BACKENDS)
    unsupported = df[df["status"] == UNSUPPORTED]
    assert unsupported["reason"].str.len().gt(0).all()
    ran = df[df["status"] == "ok"]
    assert ran["gradient_floor_ulp"].ge(0.5).all() and ran["gradbench_pass"].all()
