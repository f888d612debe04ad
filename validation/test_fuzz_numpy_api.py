"""The fuzzer's numpy-style ops (abs, sqrt, maximum, minimum, where, logsumexp, concatenate,
stack, einsum, tril, triu, 1-D matmul): drawn, with their domain edges, by a reference whose
vjps match the complex step, and a planted wrong derivative among them is caught."""

from __future__ import annotations

import numpy as np
import pytest

from bench.workloads.op_table_numpy import NUMPY_API_OPS
from bench.workloads.ops import unbroadcast
from dezero.functions_elementwise import Maximum
from dezero.losses import LogSumExp
from validation.fuzz.checker import CI_PROGRAMS, CI_SEED, run_fuzz
from validation.fuzz.numpy_api_draws import NUMPY_API
from validation.fuzz.reference import RULES
from validation.test_fuzz import _sample_programs

SAMPLE = _sample_programs(300, seed=0)


def _ops(program):
    return [n for n in program["nodes"] if n["op"] != "input"]


def test_every_numpy_style_op_and_a_vector_matmul_is_drawn():
    drawn = {n["op"] for p in SAMPLE for n in _ops(p)}
    assert set(NUMPY_API) <= drawn, sorted(set(NUMPY_API) - drawn)
    vectors = [
        p for p in SAMPLE for n in _ops(p) if n["op"] == "matmul"
        and any(len(p["nodes"][a].get("shape", "..")) == 1 for a in n["args"])
    ]  # fmt: skip
    assert vectors


def test_domain_edges_are_drawn():
    inputs = [n for p in SAMPLE for n in p["nodes"] if n["op"] == "input"]
    values = [np.abs(np.asarray(n["values"])) for n in inputs]
    assert any(v.max() <= 1e-6 and v.min() < 1e-9 for v in values), "no input near 0"
    assert any(v.max() > 100 for v in values), "no spread for logsumexp"
    near_ties = 0
    for p in SAMPLE:
        for n in _ops(p):
            a, b = (p["nodes"][i] for i in (n["args"] * 2)[:2])
            if n["op"] in ("maximum", "minimum") and a["op"] == b["op"] == "input":
                x, y = np.asarray(a["values"]), np.asarray(b["values"])
                near_ties += x.shape == y.shape and bool(np.all(np.abs(x - y) == np.spacing(x)))
    assert near_ties, "no maximum/minimum of an input against its one-ULP neighbour"


NEW_RECORDS = [r for r in NUMPY_API_OPS if r.vjp is not None]


@pytest.mark.parametrize("record", NEW_RECORDS, ids=[r.name for r in NEW_RECORDS])
def test_reference_vjp_matches_the_complex_step(record):
    rng = np.random.default_rng(0)
    for shapes in record.shapes:
        xs = [np.asarray(rng.uniform(0.5, 2.0, s) * rng.choice([-1, 1], s)) for s in shapes]
        if record.name == "sqrt":
            xs = [np.asarray(np.abs(x)) for x in xs]
        y = record.ref(*xs)
        gy = rng.uniform(0.5, 1.5, np.shape(y))
        grads = record.vjp(gy, *xs, y)
        for i, x in enumerate(xs):
            g = unbroadcast(np.asarray(grads[i]), np.shape(x))
            for index in np.ndindex(np.shape(x)):
                stepped = [a.astype(complex) for a in xs]
                stepped[i][index] += 1e-30j
                want = np.sum(gy * record.ref(*stepped)).imag / 1e-30
                assert abs(g[index] - want) <= 1e-12 * (1 + abs(want)), (record.name, i, index)


def test_the_fuzzer_names_a_rule_for_each_numpy_style_op():
    assert set(NUMPY_API) <= set(RULES)


@pytest.mark.parametrize("cls", [Maximum, LogSumExp], ids=["maximum", "logsumexp"])
def test_a_wrong_numpy_style_derivative_is_found_blamed_on_dezero_and_shrunk(cls, monkeypatch):
    exact_vjp = cls.vjp
    # one part in a million: 4.5e9 ULP of float64, far outside every tolerance
    monkeypatch.setattr(cls, "vjp", lambda self, *args: _scaled(exact_vjp(self, *args)))
    name = {"Maximum": "maximum", "LogSumExp": "logsumexp"}[cls.__name__]
    _, findings = run_fuzz(CI_SEED, CI_PROGRAMS, ["dezero", "numpy"])
    assert {f.backend for f in findings} == {"dezero"}, [(f.backend, f.ops) for f in findings]
    # a program failing first and second order is shrunk once, on either failure
    finding = next(f for f in findings if f.shrunk)
    assert finding.failure in ("ulp", "hvp")
    assert name in finding.ops and len(finding.ops) <= 2, finding.ops


def _scaled(gxs):
    """The vjp's result(s), one part in a million too large (None stays None)."""
    if not isinstance(gxs, tuple):
        return gxs * (1 + 1e-6)
    return tuple(None if g is None else g * (1 + 1e-6) for g in gxs)
