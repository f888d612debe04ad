"""GradBench's evaluations, each written once against an op namespace.

The namespaces (dezero, torch) are in bench.experiments.gradbench_engines.

Written from GradBench's specifications (evals/<name>/README.md in gradbench/gradbench);
sizes are its defaults, inputs drawn the way its generators draw them (uniform [0, 1) with
seed 31337, gmm from normals and uniforms), one fixed seed per case rather than its single
stream. lstm reads a text file GradBench ships; here the sequence is random bits of the
same shape (14 bits a character, ADBench's files).

A `Workload` has `inputs(size) -> (params, consts)` (numpy arrays) and `run(ops, params,
consts) -> list of numpy arrays`: for the plain evaluations the objective and its gradient
with respect to every param; for kmeans the Newton direction J / diag(H); for saddle and
particle the `rr` results (reverse over reverse), which differentiate through a solver.

Choices where the specification leaves one open:
- det: expansion by minors along rows with each minor computed once, a level per row
  (all k-column minors of the last k rows together), not the n!-term recursion.
- gmm: Q built by gathering from l padded with a zero, one gather for all k components.
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import multigammaln

SEED = 31337


@dataclass(frozen=True)
class Workload:
    name: str
    inputs: Callable  # size (dict) -> (params: list of arrays, consts: dict of arrays/ints)
    run: Callable  # (ops, params, consts) -> list of numpy arrays
    sizes: tuple  # GradBench's default grid
    quick: tuple  # small sizes for a test


def value_and_grad(objective):
    """A `run` that returns the objective and its gradient with respect to every param."""

    def run(ops, params, consts):
        leaves = [ops.leaf(p) for p in params]
        y = objective(ops, *leaves, **consts)
        grads = ops.grad(y, leaves)
        return [ops.value(y), *(ops.value(g) for g in grads)]

    run.__name__ = objective.__name__
    return run


def _grid(**axes):
    names = list(axes)
    return tuple(dict(zip(names, combo)) for combo in itertools.product(*axes.values()))


# ----------------------------------------------------------------------------- gmm
def gmm_inputs(size):
    d, k, n = size["d"], size["k"], size["n"]
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(n, d))
    alpha, mu = rng.normal(size=k), rng.uniform(size=(k, d))
    q, l = rng.normal(size=(k, d)), rng.normal(size=(k, d * (d - 1) // 2))
    # Q's strictly lower part is l filled column by column; position 0 of the padded l is
    # the zero that the diagonal and upper part gather.
    where = np.zeros((d, d), dtype=np.intp)
    rows, cols = np.triu_indices(d, 1)  # (j, i) pairs with i > j, in column-major order
    where[cols, rows] = np.arange(1, len(rows) + 1)
    consts = {"xT": x.T.reshape(1, d, n).copy(), "lower": where.ravel(), "m": 0, "gamma": 1.0}
    return [alpha, mu, q, l], consts


def gmm(ops, alpha, mu, q, l, xT, lower, m, gamma):
    k, d = mu.shape
    n = xT.shape[2]
    qexp = ops.exp(q)
    padded = ops.concatenate([ops.const(np.zeros((k, 1))), l], axis=1)
    Q = ops.reshape(padded[:, lower], (k, d, d)) + ops.reshape(qexp, (k, d, 1)) * ops.const(
        np.eye(d)
    )
    centred = ops.const(xT) - ops.reshape(mu, (k, d, 1))  # (k, d, n)
    Qx = ops.matmul(Q, centred)
    beta = ops.reshape(alpha + ops.sum(q, axis=1), (k, 1)) - 0.5 * ops.sum(Qx * Qx, axis=1)
    loglik = ops.sum(ops.logsumexp(beta, axis=0)) - n * (
        0.5 * d * math.log(2 * math.pi) + ops.logsumexp(alpha, axis=None)
    )
    dof = d + m + 1
    frobenius = ops.sum(qexp * qexp) + ops.sum(l * l)
    logprior = (
        k * (dof * d * math.log(gamma / math.sqrt(2)) - multigammaln(0.5 * dof, d))
        - 0.5 * gamma**2 * frobenius
        + m * ops.sum(q)
    )
    return loglik + logprior


# ----------------------------------------------------------------------------- lstm
LSTM_CHAR_BITS = 14


def lstm_inputs(size):
    layers, chars, b = size["l"], size["c"], LSTM_CHAR_BITS
    rng = np.random.default_rng(SEED)
    state = rng.uniform(size=(2 * layers, b))
    main = rng.uniform(size=(2 * layers, 4 * b))
    extra = rng.uniform(size=(3, b))
    sequence = rng.integers(0, 2, size=(chars, b)).astype(np.float64)
    return [main, extra], {"state": state, "sequence": sequence}


def lstm(ops, main, extra, state, sequence):
    """ADBench's LSTM: diagonal weights, gates from (input, hidden, input, hidden), and its
    log(sum(exp) + 2) normaliser."""
    layers, b = state.shape[0] // 2, state.shape[1]
    weight = [main[2 * i] for i in range(layers)]
    bias = [main[2 * i + 1] for i in range(layers)]
    w_in, w_out, b_out = extra[0], extra[1], extra[2]
    hidden = [ops.const(state[2 * i]) for i in range(layers)]
    cell = [ops.const(state[2 * i + 1]) for i in range(layers)]
    total = 0.0
    for t in range(len(sequence) - 1):
        x = ops.const(sequence[t]) * w_in
        for i in range(layers):
            gates = ops.concatenate([x, hidden[i], x, hidden[i]]) * weight[i] + bias[i]
            forget, ingate = ops.sigmoid(gates[:b]), ops.sigmoid(gates[b : 2 * b])
            outgate, change = ops.sigmoid(gates[2 * b : 3 * b]), ops.tanh(gates[3 * b :])
            cell[i] = cell[i] * forget + ingate * change
            hidden[i] = outgate * ops.tanh(cell[i])
            x = hidden[i]
        ypred = x * w_out + b_out
        ynorm = ypred - ops.log(ops.sum(ops.exp(ypred)) + 2)
        total = total + ops.sum(ops.const(sequence[t + 1]) * ynorm)
    return -total / ((len(sequence) - 1) * b)


# ----------------------------------------------------------------------------- llsq, lse
def llsq_inputs(size):
    n, m = size["n"], size["m"]
    t = -1 + np.arange(n) * 2 / (n - 1)
    x = np.random.default_rng(SEED).uniform(size=m)
    return [x], {"V": np.vander(t, m, increasing=True), "s": np.sign(t)}


def llsq(ops, x, V, s):
    r = ops.const(s) - ops.matmul(ops.const(V), x)
    return 0.5 * ops.sum(r * r)


def lse_inputs(size):
    return [np.random.default_rng(SEED).uniform(size=size["n"])], {}


def lse(ops, x):
    a = ops.max(x)
    return a + ops.log(ops.sum(ops.exp(x - a)))


# ----------------------------------------------------------------------------- det
def det_inputs(size):
    ell = size["ell"]
    A = np.random.default_rng(SEED).uniform(size=(ell, ell))
    levels = []  # for k = 2..ell: positions in A of row ell-k's entries, and sub-minor indices
    subsets = {(j,): j for j in range(ell)}
    for k in range(2, ell + 1):
        combos = list(itertools.combinations(range(ell), k))
        entries = np.array([[(ell - k) * ell + j for j in S] for S in combos])
        minors = np.array([[subsets[S[:p] + S[p + 1 :]] for p in range(k)] for S in combos])
        subsets = {S: i for i, S in enumerate(combos)}
        levels.append((entries, minors, np.resize([1.0, -1.0], k)))
    return [A], {"levels": levels}


def det(ops, A, levels):
    """Expansion by minors along each row, each minor of the last k rows computed once."""
    ell = A.shape[0]
    flat = ops.reshape(A, (ell * ell,))
    minors = flat[(ell - 1) * ell :]
    for entries, sub, sign in levels:
        minors = ops.sum(flat[entries] * ops.const(sign) * minors[sub], axis=1)
    return minors[0]


# ----------------------------------------------------------------------------- ode
def ode_inputs(size):
    return [np.random.default_rng(SEED).uniform(size=size["n"])], {"s": size["s"]}


def ode(ops, x, s):
    """RK4 with s steps to t = 2 of y0' = x0, yi' = xi y(i-1); the last component."""
    h = 2.0 / s
    head, tail = x[:1], x[1:]

    def f(y):
        return ops.concatenate([head, tail * y[:-1]])

    y = ops.const(np.zeros(x.shape[0]))
    for _ in range(s):
        k1 = f(y)
        k2 = f(y + (h / 2) * k1)
        k3 = f(y + (h / 2) * k2)
        k4 = f(y + h * k3)
        y = y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
    return y[-1]


# ----------------------------------------------------------------------------- kmeans
def kmeans_inputs(size):
    k, n, d = size["k"], size["n"], size["d"]
    points = np.random.default_rng(SEED).uniform(size=(n, d))
    # the last k points as centroids: every cluster has a point, so diag(H) > 0
    return [points[-k:].copy()], {
        "PT": points.T.copy(),
        "p_sqr": (points**2).sum(1).reshape(1, n),
    }


def kmeans_cost(ops, C, PT, p_sqr):
    k = C.shape[0]
    dists = ops.const(p_sqr) + ops.reshape(ops.sum(C * C, axis=1), (k, 1))
    dists = dists - 2 * ops.matmul(C, ops.const(PT))
    return ops.sum(ops.min(dists, axis=0))


def kmeans_dir(ops, params, consts):
    """Newton's direction J / diag(H); H is diagonal, so H @ ones is its diagonal."""
    C = ops.leaf(params[0])
    (J,) = ops.grad(kmeans_cost(ops, C, **consts), [C], create_graph=True)
    (H,) = ops.grad(ops.sum(J), [C])
    return [ops.value(J) / ops.value(H)]


