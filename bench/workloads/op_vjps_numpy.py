"""numpy references with the fuzzer's attributes, and their vjps, for the numpy-style functions
(bench/workloads/op_table_numpy.py): abs, sqrt, maximum, minimum, where, logsumexp, concatenate,
stack, tril, triu and einsum.

Each vjp is `vjp(gy, *xs, y, **attrs)` at the broadcast shape (the tape sums it back) and holds
for any numpy dtype, complex included: selections (abs, maximum, minimum) are taken on the
real part, so the complex step follows the real computation's branch. The fuzzer never draws
a tie (maximum of equal values, abs of an exact 0), so no tie convention is encoded here.
"""

import numpy as np

from bench.workloads.ops import expand


def condition(*xs):
    """where's default condition for operands of these shapes: every third element takes the
    second."""
    shape = np.broadcast_shapes(*(tuple(np.shape(x)) for x in xs))
    return np.arange(int(np.prod(shape))).reshape(shape) % 3 != 1


def mask_of(a, b, mask=None):
    """where's condition: `mask` (flat 0/1 over the broadcast shape, as a fuzz program stores
    it) or the default `condition`."""
    if mask is None:
        return condition(a, b)
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    return np.asarray(mask, dtype=bool).reshape(shape)


def np_abs(x):
    return np.where(x.real < 0, -x, x)


def abs_vjp(gy, x, y):
    return (gy * np.where(x.real < 0, -1.0, 1.0),)


def sqrt_vjp(gy, x, y):
    return (gy / (2 * y),)


def np_maximum(a, b):
    return np.where(a.real > b.real, a, b)


def maximum_vjp(gy, a, b, y):
    return gy * (a.real > b.real), gy * (a.real <= b.real)


def np_minimum(a, b):
    return np.where(a.real < b.real, a, b)


def minimum_vjp(gy, a, b, y):
    return gy * (a.real < b.real), gy * (a.real >= b.real)


def np_where(a, b, mask=None):
    return np.where(mask_of(a, b, mask), a, b)


def where_vjp(gy, a, b, y, mask=None):
    keep = mask_of(a, b, mask)
    return gy * keep, gy * ~keep


def np_logsumexp(x, axis=None, keepdims=False):
    """Without the shift, at np.longdouble (whose exp reaches e^11356), rounded to x's dtype;
    complex-step arguments are clongdouble already."""
    wide = x if np.iscomplexobj(x) else np.asarray(x, dtype=np.longdouble)
    y = np.log(np.sum(np.exp(wide), axis=axis, keepdims=keepdims))
    return y if np.iscomplexobj(x) else y.astype(np.asarray(x).dtype)


def logsumexp_vjp(gy, x, y, axis=None, keepdims=False):
    return (expand(gy, x.shape, axis, keepdims) * np.exp(x - expand(y, x.shape, axis, keepdims)),)


def np_concatenate(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


def concatenate_vjp(gy, *xs_y, axis=0):
    xs = xs_y[:-1]
    if axis is None:
        gy = gy.reshape(-1)
        cuts = np.cumsum([np.size(x) for x in xs])[:-1]
        return tuple(g.reshape(np.shape(x)) for g, x in zip(np.split(gy, cuts), xs))
    cuts = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
    return tuple(np.split(gy, cuts, axis=axis))


def np_stack(*xs, axis=0):
    return np.stack(xs, axis=axis)


def stack_vjp(gy, *xs_y, axis=0):
    return tuple(np.take(gy, i, axis=axis) for i in range(len(xs_y) - 1))


def np_tril(x, k=0):
    return np.tril(x, k)


def tril_vjp(gy, x, y, k=0):
    return (np.tril(gy, k),)


def np_triu(x, k=0):
    return np.triu(x, k)


def triu_vjp(gy, x, y, k=0):
    return (np.triu(gy, k),)


def _explicit(spec, n):
    """(input label strings, output labels) of an einsum `spec`; an implicit output is
    numpy's: the labels seen once, in alphabetical order."""
    ins, arrow, out = spec.replace(" ", "").partition("->")
    ins = ins.split(",")
    if "." in spec or len(ins) != n or any(len(set(s)) < len(s) for s in ins):
        raise ValueError(
            f"einsum spec {spec!r}: the reference vjp takes {n} operands without ellipses "
            "or repeated labels"
        )
    if not arrow:
        labels = "".join(ins)
        out = "".join(sorted(c for c in set(labels) if labels.count(c) == 1))
    return ins, out


def einsum_vjp(gy, *xs_y, spec="ij,jk->ik"):
    """Each operand's gradient: the einsum of gy with the other operands onto its labels,
    broadcast over the labels only it has (summed out by the forward)."""
    xs = xs_y[:-1]
    ins, out = _explicit(spec, len(xs))
    grads = []
    for i, x in enumerate(xs):
        others = [s for j, s in enumerate(ins) if j != i] + [out]
        operands = [a for j, a in enumerate(xs) if j != i] + [gy]
        seen = set("".join(others))
        kept = "".join(c for c in ins[i] if c in seen)
        g = np.einsum(",".join(others) + "->" + kept, *operands)
        for axis, c in enumerate(ins[i]):
            if c not in seen:
                g = np.expand_dims(g, axis)
        grads.append(np.broadcast_to(g, np.shape(x)))
    return tuple(grads)
