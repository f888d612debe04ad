"""kmeans: Newton's direction J / diag(H) for the k-means cost, as GradBench defines it.

The cost is the sum over points of the squared distance to the nearest centroid; its
Hessian is diagonal, so the gradient of sum(J) is diag(H): one reverse pass over another.
"""

import numpy as np

from bench.workloads.gradbench.workload import SEED, Workload, grid


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
    """J / diag(H): the value of the gradient J and the gradient of sum(J) in one call."""

    def gradient(C):
        return ops.grad_at(lambda C: kmeans_cost(ops, C, **consts), C, True)

    J, (H,) = ops.value_and_grad(gradient, params)
    return [ops.value(J) / ops.value(H)]


WORKLOAD = Workload(
    "kmeans",
    kmeans_inputs,
    kmeans_dir,
    sizes=grid(k=(10, 100, 1000), n=(1000, 10000), d=(8, 16)),
    default=grid(k=(10, 100), n=(1000,), d=(8,)),
    quick=grid(k=(3,), n=(30,), d=(2,)),
    nested="the Hessian's diagonal is the gradient of a gradient",
)
