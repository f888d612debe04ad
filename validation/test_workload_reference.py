"""The exact reference of GradBench's evaluations is exact enough: the same definitions at 40
digits in mpmath agree with it far below float64's rounding, its gradients match mpmath's
central differences of the objective, and its second derivatives (a complex step over the
tape) match a closed form and mpmath's differences of a first derivative."""

import mpmath
import numpy as np
import pytest

from bench.workloads.gradbench import WORKLOADS, ba, ht
from bench.workloads.gradbench.nested import particle_euler
from validation.reference.floor import replay_floor
from validation.reference.workload_cases import quantities, size_key, workload_floor
from validation.reference.workloads import ReferenceOps, run_reference

DIGITS = 40
# float64 ULP at 1 is 2.2e-16: agreeing to 1e-17 normwise is under 1/20 ULP, while a case's
# floor is at least half an ULP and the gate allows 16 more (lse and det, whose results
# cancel, are 2e-18 off in longdouble; the others under 3e-19).
EXACT_ENOUGH = 1e-17
PLAIN = ["gmm", "lstm", "llsq", "lse", "det", "ode", "hello"]
JACOBIANS = ["ba", "ht"]  # outputs: residuals and their Jacobian blocks


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


@pytest.mark.parametrize("name", [*PLAIN, *JACOBIANS, "kmeans"])
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
    ops = ReferenceOps(digits=DIGITS)
    return workload.run(ops, *ops.inputs(params, consts))[0]


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


def _ht_values(ops, params, consts):
    (us, theta), consts = ops.inputs(params, consts)
    return [ht.residuals(ops, us, theta, **consts)]


def _ht_along(outputs, directions, consts):
    """ht's residuals moved along (du, dtheta) by its Jacobian blocks: a point's residual
    depends on its own us and on theta."""
    _, d_us, d_theta = outputs
    du, dtheta = directions
    return [(d_us * du[:, None, :]).sum(-1) + d_theta @ dtheta]


def _ba_values(ops, params, consts):
    (cams, X, w), consts = ops.inputs(params, consts)
    rows = cams[consts["camera_of"]], X[consts["point_of"]]
    return [ba.reprojection(ops, *rows, w, consts["feats"]), 1 - w * w]


def _ba_along(outputs, directions, consts):
    """ba's residuals and weight terms moved along (dcams, dX, dw) by the blocks: an
    observation's residual depends on its camera, its point and its weight."""
    _, _, d_cam, d_X, d_w, d_werr = outputs
    dcams, dX, dw = directions
    dcams, dX = dcams[consts["camera_of"]], dX[consts["point_of"]]
    moved = (d_cam * dcams[:, None]).sum(-1) + (d_X * dX[:, None]).sum(-1) + d_w * dw[:, None]
    return [moved, d_werr * dw]


JACOBIAN_CHECKS = {"ht": (_ht_values, _ht_along), "ba": (_ba_values, _ba_along)}


@pytest.mark.parametrize("name", JACOBIANS)
def test_reference_jacobian_matches_mpmath_central_difference(name):
    """Every Jacobian block along a random direction against (r(p + h v) - r(p - h v)) / 2h
    of the residuals at 40 digits (h = 1e-12, as for the gradients): ht's theta block is
    `ReferenceOps.jacfwd`, built from reverse rows."""
    values, along = JACOBIAN_CHECKS[name]
    workload = WORKLOADS[name]
    params, consts = workload.inputs(workload.quick[0])
    reference, _ = run_reference(workload, workload.quick[0])
    rng = np.random.default_rng(2)
    directions = [rng.uniform(-1, 1, np.shape(p)) for p in params]  # float64: exact as mpf
    wide = [d.astype(np.longdouble) for d in directions]
    predicted = along(reference, wide, consts)
    scales = along([np.abs(o) for o in reference], [np.abs(d) for d in wide], consts)
    with mpmath.workdps(DIGITS):
        h = mpmath.mpf(10) ** -12
        mp = [np.vectorize(mpmath.mpf, otypes=[object])(p) for p in params]
        ends = [
            values(ReferenceOps(digits=DIGITS), [p + s * h * d for p, d in zip(mp, directions)],
                   consts)
            for s in (1, -1)
        ]  # fmt: skip
        for k, (want, scale) in enumerate(zip(predicted, scales, strict=True)):
            difference = (ends[0][k].value - ends[1][k].value).ravel() / (2 * h)
            error = max(abs(g - d) for g, d in zip(to_mp(want), difference))
            assert error / max(to_mp(scale)) < EXACT_ENOUGH, (name, k, error)


def test_jacfwd_is_the_jacobian():
    """jacfwd of x * sum(x**2) (a dense Jacobian, one column per entry of x on the last axis)
    is diag(s) + 2 x x^T, s = sum(x**2); a second output axis keeps its place."""
    ops = ReferenceOps()
    x0 = np.array([0.5, -1.5, 2.0])
    J = ops.jacfwd(lambda x: ops.reshape(x * ops.sum(x * x), (3, 1)), x0).value
    x0 = x0.astype(np.longdouble)
    want = np.diag(np.full(3, np.sum(x0 * x0))) + 2 * np.outer(x0, x0)
    assert J.shape == (3, 1, 3)
    assert np.max(np.abs(J[:, 0, :] - want)) < EXACT_ENOUGH * np.max(np.abs(want))


def test_scan_carries_and_differentiates_its_rows():
    """scan over the rows of a (3, 2) array with carry c -> c * row + 1: the carry and its
    gradient with respect to the rows (through the recorded row reads) are the closed form."""
    ops = ReferenceOps()
    rows0 = np.array([[2.0, 3.0], [0.5, -1.0], [4.0, 0.25]])
    rows = ops.leaf(rows0)
    out = ops.scan(lambda c, r: c * r[0] + 1, ops.const(np.ones(2)), (rows,))
    (g,) = ops.grad(ops.sum(out), [rows])
    a, b, c = rows0.astype(np.longdouble)
    assert np.all(out.value == ((a + 1) * b + 1) * c + 1)
    assert np.all(g.value == np.stack([b * c, (a + 1) * c, (a + 1) * b + 1]))
    assert ops.less(ops.sum(out), 1e3) and not ops.less(1e3, ops.sum(out))


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
    program run with first derivatives only, to 30 digits (the mechanism is exact). The
    difference is taken at 80 digits with h = 1e-20: its truncation is of order h**2 (6e-25
    relative at h = 1e-14, 1e-36 here) and the rounding of positions near 10 divided by h
    far below that (at 40 digits and h = 1e-15 that rounding alone is 2e-25). In
    longdouble it is as far from that as the program's conditioning makes it (1e4: its own
    value is 1e-15 off), under 1/100 of its rounding floor at float64."""
    w0 = WORKLOADS["particle"].quick[0]["w0"]
    reference = _particle_derivative(w0)
    floor = replay_floor(
        lambda noise: {"d": _particle_derivative(w0, noise=noise)}, np.dtype(np.float64), replays=2
    )["d"]
    with mpmath.workdps(DIGITS):
        exact = _particle_derivative(mpmath.mpf(w0), DIGITS)[0]
        error = float(abs(to_mp(reference)[0] - exact))
    with mpmath.workdps(2 * DIGITS):
        h = mpmath.mpf(10) ** -20
        ends = [_particle(mpmath.mpf(w0) + s * h, False, DIGITS)[2].value.item() for s in (1, -1)]
        assert abs(exact - (ends[0] - ends[1]) / (2 * h)) < 1e-30 * abs(exact)
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


@pytest.mark.parametrize("name", [*PLAIN, *JACOBIANS, "kmeans"])
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
