"""Checks of the op registry, the chain families and the backend registry themselves."""

import math

import numpy as np
import pytest

from bench.backends import BACKENDS
from bench.backends.base import Backend
from bench.workloads.chains import FAMILIES, make_chain, random_program
from bench.workloads.ops import OPS, UNARY_ELEMENTWISE

ELEMENTWISE = [op for op in OPS.values() if op.elementwise]


def _finite(domain, cap=20.0):
    return max(domain[0], -cap), min(domain[1], cap)


def test_seed_chain_gradient_is_the_books_answer():
    prepared = BACKENDS["numpy"].prepare(make_chain("seed", 1, 1))
    _, (gx,) = prepared.value_and_grad(*prepared.inputs)
    assert gx == pytest.approx(3.297442541400256, rel=1e-15)


def test_make_chain_rejects_unknown_family_listing_valid_ones():
    with pytest.raises(ValueError, match="'sine'.*sin_exp"):
        make_chain("sine", 10, 1)


@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.name)
def test_np_vjp_matches_central_differences(op):
    rng = np.random.default_rng(0)
    xs = [rng.uniform(*_finite(op.domain), size=5) for _ in range(op.arity)]
    y = op.np_forward(*xs)
    gxs = op.np_vjp(np.ones_like(y), *xs, y)
    for i in range(op.arity):
        h = 1e-6 * np.maximum(1.0, np.abs(xs[i]))
        up = [x + h if j == i else x for j, x in enumerate(xs)]
        down = [x - h if j == i else x for j, x in enumerate(xs)]
        estimate = (op.np_forward(*up) - op.np_forward(*down)) / (2 * h)
        np.testing.assert_allclose(gxs[i], estimate, rtol=1e-6, atol=1e-8,
                                   err_msg=f"{op.name}: np_vjp input {i}")  # fmt: skip


@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.name)
def test_mp_derivative_agrees_with_np_vjp(op):
    rng = np.random.default_rng(1)
    xs = [float(v) for v in rng.uniform(*_finite(op.domain), size=op.arity)]
    y = op.np_forward(*xs)
    expected = op.np_vjp(1.0, *xs, y)
    got = op.mp_derivative(*xs)
    assert float(op.mp_forward(*xs)) == pytest.approx(y, rel=1e-14)
    for i in range(op.arity):
        assert float(got[i]) == pytest.approx(expected[i], rel=1e-13), f"{op.name} input {i}"


@pytest.mark.parametrize("op", UNARY_ELEMENTWISE, ids=lambda op: op.name)
def test_image_contains_every_output_of_its_interval(op):
    rng = np.random.default_rng(2)
    lo_dom, hi_dom = _finite(op.domain, cap=25.0)
    for _ in range(50):
        lo, hi = np.sort(rng.uniform(lo_dom, hi_dom, size=2))
        out = op.np_forward(np.linspace(lo, hi, 1001))
        img_lo, img_hi = op.image(lo, hi)
        slack = 1e-12 * max(1.0, abs(img_lo), abs(img_hi))
        assert img_lo - slack <= out.min() and out.max() <= img_hi + slack, (op.name, lo, hi)


def test_random_program_applies_each_op_inside_its_domain():
    program = random_program(20_000, seed=5)
    lo, hi = -2.0, 2.0
    for name in program:
        op = OPS[name]
        assert op.domain[0] <= lo and hi <= op.domain[1], (name, lo, hi)
        lo, hi = op.image(lo, hi)
    assert len(set(program)) == len(UNARY_ELEMENTWISE), "some unary op is never drawn"


# Elementwise families are checked to depth 100,000; matrix families (a (w, w) matmul per
# layer) to 10,000, where a depth-100,000 chain would take minutes.
@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_value_and_gradient_stay_finite_at_great_depth(family):
    depth = 100_000 if FAMILIES[family].elementwise else 10_000
    prepared = BACKENDS["numpy"].prepare(make_chain(family, depth, 4, seed=3))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grads = prepared.value_and_grad(*prepared.inputs)
    assert math.isfinite(value), f"{family} depth {depth}: value {value}"
    assert all(np.all(np.isfinite(g)) for g in grads), f"{family} depth {depth}: nonfinite grad"


def test_missing_package_is_a_skip_reason_not_an_error():
    class Missing(Backend):
        name = "missing"
        package = "no_such_framework_for_bench"

    ok, reason = Missing().available()
    assert not ok and "no_such_framework_for_bench" in reason


def test_every_chain_primitive_is_one_record_of_the_op_table_built_from_it():
    from bench.workloads.op_table import OPS as TABLE

    names = [record.name for record in TABLE]
    for name, op in OPS.items():
        assert names.count(name) == 1, f"primitive {name!r} has {names.count(name)} records"
        (record,) = [r for r in TABLE if r.name == name]
        assert record.primitive is op, name
        assert record.ref is op.np_forward and record.vjp is op.np_vjp, name
    assert {r.name for r in TABLE if r.primitive is not None} == set(OPS)


def test_a_primitive_record_of_an_unknown_primitive_names_it():
    from bench.workloads.op_record import UNARY, primitive_record

    with pytest.raises(KeyError, match="'sine' is not a chain primitive.*'sin'"):
        primitive_record("sine", np.sin, UNARY)


def test_the_default_profile_stops_wide_unrolled_jax_jit_at_depth_100_and_says_why():
    from bench.workloads.profiles import PROFILES, Case, skip_reason

    default, full = PROFILES["default"], PROFILES["full"]
    wide = Case("tanh", 1000, 1000, "forward", "jax_jit")
    reason = skip_reason(wide, default)
    assert reason.startswith(wide.id) and "fused loop" in reason and "deeper than 100" in reason
    assert skip_reason(wide, full) is None  # the full profile still pays for it
    for kept in (Case("tanh", 100, 1000, "forward", "jax_jit"),  # shallower
                 Case("sin", 1000, 1, "backward", "jax_jit"),  # scalar: the README's chain
                 Case("tanh", 1000, 1000, "forward", "jax_scan")):  # fmt: skip
        assert skip_reason(kept, default) is None, kept.id
