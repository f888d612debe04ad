"""gmm: the log-likelihood of a Gaussian mixture under a Wishart prior, and its gradient.

Inputs as GradBench's generator draws them (points and alpha, q, l from normals, means
uniform in [0, 1)), with its seed. The covariance factor Q of each component is built by
one gather from l padded with a zero (its strictly lower part filled column by column) plus
exp(q) on the diagonal: one gather for all k components.
"""

import math

import numpy as np
from scipy.special import multigammaln

from bench.workloads.gradbench.workload import SEED, Workload, grid, objective_and_gradients


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


WORKLOAD = Workload(
    "gmm",
    gmm_inputs,
    objective_and_gradients(gmm),
    sizes=grid(d=(2, 10, 20, 32, 64), k=(5, 10, 25, 50, 100), n=(1000,)),
    default=grid(d=(2, 10), k=(5, 25), n=(1000,)),
    quick=grid(d=(3,), k=(4,), n=(20,)),
)
