"""The seed's central difference (`dezero.utils.numerical_diff`) on scalar chains.

Shown next to the AD rows of the accuracy table to make the case for AD: at the book's
eps = 1e-4 a central difference keeps about 8 digits in float64 and fewer than 4 in float32, and
even the best eps of a scan loses about a third of the digits.
"""

from __future__ import annotations

import numpy as np

BOOK_EPS = 1e-4
EPS_SCAN = tuple(10.0**-k for k in range(1, 13))


def central_differences(forward, x, eps_values=EPS_SCAN) -> list[tuple[float, np.ndarray]]:
    """(eps, numerical_diff estimate) for each eps; `forward(x_data) -> output array`.

    The estimate stays in x's dtype: numerical_diff subtracts eps from x.data, and numpy keeps
    a float32 array float32 against a Python float.
    """
    from dezero import Variable
    from dezero.utils import numerical_diff

    def f(v):
        return Variable(np.asarray(np.sum(forward(v.data))))

    return [(eps, np.asarray(numerical_diff(f, Variable(x), eps=eps))) for eps in eps_values]


def best_eps(estimates, ref) -> tuple[float, np.ndarray]:
    """The (eps, estimate) of `central_differences` closest to the reference derivative."""
    ref = np.asarray(ref, dtype=np.longdouble)

    def error(pair):
        err = np.abs(pair[1].astype(np.longdouble) - ref).max()
        return err if np.isfinite(err) else np.inf

    return min(estimates, key=error)