# ----------------------------------------------------------------------------- nested
def argmin(ops, f, g, x, eta=1e-5):
    """Pearlmutter and Siskind's gradient descent, as GradBench's tools run it: the step
    starts at `eta` (1e-5 in GradBench; larger only for a quick test), doubles after 10
    accepted steps, halves on a rejected one; stop when the gradient or the step is below
    1e-5. Its updates are engine ops, so an outer gradient can flow through it."""
    fx, gx, accepted = ops.value(f(x)), g(x), 0
    while np.sqrt(np.sum(ops.value(gx) ** 2)) > 1e-5:
        if accepted == 10:
            eta, accepted = 2 * eta, 0
            continue
        x_new = x - eta * gx
        if np.sqrt(np.sum((ops.value(x) - ops.value(x_new)) ** 2)) <= 1e-5:
            break
        fx_new = ops.value(f(x_new))
        if fx_new < fx:
            x, fx, gx, accepted = x_new, fx_new, g(x_new), accepted + 1
        else:
            eta, accepted = eta / 2, 0
    return x


def _outer_argmin(ops, cost, x0, eta):
    """argmin of cost(x, nested) over x: values by a plain call, gradients by differentiating
    a call whose inner gradients are recorded (create_graph)."""

    def g(x):
        leaf = ops.leaf(ops.value(x))
        return ops.const(ops.value(ops.grad(cost(leaf, True), [leaf])[0]))

    return ops.value(argmin(ops, lambda x: cost(x, False), g, ops.const(x0), eta))


