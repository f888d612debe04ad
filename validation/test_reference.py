"""The reference and the metrics themselves: exact where a closed form exists, flags that bite."""

import math

import mpmath
import numpy as np
import pytest

from bench.backends import BACKENDS
from bench.workloads.chains import FAMILIES, make_chain
from bench.workloads.ops import OPS
from validation.metrics import compare
from validation.reference.chains import dual_reference, longdouble_reference
from validation.reference.duals import DUAL_OPS, Dual, dual_scalar, mp_to_longdouble
from validation.reference.floor import chain_floor
from validation.reference.tape import run_chain
from validation.vocabulary import NONFINITE, OK, OVERFLOW, PARTIAL_UNDERFLOW, UNDERFLOW

ELEMENTWISE = [name for name, op in OPS.items() if op.elementwise]


def test_seed_chain_reference_matches_closed_form():
    # y = (exp(x**2))**2 = exp(2 x**2); dy/dx = 4 x exp(2 x**2); at x = 0.5: 2 e**0.5.
    value, deriv = dual_scalar(make_chain("seed", 1, 1), 0.5)
    with mpmath.workprec(200):
        assert abs(value - mpmath.exp(0.5)) < mpmath.mpf(2) ** -190
        assert abs(deriv - 2 * mpmath.exp(0.5)) < mpmath.mpf(2) ** -190


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_dual_op_derivative_matches_mpmath_diff(name):
    op = OPS[name]
    lo, hi = op.domain
    point = [mpmath.mpf(min(max(0.7, lo), hi)), mpmath.mpf(0.3)][: op.arity]
    with mpmath.workprec(200):
        for i in range(op.arity):
            duals = [Dual(p, mpmath.mpf(int(j == i))) for j, p in enumerate(point)]
            got = getattr(DUAL_OPS, name)(*duals).deriv

            def along(t, i=i):
                return op.mp_forward(*[p + t * (j == i) for j, p in enumerate(point)])

            assert abs(got - mpmath.diff(along, 0)) < mpmath.mpf(10) ** -50, (name, i)


@pytest.mark.parametrize("family", ["sin", "gauss", "sin_exp", "random"])
def test_reference_is_stable_under_more_precision(family):
    chain = make_chain(family, 1000, 1)
    lo = dual_scalar(chain, float(chain.x), bits=200)
    hi = dual_scalar(chain, float(chain.x), bits=320)
    with mpmath.workprec(320):
        for a, b in zip(lo, hi, strict=True):
            assert abs(a - b) <= abs(b) * mpmath.mpf(2) ** -150, (family, a, b)


@pytest.mark.parametrize("family", [f for f, family in FAMILIES.items() if family.elementwise])
def test_longdouble_tape_matches_dual_reference(family):
    chain = make_chain(family, 20, 4)
    dual = dual_reference(chain, np.float64)
    tape = longdouble_reference(chain, np.float64)
    np.testing.assert_allclose(
        tape.grads[0].astype(float), dual.grads[0].astype(float), rtol=1e-13, atol=1e-300
    )


def test_mp_to_longdouble_keeps_bits_beyond_float64_and_tiny_exponents():
    with mpmath.workprec(200):
        third = mpmath.mpf(1) / 3
        tiny = mpmath.mpf(2) ** -1100
    assert mp_to_longdouble(third) == np.longdouble(1) / 3
    assert mp_to_longdouble(tiny) == np.ldexp(np.longdouble(1), -1100)


def test_compare_counts_ulps_with_sign():
    ref = np.longdouble(1.5)
    above = np.nextafter(np.float64(1.5), 2.0)
    assert compare(above, ref, np.float64)["signed_ulp"] == 1.0
    below = np.nextafter(np.float32(-1.5), np.float32(0))
    result = compare(below, -ref, np.float32)
    assert result["signed_ulp"] == 1.0 and result["flag"] == OK


def test_compare_flags_underflow_instead_of_a_small_error():
    result = compare(np.float64(0.0), np.longdouble("1e-320"), np.float64)
    assert result["flag"] == UNDERFLOW and math.isnan(result["max_abs_ulp"])
    mixed = compare(np.array([1.0, 0.0]), np.array([1.0, 1e-40], np.longdouble), np.float32)
    assert mixed["flag"] == PARTIAL_UNDERFLOW and mixed["max_abs_ulp"] == 0.0


def test_compare_flags_nonfinite_and_overflow():
    assert compare(np.array([1.0, np.nan]), np.ones(2), np.float64)["flag"] == NONFINITE
    assert compare(np.float32(np.inf), np.longdouble(1e39), np.float32)["flag"] == NONFINITE
    assert compare(np.float64(1.0), np.longdouble("1e400"), np.float64)["flag"] == OVERFLOW


def test_rounding_floor_separates_calm_from_ill_conditioned_chains():
    # Some random programs run tanh near saturation, where 1 - y**2 cancels.
    calm = chain_floor(make_chain("sin", 10, 1), np.float64)["grad"].ulp
    wild = max(
        chain_floor(make_chain("random", 10, 1, seed=s), np.float64)["grad"].ulp for s in range(6)
    )
    assert calm < 10 and wild > 50, (calm, wild)


@pytest.mark.parametrize(("family", "depth", "width"), [("mlp", 3, 4), ("diamond", 5, 3)])
def test_reference_tape_agrees_with_the_independent_numpy_backend(family, depth, width):
    """Two separately written tapes (the reference's and the numpy backend's) replaying the
    same registry functions at np.longdouble give the same value and gradients."""
    chain = make_chain(family, depth, width)
    _, value, grads = run_chain(chain, np.longdouble)
    prepared = BACKENDS["numpy"].prepare(chain, np.longdouble)
    backend_value, backend_grads = prepared.value_and_grad(*prepared.inputs)
    assert value == backend_value, f"{family}: value {value} vs {backend_value}"
    for i, (got, want) in enumerate(zip(grads, backend_grads, strict=True)):
        assert got.dtype == np.longdouble, f"{family}: grad[{i}] dtype {got.dtype}"
        np.testing.assert_array_equal(got, want, err_msg=f"{family}: grad[{i}]")
