"""Chain compaction: `record_unary` records a stateless one-input op in its output alone,
and folds a chain of such ops that nothing else holds into a `core.Stretch`.

A deep chain then stays a constant number of GC-tracked objects, so recording it starts no
collection and each full collection has little to walk. The stretch is part of the model
(core.Variable rebuilds a node from it on `creator`); this module is what writes it.
`no_compaction()` switches compaction off for a block (dezero.trace reads every node).
"""

import contextlib
import sys

import numpy as np

from dezero.core import Config, Stretch, Variable

_new_object = object.__new__
_getrefcount = sys.getrefcount


class _SoleInputProbe:
    __slots__ = ("_input",)

    def refs(self):
        w = self._input
        return _getrefcount(w)


def _sole_input_refs():
    probe = _SoleInputProbe()
    probe._input = object()
    return probe.refs()


# References to `w = x._input` inside record_unary when x holds the only one (x's slot,
# the local, getrefcount's argument): measured, as an interpreter detail.
_SOLE_INPUT_REFS = _sole_input_refs()


@contextlib.contextmanager
def no_compaction():
    """Record every record_unary node as a Variable until the block ends: dezero.trace
    reads every node back at once, and compacting them only to rebuild each one made a
    trace ~15 % slower. Setting the expected reference count to one no count equals
    switches compaction off without a test in record_unary's hot path."""
    global _SOLE_INPUT_REFS
    saved = _SOLE_INPUT_REFS
    _SOLE_INPUT_REFS = -1
    try:
        yield
    finally:
        _SOLE_INPUT_REFS = saved


def record_unary(cls, x):
    """`cls()(x)` for a stateless one-input built-in with a `ufunc` (sin, exp, ...), recorded
    in the output alone: the Function is made only if someone reads `output.creator`, and
    the sweep runs `cls.vjp` with the class standing in for `self`, so `cls` must keep no
    state (no `__init__`, a vjp that never reads self).

    It also compacts x's input, w, when w was recorded here too and x holds the only
    reference to it: w's array and class go into x's `Stretch`, and w's object, whose
    identity nobody can observe, becomes the output. In `y = F.sin(y)` repeated, every
    node but the last two is compacted: the graph stays a constant number of GC-tracked
    objects, and the forward allocates no GC-tracked object, so it starts no collection."""
    ufunc = cls.ufunc
    if ufunc is None or not isinstance(x, Variable) or type(x.data) is not np.ndarray:
        return cls()(x)
    y = ufunc(x.data, out=...)
    if not Config.enable_backprop:
        output = _new_object(Variable)
        output.data = y
        output.name = None
        output.grad = None
        output._creator = None
        output._input = None
        output.generation = 0
        return output
    w = x._input
    if (
        type(w) is Variable
        and w._input is not None
        and _getrefcount(w) == _SOLE_INPUT_REFS
        and w.grad is None
        and w.name is None
        and w.__weakref__ is None
    ):
        s = w._input
        if type(s) is not Stretch:
            s = Stretch(s, w.generation)
        # (w is the last node of its stretch unless a copy.copy of w extended it first)
        if w.generation - s.generation0 == len(s.datas):
            s.datas.append(w.data)
            s.ops.append(w._creator)
            x._input = s
            output = w  # recycled: one allocation and one free fewer per op
            output.data = y
            output._creator = cls
            output._input = x
            output.generation = x.generation + 1
            return output
    output = _new_object(Variable)
    output.data = y
    output.name = None
    output.grad = None
    output._creator = cls
    output._input = x
    output.generation = x.generation + 1
    return output