def _saddle_f(ops, p1, p2):
    return ops.sum(p1 * p1) - ops.sum(p2 * p2)


def saddle_rr(ops, params, consts):
    """min over p1 of max over p2 of |p1|^2 - |p2|^2, both solvers in reverse mode."""
    start, eta = consts["start"], consts["eta"]

    def inner_max(p1, nested):
        neg = lambda p2: -_saddle_f(ops, p1, p2)  # noqa: E731
        g = lambda p2: ops.grad_at(neg, p2, nested)  # noqa: E731
        return _saddle_f(ops, p1, argmin(ops, neg, g, ops.const(start), eta))

    p1 = _outer_argmin(ops, inner_max, start, eta)
    neg = lambda p2: -_saddle_f(ops, ops.const(p1), p2)  # noqa: E731
    p2 = argmin(ops, neg, lambda p2: ops.grad_at(neg, p2, False), ops.const(start), eta)
    return [np.concatenate([p1, ops.value(p2)])]


def particle_euler(ops, w, nested):
    """x_f(w)^2: a charge flies past two others (one at height 10 - w), Euler steps of 0.1
    until it crosses the x axis; the force is minus the gradient of the potential."""
    c1 = ops.concatenate([ops.const(np.array([10.0])), 10 - w])
    c2 = ops.const(np.array([10.0, 0.0]))

    def potential(x):
        return 1 / ops.sqrt(ops.sum((x - c1) ** 2)) + 1 / ops.sqrt(ops.sum((x - c2) ** 2))

    x, xdot, dt = ops.const(np.array([0.0, 8.0])), ops.const(np.array([0.75, 0.0])), 0.1
    while True:
        xddot = -ops.grad_at(potential, x, nested)
        x_new = x + dt * xdot
        if ops.value(x_new)[1] <= 0:
            break
        x, xdot = x_new, xdot + dt * xddot
    x_final = x + (-x[1] / xdot[1]) * xdot
    return x_final[0] ** 2


