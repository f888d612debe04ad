"""Families built for depth stay in range, and the streaming references that reach them.

The range claim of each family's docstring (exact gradient in [1e-100, 1e100], the state
between layers within [-10, 10]) is checked with the streaming longdouble forward mode at
depth 10**4 (and 10**5, `slow`: a minute for twist on a loaded 2-core machine) and at
depth 10**6 with the 200-bit mpmath reference (`slow`; run them with
`pytest -m slow validation/test_depth_families.py`).
"""

import math

import mpmath
import numpy as np
import pytest

from bench.workloads.chains import make_chain
from bench.workloads.ops import OPS
from validation.reference.duals import DUAL_OPS, Dual, DualOps, dual_scalar
from validation.reference.floor import NoisyTangentOps, _Tangent, chain_floor

# built for depth, or re-parameterised for it; `mlp` has its own test below
DEPTH_FAMILIES = ["twist", "logcosh", "balanced", "gauss", "random"]
VALUE_BOUND = 10.0
GRAD_RANGE = (1e-100, 1e100)


def _states(chain, ops, x, magnitude):
    """Run `chain` on `ops`, returning (largest |state| between layers, output)."""
    largest = 0.0
    if chain.layer is None:  # a program: every op is a layer
        names = chain.program
        h = x
        for name in names:
            h = getattr(ops, name)(h)
            largest = max(largest, magnitude(h))
        return largest, h
    h = chain.lift(ops, x) if chain.lift else x
    for _ in range(chain.depth):
        h = chain.layer(ops, h)
        parts = h if isinstance(h, tuple) else (h,)
        largest = max(largest, *map(magnitude, parts))
    return largest, chain.readout(ops, h) if chain.readout else h


def _check_range(family, largest, grad, depth):
    assert largest <= VALUE_BOUND, f"{family} depth {depth}: a state reached {largest:.3g}"
    assert GRAD_RANGE[0] <= abs(grad) <= GRAD_RANGE[1], f"{family} depth {depth}: grad {grad}"


@pytest.mark.parametrize(
    "depth", [10_000, pytest.param(100_000, marks=pytest.mark.slow)], ids=["1e4", "1e5"]
)
@pytest.mark.parametrize("family", DEPTH_FAMILIES)
def test_depth_family_stays_in_range_streaming_longdouble(family, depth):
    chain = make_chain(family, depth, 1)
    ops = NoisyTangentOps(np.longdouble(0), np.random.default_rng(0))
    x = np.full((1, 1), chain.x, dtype=np.longdouble)
    largest, out = _states(
        chain, ops, _Tangent(x, np.ones_like(x)), lambda t: float(np.abs(t.value).max())
    )
    _check_range(family, largest, float(out.deriv[0, 0]), depth)


@pytest.mark.slow
@pytest.mark.parametrize("family", DEPTH_FAMILIES)
def test_depth_family_stays_in_range_at_depth_1e6_exact(family):
    depth = 1_000_000
    chain = make_chain(family, depth, 1)
    with mpmath.workprec(200):
        x = Dual(mpmath.mpf(float(chain.x)), mpmath.mpf(1))
        largest, out = _states(chain, DUAL_OPS, x, lambda d: float(abs(d.value)))
    _check_range(family, largest, float(out.deriv), depth)


def test_sin_exp_really_leaves_the_range():
    # The family kept for underflow: its 2-cycle contracts by e**-0.78 a layer, so the exact
    # gradient is below the smallest normal float64 by depth 1,000 (the tables say so).
    _, grad = dual_scalar(make_chain("sin_exp", 1000, 1), float(make_chain("sin_exp", 1, 1).x))
    assert abs(grad) < 2.2e-308


@pytest.mark.parametrize(
    "depth", [10_000, pytest.param(100_000, marks=pytest.mark.slow)], ids=["1e4", "1e5"]
)
def test_mlp_at_the_edge_of_chaos_stays_in_range(depth):
    # Orthogonal W, b = 0: activations decay like depth**-0.5 and the gradient polynomially.
    from validation.reference.chains import longdouble_reference

    chain = make_chain("mlp", depth, 4)
    grads = longdouble_reference(chain, np.float64).grads
    for name, grad in zip(["x", "W_1", "b_1"], grads):
        magnitude = float(np.abs(grad).max())
        assert GRAD_RANGE[0] <= magnitude <= GRAD_RANGE[1], (name, magnitude)
    assert float(np.abs(grads[0]).min()) >= GRAD_RANGE[0]


@pytest.mark.parametrize("name", ["exp", "log", "sin", "cos", "tanh", "sigmoid", "square",
                                  "neg", "add", "mul"])  # fmt: skip
def test_fast_dual_op_matches_the_registry_form(name):
    fast, generic = DualOps(fast=True), DualOps(fast=False)
    with mpmath.workprec(200):
        for point in (0.3, 1.7, -2.2):
            if not (OPS[name].domain[0] <= point <= OPS[name].domain[1]):
                continue
            args = [Dual(mpmath.mpf(point), mpmath.mpf(1.25)),
                    Dual(mpmath.mpf(0.6), mpmath.mpf(-0.5))][: OPS[name].arity]  # fmt: skip
            a, b = getattr(fast, name)(*args), getattr(generic, name)(*args)
            assert abs(a.value - b.value) <= abs(b.value) * mpmath.mpf(2) ** -190, (name, point)
            assert abs(a.deriv - b.deriv) <= abs(b.deriv) * mpmath.mpf(2) ** -190, (name, point)


@pytest.mark.parametrize(("family", "depth"), [("sin", 1000), ("tanh", 3000), ("twist", 300)])
def test_streaming_floor_agrees_with_the_tape_sensitivity(family, depth):
    chain = make_chain(family, depth, 1)
    streamed = chain_floor(chain, np.float64, trials=16)["grad"].ulp
    taped = chain_floor(chain, np.float64, replays=16)["grad"].ulp
    # Both are maxima of 16 random roundings; they differ by sampling, not by a factor of 3.
    assert taped / 3 <= streamed <= taped * 3, (family, streamed, taped)


def test_floor_is_nan_where_the_gradient_underflows_and_half_ulp_at_least():
    assert math.isnan(chain_floor(make_chain("sin_exp", 1000, 1), np.float64)["grad"].ulp)
    seed_floor = chain_floor(make_chain("seed", 1, 1), np.float64)
    assert seed_floor["grad"].ulp >= 0.5 and seed_floor["value"].ulp >= 0.5


def test_ill_conditioned_chain_has_a_floor_far_above_its_op_count():
    # twist's phase error grows like depth**1.5 eps: its floor dwarfs a sum of half-ULPs.
    chain = make_chain("twist", 1000, 1)
    assert chain_floor(chain, np.float64)["grad"].ulp > chain.op_count


def test_sweep_in_processes_matches_one_process():
    # The deep references are spread over processes; a registered profile must reach them.
    from validation.accuracy import run_accuracy

    kwargs = dict(backends=["numpy"], families=["twist", "sin"], depths=[10], dtypes=["float64"])
    one = run_accuracy("ci", **kwargs)
    two = run_accuracy("ci", jobs=2, **kwargs)
    columns = ["backend", "family", "width", "quantity", "signed_ulp", "floor_ulp", "excess"]
    assert one[columns].equals(two[columns])
    assert one["floor_ulp"].notna().any()
