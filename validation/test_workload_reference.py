"""The exact reference of GradBench's evaluations is exact enough: the same definitions at 40
digits in mpmath agree with it far below float64's rounding, its gradients match mpmath's
central differences of the objective, and its second derivatives (a complex step over the
tape) match a closed form and mpmath's differences of a first derivative."""

import mpmath
import numpy as np
import pytest

from bench.workloads.gradbench import WORKLOADS, particle_euler
from validation.reference.floor import replay_floor
from validation.reference.workload_cases import quantities, size_key, workload_floor
from validation.reference.workloads import ReferenceOps, run_reference

DIGITS = 40
# float64 ULP at 1 is 2.2e-16: agreeing to 1e-17 normwise is under 1/20 ULP, while a case's
# floor is at least half an ULP and the gate allows 16 more (lse and det, whose results
# cancel, are 2e-18 off in longdouble; the others under 3e-19).
EXACT_ENOUGH = 1e-17
PLAIN = ["gmm", "lstm", "llsq", "lse", "det", "ode"]


def to_mp(a) -> np.ndarray:
    """np.longdouble values as mpf, exactly (a 64-bit mantissa is the sum of two doubles)."""
    a = np.asarray(a, dtype=np.longdouble).ravel()
    hi = a.astype(np.float64)
    lo = (a - hi).astype(np.float64)
    return np.array([mpmath.mpf(h) + mpmath.mpf(l) for h, l in zip(hi, lo)], dtype=object)


def normwise_relative(got, want) -> float:
    """max |got - want| / max |want|, in mpmath (call inside workdps)."""
    got, want = np.ravel(got), np.ravel(want)
    scale = max(abs(w) for w in want)
    return float(max(abs(g - w) for g, w in zip(got, want)) / scale)


@pytest.mark.parametrize("name", [*PLAIN, "kmeans"])
def test_longdouble_reference_agrees_with_40_digits(name):
    workload = WORKLOADS[name]
    size = workload.quick[0]
    reference, _ = run_reference(workload, size)
    exact, _ = run_reference(workload, size, digits=DIGITS)
    with mpmath.workdps(DIGITS):
        for q, want in quantities(exact).items():
            got = to_mp(quantities(reference)[q])
            assert normwise_relative(got, want) < EXACT_ENOUGH, (name, q)


def _objective_at(workload, params, consts):
    """The objective of a plain evaluation at mpmath `params` (object arrays)."""
    return workload.run(ReferenceOps(digits=DIGITS), params, consts)[0]


@pytest.mark.parametrize("name", PLAIN)
def test_reference_gradient_matches_mpmath_central_difference(name):
    """<gradient, v> against (f(p + h v) - f(p - h v)) / 2h at 40 digits along a random v:
    h = 1e-12 leaves a truncation of order h**2 and a rounding of 1e-40 / h, both far below
    the 1e-17 asked."""
    workload = WORKLOADS[name]
    params, consts = workload.inputs(workload.quick[0])
    reference, _ = run_reference(workload, workload.quick[0])
    rng = np.random.default_rng(1)
    directions = [rng.uniform(-1, 1, np.shape(p)) for p in params]
    with mpmath.workdps(DIGITS):
        h = mpmath.mpf(10) ** -12
        mp = [np.vectorize(mpmath.mpf, otypes=[object])(p) for p in params]
        plus = [p + h * d for p, d in zip(mp, directions)]
        minus = [p - h * d for p, d in zip(mp, directions)]
        f_plus = _objective_at(workload, plus, consts).item()
        f_minus = _objective_at(workload, minus, consts).item()
        difference = (f_plus - f_minus) / (2 * h)
        grads = [to_mp(g) for g in reference[1:]]
        along = mpmath.fsum(g @ d.ravel() for g, d in zip(grads, directions))
        scale = mpmath.fsum(abs(g) @ abs(d.ravel()) for g, d in zip(grads, directions))
        assert abs(along - difference) / scale < EXACT_ENOUGH, (name, along, difference)


