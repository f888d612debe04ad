"""The one longdouble tape of validation: records every op call of a forward pass and replays
them in reverse through the ops' numpy vector-Jacobian products.

A tape runs over `rules`, `name -> (forward(*xs, **attrs), vjp(gy, *xs, y, **attrs))`, each
vjp returning one gradient per input at the broadcast shape (summed back once, here). Chains
use the op registry's numpy forms (`CHAIN_RULES`), fuzz programs the op table's
(`validation.fuzz.reference.RULES`). Every rule is written for any numpy dtype, complex
included, so the same tape gives values and gradients at np.longdouble and, fed complex
inputs, the complex step of a gradient.

The tape is deliberately plain and not shared with the numpy backend
(`bench.backends.numpy_tape`): a speed change to a backend must not be able to change what
that backend is checked against.
"""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import numpy as np

from bench.workloads.ops import OPS, unbroadcast

CHAIN_RULES = {name: (op.np_forward, op.np_vjp) for name, op in OPS.items()}


class Value:
    """A value on the tape; `slot` indexes its gradient in the reverse sweep."""

    __slots__ = ("value", "slot")

    def __init__(self, value, slot):
        self.value = value
        self.slot = slot


class Tape:
    """Records one forward pass over `rules`; `grads` replays it.

    `noise`: None, or a rounding (`validation.reference.floor.Rounding`) applied to every op's
    output, and with `round_backward` to every gradient term too: a different but equally
    correct rounding of each result, from which the rounding floor is measured. Chains round
    forward only (their floors are committed with that model); fuzz programs also round
    backward, where gradient terms can cancel (x / x).
    """

    def __init__(self, rules: dict, noise=None, round_backward: bool = False, value_type=Value):
        self.rules = rules
        self.records = []  # (name, input values, attrs, output value), in call order
        self.size = 0
        self.noise = noise
        self.round_backward = round_backward
        self.value_type = value_type  # (value, slot) -> a Value: a namespace's own with operators

    @property
    def ops(self) -> SimpleNamespace:
        """The op namespace that records onto this tape."""
        return SimpleNamespace(**{name: partial(self.call, name) for name in self.rules})

    def leaf(self, value) -> Value:
        self.size += 1
        return self.value_type(np.asarray(value), self.size - 1)

    def call(self, name, *args: Value, **attrs) -> Value:
        forward, _ = self.rules[name]
        y = forward(*[a.value for a in args], **attrs)
        node = self.leaf(y if self.noise is None else self.noise(np.asarray(y)))
        self.records.append((name, args, attrs, node))
        return node

    def grads(self, out: Value, leaves) -> list:
        """d out / d leaf for each leaf, by one reverse pass over the records (no recursion)."""
        grads = self.sweep(reversed(self.records), out)
        return [grads.get(leaf.slot, np.zeros_like(leaf.value)) for leaf in leaves]

    def region(self, out: Value, after: int) -> list:
        """The records `out` depends on whose outputs came after slot `after`, last first:
        all that d out / d (the value at slot `after`) needs."""
        needed, region = {out.slot}, []
        for record in reversed(self.records):
            slot = record[3].slot
            if slot <= after:
                break
            if slot in needed:
                region.append(record)
                needed.update(a.slot for a in record[1])
        return region

    def sweep(self, records, out: Value, values=None) -> dict:
        """Reverse pass over `records` (last first) from d out / d out = 1: slot -> gradient
        of every value reached. `values` (slot -> array) replaces recorded values where given:
        a replay of the records at other inputs (a complex step) is swept the same way."""

        def value(v):
            return v.value if values is None else values.get(v.slot, v.value)

        grads = {out.slot: np.ones_like(value(out))}
        rounded = self.noise if self.round_backward else None
        for name, args, attrs, node in records:
            gy = grads.get(node.slot)
            if gy is None:
                continue
            gxs = self.rules[name][1](gy, *[value(a) for a in args], value(node), **attrs)
            for a, gx in zip(args, gxs, strict=True):
                gx = unbroadcast(gx, np.shape(a.value))
                if rounded is not None:
                    gx = rounded(gx)
                grads[a.slot] = gx if a.slot not in grads else grads[a.slot] + gx
        return grads


def run_chain(chain, dtype, noise=None) -> tuple:
    """(outputs, sum of outputs, [d sum / d x, d sum / d param...]) of `chain` on a fresh tape
    at np.longdouble, inputs rounded to `dtype` first."""
    tape = Tape(CHAIN_RULES, noise)
    leaves = [
        tape.leaf(np.asarray(np.asarray(a, dtype=dtype), dtype=np.longdouble))
        for a in (chain.x, *chain.params)
    ]
    outputs = chain.apply(tape.ops, *leaves)
    out = tape.call("sum", outputs)
    return outputs.value, out.value[()], tape.grads(out, leaves)
