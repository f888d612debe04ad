"""Fuzz draws for the numpy-style functions: abs, sqrt, maximum, minimum, where, logsumexp,
concatenate, stack, einsum, tril and triu (their rules are the op table's,
bench/workloads/op_vjps_numpy.py).

The domain edges are where these functions go wrong, so they are drawn on purpose: abs and
maximum/minimum at near-ties (inputs within 1e-6 of 0; maximum of an input against its
one-ULP neighbour), sqrt near 0 (inputs from 1e-12), and logsumexp over values 1,400 apart,
which an engine must shift to keep finite. Exact ties stay out, as for max: abs of a node
that can be exactly 0, maximum of a node with itself or of tied values. There the derivative
is a convention (torch and jax split a maximum tie 1/2-1/2, autograd gives it to both),
not a bug.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from validation.fuzz.intervals import MAGNITUDE, MAX_DIM, Node, Reject, corners, integer, within

NUMPY_API = (
    "abs",
    "sqrt",
    "maximum",
    "minimum",
    "where",
    "logsumexp",
    "concatenate",
    "stack",
    "einsum",
    "tril",
    "triu",
)
NUMPY_API_BINARY = ("maximum", "minimum", "where")
NUMPY_API_VARIADIC = ("concatenate", "stack", "einsum")  # one or more operands
# einsum specs by the operands' dimensions: a reduction or transpose of one operand, then
# contractions with a second (1-D: outer and inner products; 2-D: matmul-like and rowwise)
EINSUM_UNARY = {1: ("i->",), 2: ("ij->ji", "ij->i", "ij->j")}
EINSUM_BINARY = {1: ("i,j->ij", "i,i->"), 2: ("ij,jk->ik", "ij,ij->i", "ij,kj->ik")}
TRIANGLE_OFFSETS = (0, 1, -1)
# the reference sums exp unshifted at longdouble, whose exp overflows past 11356
LOGSUMEXP_DOMAIN = (-1e4, 1e4)


def numpy_api_legal(name: str, node: Node) -> bool:
    """Whether numpy-style op `name` may take `node` as its first argument."""
    ndim = len(node.shape)
    if name == "abs":  # no exact 0: abs's kink
        return not node.tied or node.lo > 0 or node.hi < 0
    if name == "sqrt":
        return node.lo > 0
    if name in ("maximum", "minimum"):
        return not node.tied
    if name == "concatenate":
        return ndim >= 1
    if name == "stack":
        return ndim <= 2
    if name == "einsum":
        return ndim in (1, 2)
    if name in ("tril", "triu"):
        return ndim >= 2
    if name == "logsumexp":
        return within(node, LOGSUMEXP_DOMAIN)
    return True  # where


class NumpyApiDraws:
    """The builder's (`validation.fuzz.programs._Builder`) draws for NUMPY_API: each returns
    `(args, attrs, Node)` for the new node, like the builder's own."""

    def _pick(self, fits):
        return fits[integer(self.draw, 0, len(fits) - 1)]

    def _abs(self, first):
        a = self.info[first]
        lo, hi = (0.0, max(-a.lo, a.hi)) if a.lo < 0 < a.hi else sorted((abs(a.lo), abs(a.hi)))
        return [first], {}, Node(a.shape, lo, hi, a.tied)

    def _sqrt(self, first):
        a = self.info[first]
        return [first], {}, Node(a.shape, math.sqrt(a.lo), math.sqrt(a.hi), a.tied)

    def _extremum_operand(self, first):
        """maximum/minimum's second operand: a one-ULP neighbour of an input (a near-tie), an
        earlier untied node that broadcasts, or a new input; never `first` itself (a tie)."""
        a, node = self.info[first], self.nodes[first]
        how = self.draw(st.integers(0, 2))
        if how == 0 and node["op"] == "input":
            toward = self.draw(st.sampled_from((math.inf, -math.inf)))
            values = np.nextafter(np.asarray(node["values"]), toward)
            self.nodes.append({**node, "values": values.tolist()})
            self.info.append(Node(a.shape, float(values.min()), float(values.max())))
            return len(self.nodes) - 1
        if how == 1:
            fits = [i for i, b in enumerate(self.info) if i != first and not b.tied]
            fits = [i for i in fits if _broadcasts(a.shape, self.info[i].shape)]
            if fits:
                return self._pick(fits)
        return self.new_input(a.shape[self.draw(st.integers(0, len(a.shape))) :])

    def _extremum(self, first, pick):
        second = self._extremum_operand(first)
        a, b = self.info[first], self.info[second]
        shape = np.broadcast_shapes(a.shape, b.shape)
        # a broadcast operand that wins everywhere repeats one value: later ops see ties
        tied = a.shape != shape or b.shape != shape
        return [first, second], {}, Node(shape, pick(a.lo, b.lo), pick(a.hi, b.hi), tied)

    def _maximum(self, first):
        return self._extremum(first, max)

    def _minimum(self, first):
        return self._extremum(first, min)

    def _where(self, first):
        second = self._operand("where", first)
        a, b = self.info[first], self.info[second]
        shape = np.broadcast_shapes(a.shape, b.shape)
        mask = [self.draw(st.integers(0, 1)) for _ in range(math.prod(shape))]
        tied = a.tied or b.tied or a.shape != shape or b.shape != shape or first == second
        node = Node(shape, min(a.lo, b.lo), max(a.hi, b.hi), tied)
        return [first, second], {"mask": mask}, node

    def _logsumexp(self, first):
        a = self.info[first]
        attrs, count, shape = self._reduction(a)
        return [first], attrs, Node(shape, a.lo, a.hi + math.log(count), a.tied)

    def _join_operand(self, first, fits_shape, new_shape):
        """An earlier node of a shape that `fits_shape` (maybe `first`), else a new input."""
        fits = [i for i, b in enumerate(self.info) if fits_shape(b.shape)]
        if fits and self.draw(st.booleans()):
            return self._pick(fits)
        return self.new_input(new_shape)

    def _concatenate(self, first):
        a = self.info[first]
        axis = self.draw(st.integers(0, len(a.shape) - 1))
        rest = a.shape[:axis] + a.shape[axis + 1 :]

        def fits(shape):
            return len(shape) == len(a.shape) and shape[:axis] + shape[axis + 1 :] == rest

        size = self.draw(st.integers(1, MAX_DIM))
        second = self._join_operand(first, fits, a.shape[:axis] + (size,) + a.shape[axis + 1 :])
        b = self.info[second]
        shape = a.shape[:axis] + (a.shape[axis] + b.shape[axis],) + a.shape[axis + 1 :]
        tied = a.tied or b.tied or first == second
        return [first, second], {"axis": axis}, Node(shape, min(a.lo, b.lo), max(a.hi, b.hi), tied)

    def _stack(self, first):
        a = self.info[first]
        axis = self.draw(st.integers(0, len(a.shape)))
        second = self._join_operand(first, lambda shape: shape == a.shape, a.shape)
        b = self.info[second]
        shape = a.shape[:axis] + (2,) + a.shape[axis:]
        tied = a.tied or b.tied or first == second
        return [first, second], {"axis": axis}, Node(shape, min(a.lo, b.lo), max(a.hi, b.hi), tied)

    def _einsum(self, first):
        a = self.info[first]
        ndim = len(a.shape)
        spec = self.draw(st.sampled_from(EINSUM_UNARY[ndim] + EINSUM_BINARY[ndim]))
        ins, out = spec.split("->")
        labels = ins.split(",")
        sizes = dict(zip(labels[0], a.shape))
        args, lo, hi = [first], a.lo, a.hi
        if len(labels) == 2:
            shape = tuple(sizes.get(c) or self.draw(st.integers(1, MAX_DIM)) for c in labels[1])
            sizes.update(zip(labels[1], shape))
            second = self._join_operand(first, lambda s: s == shape, shape)
            b = self.info[second]
            args.append(second)
            lo, hi = corners(a, b)
        summed = math.prod(n for c, n in sizes.items() if c not in out)
        lo, hi = summed * lo, summed * hi
        if max(abs(lo), abs(hi)) > MAGNITUDE:
            raise Reject
        shape = tuple(sizes[c] for c in out)
        tied = any(self.info[i].tied for i in args)
        return args, {"spec": spec}, Node(shape, lo, hi, tied)

    def _triangle(self, first):
        a = self.info[first]
        k = self.draw(st.sampled_from(TRIANGLE_OFFSETS))
        # the zeroed triangle ties every value there
        return [first], {"k": k}, Node(a.shape, min(a.lo, 0.0), max(a.hi, 0.0), True)

    _tril = _triangle
    _triu = _triangle


def _broadcasts(a, b):
    try:
        return len(np.broadcast_shapes(a, b)) <= 3
    except ValueError:
        return False
