"""det: the determinant by expansion along rows, and its gradient.

Where GradBench's definition leaves the order open: expansion by minors along each row with
each minor computed once, a level per row (all k-column minors of the last k rows together),
not the n!-term recursion.
"""

import itertools

import numpy as np

from bench.workloads.gradbench.workload import SEED, Workload, grid, objective_and_gradients


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


WORKLOAD = Workload(
    "det",
    det_inputs,
    objective_and_gradients(det),
    sizes=grid(ell=(5, 6, 7, 8, 9, 10, 11)),
    default=grid(ell=(5, 8, 11)),
    quick=grid(ell=(4,)),
)
