"""saddle and particle: gradient descent differentiated through gradient descent (`rr`).

Both run Pearlmutter and Siskind's solver, as GradBench's tools run it, with reverse mode
inside and outside. The solvers loop until a computed value is small, so their control flow
depends on data (`data_loop`): a trace or a jit would freeze one run's step count.
"""

import numpy as np

from bench.workloads.gradbench.workload import Workload

# GradBench's published answers (its evals' `expect`), to check the solvers against.
SADDLE_EXPECTED = 8.246324826140356e-06
PARTICLE_EXPECTED = 0.2071918746486116
SADDLE_START = np.array([1.0, 1.0])
# GradBench's runs take 6-8 s of CPU a call in dezero and torch (saddle), minutes in jax
# eager; a short run starts with a larger step (fewer steps to the same minimum) and, for
# particle, nearer it: about 0.1 s (saddle) and 1 s (particle) in dezero, 40x in jax eager.
# It is the default and the quick size; GradBench's is the other size in the grid.
SADDLE_SIZES = ({"eta": 1e-5}, {"eta": 0.1})
PARTICLE_SIZES = ({"w0": 0.0, "eta": 1e-5}, {"w0": 0.207, "eta": 0.01})
SOLVER_NESTING = "the outer solver differentiates through the inner one's gradients"
SOLVER_LOOP = "the solver loops until a computed gradient or step is below 1e-5"


def argmin(ops, f, g, x, eta=1e-5):
    """Gradient descent: the step starts at `eta` (1e-5 in GradBench; larger only for a quick
    run), doubles after 10 accepted steps, halves on a rejected one; stop when the gradient
    or the step is below 1e-5. The updates are engine ops, so an outer gradient can flow
    through them; the tests are `ops.less`, so no value leaves the engine mid-derivative."""
    fx, gx, accepted = f(x), g(x), 0
    while ops.less(1e-5, ops.sqrt(ops.sum(gx * gx))):
        if accepted == 10:
            eta, accepted = 2 * eta, 0
            continue
        x_new = x - eta * gx
        if not ops.less(1e-5, ops.sqrt(ops.sum((x - x_new) * (x - x_new)))):
            break
        fx_new = f(x_new)
        if ops.less(fx_new, fx):
            x, fx, gx, accepted = x_new, fx_new, g(x_new), accepted + 1
        else:
            eta, accepted = eta / 2, 0
    return x


def _outer_argmin(ops, cost, x0, eta):
    """argmin over x of cost(x, nested): values by a plain call, gradients by differentiating
    a call whose inner gradients are recorded; the outer iterates are constants."""

    def g(x):
        return ops.const(ops.value(ops.grad_at(lambda y: cost(y, True), x, False)))

    return ops.value(argmin(ops, lambda x: cost(x, False), g, ops.const(x0), eta))


def _saddle_f(ops, p1, p2):
    return ops.sum(p1 * p1) - ops.sum(p2 * p2)


def saddle_rr(ops, params, consts):
    """min over p1 of max over p2 of |p1|^2 - |p2|^2, both solvers in reverse mode."""
    eta = consts["eta"]

    def inner_max(p1, nested):
        neg = lambda p2: -_saddle_f(ops, p1, p2)  # noqa: E731
        g = lambda p2: ops.grad_at(neg, p2, nested)  # noqa: E731
        return _saddle_f(ops, p1, argmin(ops, neg, g, ops.const(SADDLE_START), eta))

    p1 = _outer_argmin(ops, inner_max, SADDLE_START, eta)
    neg = lambda p2: -_saddle_f(ops, ops.const(p1), p2)  # noqa: E731
    g = lambda p2: ops.grad_at(neg, p2, False)  # noqa: E731
    p2 = argmin(ops, neg, g, ops.const(SADDLE_START), eta)
    return [np.concatenate([p1, ops.value(p2)])]


def particle_euler(ops, w, nested):
    """x_f(w)^2: a charge flies past two others (one at height 10 - w), Euler steps of 0.1
    until it crosses the x axis; the force is minus the gradient of the potential."""
    c1 = ops.concatenate([ops.const(np.array([10.0])), 10 - w])
    c2 = ops.const(np.array([10.0, 0.0]))

    def potential(x):
        d1, d2 = x - c1, x - c2
        return 1 / ops.sqrt(ops.sum(d1 * d1)) + 1 / ops.sqrt(ops.sum(d2 * d2))

    x, xdot, dt = ops.const(np.array([0.0, 8.0])), ops.const(np.array([0.75, 0.0])), 0.1
    while True:
        xddot = -ops.grad_at(potential, x, nested)
        x_new = x + dt * xdot
        if not ops.less(0.0, x_new[1]):
            break
        x, xdot = x_new, xdot + dt * xddot
    x_final = x + (-x[1] / xdot[1]) * xdot
    return x_final[0] * x_final[0]


def particle_rr(ops, params, consts):
    w0 = np.array([consts["w0"]])
    euler = lambda w, nested: particle_euler(ops, w, nested)  # noqa: E731
    return [_outer_argmin(ops, euler, w0, consts["eta"])]


SADDLE = Workload(
    "saddle",
    lambda size: ([], {"eta": size["eta"]}),
    saddle_rr,
    sizes=SADDLE_SIZES,
    default=SADDLE_SIZES[1:],
    quick=SADDLE_SIZES[1:],
    nested=SOLVER_NESTING,
    data_loop=SOLVER_LOOP,
)
PARTICLE = Workload(
    "particle",
    lambda size: ([], {"w0": size["w0"], "eta": size["eta"]}),
    particle_rr,
    sizes=PARTICLE_SIZES,
    default=PARTICLE_SIZES[1:],
    quick=PARTICLE_SIZES[1:],
    nested=SOLVER_NESTING,
    data_loop=SOLVER_LOOP + ", and the particle's Euler steps until it crosses the x axis",
)
