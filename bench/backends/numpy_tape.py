"""numpy backend: a hand-written forward tape and an iterative reverse sweep.

It differentiates from the registry's `np_vjp` alone, so it is both the floor for an
eager numpy engine (no framework overhead beyond one record per op) and an oracle
independent of dezero. It works at any numpy float dtype, longdouble included.
"""

from functools import partial
from types import SimpleNamespace

import numpy as np

from bench.backends.base import Backend, Prepared, cast
from bench.workloads.ops import OPS, unbroadcast


class _Node:
    """A value on the tape; `slot` indexes its gradient in the reverse sweep."""

    __slots__ = ("value", "slot")

    def __init__(self, value, slot):
        self.value = value
        self.slot = slot


class Tape:
    """Records every op call of one forward pass; `grads` replays the records backwards."""

    def __init__(self):
        self.records = []
        self.size = 0

    @property
    def ops(self) -> SimpleNamespace:
        """The namespace that records onto this tape; built per use, not stored: stored, its
        partials would point back at the tape, a cycle that keeps every recorded array
        alive until the cyclic collector runs (and the next timed call pays for it)."""
        return SimpleNamespace(**{name: partial(self.call, op) for name, op in OPS.items()})

    def leaf(self, value) -> _Node:
        node = _Node(value, self.size)
        self.size += 1
        return node

    def call(self, op, *args: _Node) -> _Node:
        if len(args) == 1:
            node = self.leaf(op.np_forward(args[0].value))
        else:
            node = self.leaf(op.np_forward(*[a.value for a in args]))
        self.records.append((op, args, node))
        return node

    def grads(self, out: _Node, leaves) -> tuple:
        """d out / d leaf for each leaf, by one reverse pass over the records (no recursion)."""
        grads = [None] * self.size
        grads[out.slot] = np.ones_like(out.value)
        for op, args, node in reversed(self.records):
            gy = grads[node.slot]
            if gy is None:
                continue
            grads[node.slot] = None  # free each gradient as soon as it has been propagated
            if len(args) == 1:  # unary ops return gradients at their input's shape already
                (a,) = args
                (gx,) = op.np_vjp(gy, a.value, node.value)
                g = grads[a.slot]
                grads[a.slot] = gx if g is None else g + gx
                continue
            gxs = op.np_vjp(gy, *[a.value for a in args], node.value)
            for a, gx in zip(args, gxs, strict=True):
                gx = unbroadcast(gx, np.shape(a.value))
                g = grads[a.slot]
                grads[a.slot] = gx if g is None else g + gx
        return tuple(
            np.zeros_like(leaf.value) if grads[leaf.slot] is None else grads[leaf.slot]
            for leaf in leaves
        )


class NumpyTape(Backend):
    name = "numpy"
    package = "numpy"

    @property
    def ops(self):
        return SimpleNamespace(**{name: op.np_forward for name, op in OPS.items()})

    def prepare(self, chain, dtype=np.float64):
        ops = self.ops

        def forward(x, params):
            return np.asarray(chain.apply(ops, x, *params))

        def record(x, params):
            tape = Tape()
            leaves = [tape.leaf(x), *map(tape.leaf, params)]
            out = tape.call(OPS["sum"], chain.apply(tape.ops, *leaves))
            return tape, leaves, out

        def value_and_grad(x, params):
            tape, leaves, out = record(x, params)
            return np.asarray(out.value), tape.grads(out, leaves)

        return Prepared(forward, value_and_grad, cast(chain, dtype), record=record)