def test_kmeans_direction_is_the_closed_form():
    """kmeans' cost is a sum of squared distances to the nearest centroid, so its Newton
    direction J / diag(H) is each centroid minus the mean of its points: no derivatives."""
    workload = WORKLOADS["kmeans"]
    size = workload.quick[0]
    (C,), consts = workload.inputs(size)
    points = consts["PT"].T.astype(np.longdouble)
    C = C.astype(np.longdouble)
    nearest = np.argmin(((points[:, None, :] - C[None]) ** 2).sum(axis=2), axis=1)
    means = np.stack([points[nearest == c].mean(axis=0) for c in range(len(C))])
    (direction,), second_order = run_reference(workload, size)
    assert second_order
    assert np.max(np.abs(direction - (C - means))) < EXACT_ENOUGH


def _particle(w, nested, digits=None, noise=None):
    ops = ReferenceOps(noise, digits)
    w = ops.leaf(np.array([w], dtype=object if digits else np.float64))
    y = particle_euler(ops, w, nested)
    return ops, w, y


def _particle_derivative(w0, digits=None, noise=None):
    ops, w, y = _particle(w0, True, digits, noise)
    return ops.grad(y, [w])[0].value


def test_nested_second_derivative_is_exact():
    """particle: d/dw of the final position after Euler steps whose force is a gradient taken
    with create_graph (the complex step through every step, w feeding both the force's point
    and the other charge's position). At 40 digits it is the central difference of the same
    program run with first derivatives only, to 30 digits (the mechanism is exact); in
    longdouble it is as far from that as the program's conditioning makes it (1e4: its own
    value is 1e-15 off), under 1/100 of its rounding floor at float64."""
    w0 = WORKLOADS["particle"].quick[0]["w0"]
    reference = _particle_derivative(w0)
    floor = replay_floor(
        lambda noise: {"d": _particle_derivative(w0, noise=noise)}, np.dtype(np.float64), replays=2
    )["d"]
    with mpmath.workdps(DIGITS):
        exact = _particle_derivative(mpmath.mpf(w0), DIGITS)[0]
        h = mpmath.mpf(10) ** -15
        ends = [_particle(mpmath.mpf(w0) + s * h, False, DIGITS)[2].value.item() for s in (1, -1)]
        assert abs(exact - (ends[0] - ends[1]) / (2 * h)) < 1e-26 * abs(exact)
        error = float(abs(to_mp(reference)[0] - exact))
    assert error < floor.abs / 100, (error, floor)


def test_a_third_derivative_is_refused():
    """A gradient of a recorded gradient, itself recorded, would need a complex step over a
    complex step: refused by name rather than answered wrongly."""
    ops = ReferenceOps()
    x = ops.leaf(np.array([0.5, 2.0]))
    (g,) = ops.grad(ops.sum(ops.exp(x) * x), [x], create_graph=True)
    with pytest.raises(ValueError, match="third"):
        ops.grad(ops.sum(g * g), [x], create_graph=True)


def test_second_derivative_by_complex_step_is_the_hessian():
    """sum(exp(x) * x): gradient e^x (1 + x), Hessian-vector product e^x (2 + x) v."""
    ops = ReferenceOps()
    x0 = np.array([0.5, -1.5, 3.0])
    x = ops.leaf(x0)
    (g,) = ops.grad(ops.sum(ops.exp(x) * x), [x], create_graph=True)
    v = np.array([1.0, 2.0, -1.0])
    (hv,) = ops.grad(ops.sum(g * ops.const(v)), [x])
    x0 = x0.astype(np.longdouble)
    want = np.exp(x0) * (2 + x0) * v
    assert np.max(np.abs(hv.value - want) / np.abs(want)) < EXACT_ENOUGH


@pytest.mark.parametrize("name", [*PLAIN, "kmeans"])
def test_rounding_floor_is_measured(name):
    """Every quantity moves under redone roundings, by at least the final rounding's half ULP
    elementwise and by a finite amount normwise: a floor of 0 would let any error through."""
    workload = WORKLOADS[name]
    floors = workload_floor(name, size_key(workload.quick[0]))
    assert floors
    for q, floor in floors.items():
        assert floor.ulp >= 0.5 and 0 < floor.norm_ulp < 1e3 and floor.abs > 0, (name, q, floor)


