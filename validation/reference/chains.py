"""The reference and the rounding floor of one chain case, cached in-process.

Elementwise chains get mpmath dual numbers (`validation.reference.duals`); the others (`mlp`,
whose mpmath matmuls would be far too slow) the longdouble tape (`validation.reference.tape`):
reverse mode with a 64-bit mantissa (x86). Every backend of a sweep is compared with the same
cached reference, and the gate and the depth tables read the same cached floor.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mpmath
import numpy as np

from bench.workloads.chains import Chain, make_chain
from validation.reference.duals import DEFAULT_BITS, dual_scalar, mp_to_longdouble
from validation.reference.floor import chain_floor
from validation.reference.tape import run_chain

# Elementwise chains wider than this are checked on an evenly spaced subsample of elements:
# mpmath costs tens of microseconds per op, so depth 10^4 x width 10^3 would take minutes.
MAX_MPMATH_ELEMENTS = 8
LONGDOUBLE_BITS = np.finfo(np.longdouble).nmant + 1


@dataclass(frozen=True)
class Reference:
    """Reference objective value and gradients, as np.longdouble arrays.

    `value` is sum(output); `grads` are d/dx then one per param. For elementwise chains
    checked on a subsample, `elements` holds the flat indices of x the grad covers, `grads[0]`
    has only those entries, and `outputs` holds the per-element outputs (value is then NaN).
    """

    kind: str
    bits: int
    value: np.longdouble
    grads: tuple
    elements: np.ndarray | None = None
    outputs: np.ndarray | None = None


def longdouble_reference(chain: Chain, dtype) -> Reference:
    """Reverse mode over the registry's numpy functions at np.longdouble (for `mlp`)."""
    _, value, grads = run_chain(chain, dtype)
    return Reference("longdouble", LONGDOUBLE_BITS, value, tuple(grads))


def dual_reference(chain: Chain, dtype, bits: int = DEFAULT_BITS) -> Reference:
    """mpmath forward-mode reference for an elementwise chain, at x rounded to `dtype`."""
    if not chain.elementwise:
        raise ValueError(f"dual reference needs an elementwise chain, got family {chain.family!r}")
    x = np.asarray(chain.x, dtype=dtype).ravel()
    if x.size <= MAX_MPMATH_ELEMENTS:
        elements = np.arange(x.size)
    else:
        elements = np.unique(np.linspace(0, x.size - 1, MAX_MPMATH_ELEMENTS).round().astype(int))
    pairs = [dual_scalar(chain, float(x[i]), bits) for i in elements]
    outputs = np.array([mp_to_longdouble(v) for v, _ in pairs], dtype=np.longdouble)
    grad = np.array([mp_to_longdouble(d) for _, d in pairs], dtype=np.longdouble)
    if elements.size == x.size:
        with mpmath.workprec(bits):
            value = mp_to_longdouble(mpmath.fsum(v for v, _ in pairs))
        kind = "mpmath"
    else:
        value = np.longdouble(np.nan)
        kind = f"mpmath {elements.size}/{x.size} elements"
    grad = grad.reshape(np.shape(chain.x)) if elements.size == x.size else grad
    return Reference(kind, bits, value, (grad,), elements, outputs)


@functools.lru_cache(maxsize=256)
def reference(family: str, depth: int, width: int, seed: int, dtype_name: str) -> Reference:
    """The reference for `make_chain(family, depth, width, seed)` with inputs rounded to dtype."""
    chain = make_chain(family, depth, width, seed=seed)
    dtype = np.dtype(dtype_name)
    if chain.elementwise:
        return dual_reference(chain, dtype)
    return longdouble_reference(chain, dtype)


@functools.lru_cache(maxsize=256)
def case_floor(family: str, depth: int, width: int, seed: int, dtype_name: str) -> dict:
    """`chain_floor` of `make_chain(family, depth, width, seed)` on the elements its `reference`
    checks: quantity -> `Floor`, the one floor of the case that every table and gate reads."""
    ref = reference(family, depth, width, seed, dtype_name)
    chain = make_chain(family, depth, width, seed=seed)
    return chain_floor(chain, np.dtype(dtype_name), ref.elements)