def particle_rr(ops, params, consts):
    w0 = np.array([consts["w0"]])
    euler = lambda w, nested: particle_euler(ops, w, nested)  # noqa: E731
    return [_outer_argmin(ops, euler, w0, consts["eta"])]


# GradBench's published answers (its evals' `expect`), to check the solvers against.
SADDLE_EXPECTED = 8.246324826140356e-06
PARTICLE_EXPECTED = 0.2071918746486116
QUICK_ETA = 0.01  # the nested solvers' first step for --quick: fewer steps, same minimum

WORKLOADS = {
    w.name: w
    for w in (
        Workload(
            "gmm",
            gmm_inputs,
            value_and_grad(gmm),
            _grid(d=(2, 10, 20, 32, 64), k=(5, 10, 25, 50, 100), n=(1000,)),
            _grid(d=(3,), k=(4,), n=(20,)),
        ),
        Workload(
            "lstm",
            lstm_inputs,
            value_and_grad(lstm),
            _grid(l=(2, 4, 6), c=(1024, 4096, 8192)),
            _grid(l=(2,), c=(8,)),
        ),
        Workload(
            "llsq",
            llsq_inputs,
            value_and_grad(llsq),
            _grid(n=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8196, 16392), m=(128,)),
            _grid(n=(16,), m=(8,)),
        ),
        Workload(
            "lse",
            lse_inputs,
            value_and_grad(lse),
            _grid(n=tuple(2500 * 2**i for i in range(10))),
            _grid(n=(50,)),
        ),
        Workload(
            "det",
            det_inputs,
            value_and_grad(det),
            _grid(ell=(5, 6, 7, 8, 9, 10, 11)),
            _grid(ell=(4,)),
        ),
        Workload(
            "ode",
            ode_inputs,
            value_and_grad(ode),
            _grid(n=(1000, 10000, 100000), s=(1, 10, 100)),
            _grid(n=(10,), s=(3,)),
        ),
        Workload(
            "kmeans",
            kmeans_inputs,
            kmeans_dir,
            _grid(k=(10, 100, 1000), n=(1000, 10000), d=(8, 16)),
            _grid(k=(3,), n=(30,), d=(2,)),
        ),
        Workload(
            "saddle",
            lambda size: ([], {"start": np.array(size["start"]), "eta": size["eta"]}),
            saddle_rr,
            ({"start": (1.0, 1.0), "eta": 1e-5},),
            ({"start": (1.0, 1.0), "eta": QUICK_ETA},),
        ),
        Workload(
            "particle",
            lambda size: ([], {"w0": size["w0"], "eta": size["eta"]}),
            particle_rr,
            ({"w0": 0.0, "eta": 1e-5},),
            ({"w0": 0.21, "eta": QUICK_ETA},),
        ),
    )
}