# Every rule of the tape, each on small inputs in [0.5, 1.5): (function of ops and inputs,
# input shapes). Shapes that broadcast, 1-D matmul operands and repeated indices included.
RULE_CASES = {
    "add": (lambda ops, a, b: a + b, [(2, 3), (3,)]),
    "sub": (lambda ops, a, b: a - b, [(2, 3), (2, 1)]),
    "mul": (lambda ops, a, b: a * b, [(2, 3), (3,)]),
    "div": (lambda ops, a, b: 1.5 / a / b, [(3,), (3,)]),
    "neg": (lambda ops, a: -a, [(3,)]),
    "pow": (lambda ops, a: a**3, [(3,)]),
    "exp": (lambda ops, a: ops.exp(a), [(3,)]),
    "log": (lambda ops, a: ops.log(a), [(3,)]),
    "sqrt": (lambda ops, a: ops.sqrt(a), [(3,)]),
    "tanh": (lambda ops, a: ops.tanh(a), [(3,)]),
    "sigmoid": (lambda ops, a: ops.sigmoid(a), [(3,)]),
    "sin": (lambda ops, a: ops.sin(a), [(3,)]),
    "cos": (lambda ops, a: ops.cos(a), [(3,)]),
    "matmul 2-D by 1-D": (lambda ops, a, b: ops.matmul(a, b), [(2, 3), (3,)]),
    "matmul 1-D by 2-D": (lambda ops, a, b: ops.matmul(a, b), [(3,), (3, 2)]),
    "matmul batched": (lambda ops, a, b: ops.matmul(a, b), [(2, 2, 3), (2, 3, 4)]),
    "matmul broadcast": (lambda ops, a, b: ops.matmul(a, b), [(2, 2, 3), (3, 4)]),
    "reshape": (lambda ops, a: ops.reshape(a, (6,)), [(2, 3)]),
    "sum": (lambda ops, a: ops.sum(a, axis=1), [(2, 3)]),
    "min": (lambda ops, a: ops.min(a, axis=0), [(3, 2)]),
    "max": (lambda ops, a: ops.max(a), [(2, 3)]),
    "logsumexp": (lambda ops, a: ops.logsumexp(a, axis=1), [(2, 3)]),
    "concatenate": (lambda ops, a, b: ops.concatenate([a, b], axis=1), [(2, 1), (2, 3)]),
    "getitem": (lambda ops, a: a[np.array([0, 2, 2])] * a[1:], [(4,)]),
    "stack": (lambda ops, a, b: ops.stack([a, b], axis=1), [(2, 3), (2, 3)]),
    "transpose": (lambda ops, a: ops.transpose(a, (1, 2, 0)), [(2, 3, 4)]),
    "where": (lambda ops, a, b: ops.where(ops.value(a) > 1, a * a, b), [(4,), (4,)]),
}


@pytest.mark.parametrize("case", list(RULE_CASES))
def test_each_rule_matches_mpmath_central_difference(case):
    """sum(w * f(inputs)) for a random w: the tape's gradient along a random direction
    against a 40-digit central difference (h = 1e-15) of the same function."""
    f, shapes = RULE_CASES[case]
    rng = np.random.default_rng(7)
    inputs = [rng.uniform(0.5, 1.5, s) for s in shapes]
    directions = [rng.uniform(-1, 1, s) for s in shapes]
    ops = ReferenceOps()
    leaves = [ops.leaf(x) for x in inputs]
    out = f(ops, *leaves)
    w = rng.uniform(-1, 1, out.shape)
    grads = ops.grad(ops.sum(out * ops.const(w)), leaves)
    with mpmath.workdps(DIGITS):
        h = mpmath.mpf(10) ** -15

        def objective(sign):
            mp = ReferenceOps(digits=DIGITS)
            shifted = [
                mp.leaf(np.vectorize(mpmath.mpf, otypes=[object])(x) + sign * h * d)
                for x, d in zip(inputs, directions)
            ]
            return mp.sum(f(mp, *shifted) * mp.const(w)).value.item()

        difference = (objective(1) - objective(-1)) / (2 * h)
        along = mpmath.fsum(to_mp(g.value) @ d.ravel() for g, d in zip(grads, directions))
        scale = mpmath.fsum(abs(to_mp(g.value)) @ abs(d.ravel()) for g, d in zip(grads, directions))
        assert abs(along - difference) <= EXACT_ENOUGH * scale, (case, along, difference)
